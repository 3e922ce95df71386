package line_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
)

func TestVerify(t *testing.T) {
	body := []byte(`{"destination":"U1","events":[]}`)
	sig := line.Sign(body, line.NewSecret("new-secret"))
	tests := []struct {
		name    string
		body    []byte
		sig     string
		secrets []string
		ok      bool
	}{
		{"match", body, sig, []string{"new-secret"}, true},
		{"rotation: old then new", body, sig, []string{"old-secret", "new-secret"}, true},
		{"wrong secret", body, sig, []string{"old-secret"}, false},
		{"altered body", append([]byte(" "), body...), sig, []string{"new-secret"}, false},
		{"empty signature", body, "", []string{"new-secret"}, false},
		{"not base64", body, "!!!", []string{"new-secret"}, false},
		{"empty secret ignored", body, line.Sign(body, line.NewSecret("")), []string{"", "old-secret"}, false},
	}
	for _, tt := range tests {
		var secrets []line.Secret
		for _, sec := range tt.secrets {
			secrets = append(secrets, line.NewSecret(sec))
		}
		err := line.Verify(tt.body, tt.sig, secrets...)
		if (err == nil) != tt.ok || (!tt.ok && !errors.Is(err, line.ErrInvalidSignature)) {
			t.Errorf("%s: Verify = %v", tt.name, err)
		}
	}
	if err := line.Verify(body, sig); !errors.Is(err, line.ErrInvalidInput) {
		t.Errorf("no secrets: %v", err)
	}
	if err := line.Verify(body, line.Sign(body, line.NewSecret("")), line.NewSecret("")); !errors.Is(err, line.ErrInvalidInput) {
		t.Errorf("only an empty secret: %v", err)
	}
}

func TestParse(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	u := "U0123456789abcdef0123456789abcdef"
	future := map[string]any{"type": "somethingNew", "timestamp": 1, "mode": "active", "webhookEventId": "01H", "deliveryContext": map[string]any{"isRedelivery": true}, "extra": 42}
	body, _ := srv.WebhookBody(srv.FollowEvent(u), srv.TextMessageEvent(u, "こんにちは"), srv.PostbackEvent(u, "a=1"),
		srv.AccountLinkEvent(u, "nonce-1", true), srv.AccountLinkEvent(u, "nonce-2", false), srv.UnfollowEvent(u), linetest.Event(future))
	cb, err := line.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(cb.Events) != 7 || cb.Destination != linetest.BotUserID {
		t.Fatalf("callback = %+v", cb)
	}
	var kinds []string
	seen := map[string]bool{}
	for _, e := range cb.Events {
		b := e.Base()
		if b.WebhookEventID == "" || seen[b.DedupeKey()] {
			t.Errorf("event id %q", b.WebhookEventID)
		}
		seen[b.DedupeKey()] = true
		switch e := e.(type) {
		case *line.FollowEvent:
			kinds = append(kinds, "follow:"+e.Source.UserID)
		case *line.MessageEvent:
			kinds = append(kinds, "message:"+e.MessageType+":"+e.Text)
		case *line.PostbackEvent:
			kinds = append(kinds, "postback:"+e.Data)
		case *line.AccountLinkEvent:
			kinds = append(kinds, "link:"+e.Result+":"+e.Nonce+":"+map[bool]string{true: "reply", false: "noreply"}[e.ReplyToken != ""])
		case *line.UnfollowEvent:
			kinds = append(kinds, "unfollow")
		case *line.UnknownEvent:
			var raw map[string]any
			_ = json.Unmarshal(e.Raw, &raw)
			kinds = append(kinds, "unknown:"+e.Type+":"+map[bool]string{true: "redelivery"}[e.IsRedelivery])
			if raw["extra"] != float64(42) {
				t.Errorf("raw = %s", e.Raw)
			}
		}
	}
	want := []string{"follow:" + u, "message:text:こんにちは", "postback:a=1", "link:ok:nonce-1:reply", "link:failed:nonce-2:noreply", "unfollow", "unknown:somethingNew:redelivery"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// A malformed event does not fail the batch.
	cb, err = line.Parse([]byte(`{"destination":"U1","events":[{"type":"message","message":"oops","webhookEventId":"x"},{"type":"unfollow","webhookEventId":"y"}]}`))
	if err != nil || len(cb.Events) != 2 {
		t.Fatalf("Parse = %+v, %v", cb, err)
	}
	if u, ok := cb.Events[0].(*line.UnknownEvent); !ok || u.Err == nil {
		t.Errorf("event 0 = %#v", cb.Events[0])
	}
	for _, bad := range []string{``, `[]`, `{"destination":"U1"}`} {
		if _, err := line.Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestWebhookHandler(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	var got []string
	h := &line.WebhookHandler{Secrets: []line.Secret{line.NewSecret("previous-secret"), srv.ChannelSecret()}, MaxBody: 4096,
		Handle: func(_ context.Context, cb *line.Callback) error {
			for _, e := range cb.Events {
				got = append(got, e.Base().Type)
			}
			return nil
		}}
	hs := httptest.NewServer(h)
	defer hs.Close()
	ctx := context.Background()

	follow := srv.FollowEvent(linetest.UserID(1))
	resp, err := srv.SendWebhook(ctx, hs.URL, follow, srv.TextMessageEvent(linetest.UserID(1), "hi"))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("signed webhook: %v %v", resp, err)
	}
	resp.Body.Close()
	if diff := cmp.Diff([]string{"follow", "message"}, got); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}

	body, _ := srv.WebhookBody(linetest.Redelivery(follow))
	cb, err := line.Parse(body)
	if err != nil || !cb.Events[0].Base().IsRedelivery || cb.Events[0].Base().DedupeKey() != follow["webhookEventId"] {
		t.Errorf("redelivery = %+v, %v", cb.Events[0].Base(), err)
	}

	post := func(body, sig string) int {
		req, _ := http.NewRequest(http.MethodPost, hs.URL, strings.NewReader(body))
		req.Header.Set(line.SignatureHeader, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	body, sig := srv.WebhookBody()
	if code := post(string(body), sig); code != 200 {
		t.Errorf("empty events (console verify) = %d", code)
	}
	if code := post(string(body), line.Sign(body, line.NewSecret("someone-else"))); code != 401 {
		t.Errorf("bad signature = %d, want 401", code)
	}
	if code := post("not json", line.Sign([]byte("not json"), srv.ChannelSecret())); code != 400 {
		t.Errorf("bad body = %d, want 400", code)
	}
	big := `{"events":[],"pad":"` + strings.Repeat("x", 5000) + `"}`
	if code := post(big, line.Sign([]byte(big), srv.ChannelSecret())); code != 413 {
		t.Errorf("large body = %d, want 413", code)
	}
}

// TestWebhookHandlerDedupe: a replayed body and LINE's redelivery of a
// handled event reach Handle once; an event whose handling failed is
// handled again when LINE redelivers it.
func TestWebhookHandlerDedupe(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	var handled []string
	fail := true
	h := &line.WebhookHandler{Secrets: []line.Secret{srv.ChannelSecret()},
		Handle: func(_ context.Context, cb *line.Callback) error {
			for _, e := range cb.Events {
				if e.Base().Type == "message" && fail {
					fail = false
					return errors.New("database down")
				}
				handled = append(handled, e.Base().Type)
			}
			return nil
		}}
	hs := httptest.NewServer(h)
	defer hs.Close()
	post := func(events ...linetest.Event) int {
		resp, err := srv.SendWebhook(context.Background(), hs.URL, events...)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	follow := srv.FollowEvent(linetest.UserID(1))
	msg := srv.TextMessageEvent(linetest.UserID(1), "hi")
	if code := post(follow); code != 200 {
		t.Fatalf("first delivery = %d", code)
	}
	if code := post(follow); code != 200 {
		t.Fatalf("replay = %d", code)
	}
	if code := post(linetest.Redelivery(follow)); code != 200 {
		t.Fatalf("redelivery = %d", code)
	}
	if code := post(msg); code != 500 {
		t.Fatalf("failing handler = %d, want 500", code)
	}
	if code := post(linetest.Redelivery(msg)); code != 200 {
		t.Fatalf("redelivery after failure = %d", code)
	}
	if diff := cmp.Diff([]string{"follow", "message"}, handled); diff != "" {
		t.Errorf("handled (-want +got):\n%s", diff)
	}
}

func TestMemoryDedupeBounded(t *testing.T) {
	d := line.NewMemoryDedupe(time.Hour, 10)
	ctx := context.Background()
	for i := range 100 {
		if ok, err := d.Claim(ctx, fmt.Sprint(i)); !ok || err != nil {
			t.Fatalf("claim %d: %v %v", i, ok, err)
		}
	}
	if ok, _ := d.Claim(ctx, "99"); ok {
		t.Error("a recent key was claimed twice")
	}
}
