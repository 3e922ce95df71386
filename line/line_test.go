package line_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

func noSleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

func newFake(t *testing.T, opts ...linetest.Option) (*linetest.Server, *line.Client) {
	t.Helper()
	srv := linetest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv, srv.Client(line.WithSleep(noSleep),
		line.WithEndpointLimit(line.EndpointNarrowcast, line.RateLimit{PerSecond: 0}),
		line.WithEndpointLimit(line.EndpointBroadcast, line.RateLimit{PerSecond: 0}),
		line.WithEndpointLimit(line.EndpointAudience, line.RateLimit{PerSecond: 0}),
		line.WithEndpointLimit(line.EndpointAudienceRead, line.RateLimit{PerSecond: 0}))
}

// users returns n well-formed user ids, the first being u1.
func users(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = linetest.UserID(uint64(i + 1))
	}
	return out
}

var u1 = linetest.UserID(1)

func text(s string) []line.Message { return []line.Message{line.TextMessage{Text: s}} }

func received(srv *linetest.Server, id string) []string {
	var out []string
	for _, r := range srv.Messages(id) {
		out = append(out, string(r.Message))
	}
	return out
}

func TestPush(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	u := users(1)[0]
	res, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u, Messages: []line.Message{
		line.TextMessage{Text: "hello"},
		line.StickerMessage{PackageID: "446", StickerID: "1988"},
		line.ImageMessage{OriginalContentURL: "https://example.com/a.jpg", PreviewImageURL: "https://example.com/a_s.jpg"},
		line.FlexMessage{AltText: "card", Contents: []byte(`{"type":"bubble","body":{"type":"box","layout":"vertical","contents":[]}}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || res.RequestID == "" || !line.ValidRetryKey(res.RetryKey) || len(res.SentMessages) != 4 {
		t.Errorf("result = %+v", res)
	}
	want := []string{
		`{"type":"text","text":"hello"}`,
		`{"type":"sticker","packageId":"446","stickerId":"1988"}`,
		`{"type":"image","originalContentUrl":"https://example.com/a.jpg","previewImageUrl":"https://example.com/a_s.jpg"}`,
		`{"type":"flex","altText":"card","contents":{"type":"bubble","body":{"type":"box","layout":"vertical","contents":[]}}}`,
	}
	if diff := cmp.Diff(want, received(srv, u)); diff != "" {
		t.Errorf("inbox (-want +got):\n%s", diff)
	}

	// Same key again: LINE answers 409, reported as a duplicate.
	again, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u, Messages: text("hello"), RetryKey: res.RetryKey})
	if err != nil || !again.Duplicate || again.AcceptedRequestID != res.RequestID {
		t.Fatalf("second push = %+v, %v; want duplicate of %s", again, err, res.RequestID)
	}
	// LINE's 409 for a push repeats the accepted request's sentMessages.
	if diff := cmp.Diff(res.SentMessages, again.SentMessages); diff != "" {
		t.Errorf("duplicate's SentMessages (-first +duplicate):\n%s", diff)
	}
	if n := len(srv.Messages(u)); n != 4 {
		t.Errorf("inbox has %d messages after a duplicate, want 4", n)
	}
	// After 24 hours the key is forgotten.
	srv.Advance(25 * time.Hour)
	third, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u, Messages: text("hello"), RetryKey: res.RetryKey})
	if err != nil || third.Duplicate {
		t.Errorf("push after 25h = %+v, %v", third, err)
	}
}

func TestValidateMessages(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	ok := []line.Message{line.FlexMessage{AltText: "a", Contents: []byte(`{"type":"bubble"}`)}}
	if _, err := c.Messages.Validate(ctx, line.EndpointMulticast, ok); err != nil {
		t.Errorf("valid: %v", err)
	}
	// A message type this package does not model, checked by the server.
	_, err := c.Messages.Validate(ctx, line.EndpointPush, []line.Message{line.RawMessage(`{"type":"hologram"}`)})
	var ae *line.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || len(ae.Details) != 1 || ae.Details[0].Property != "messages[0].type" {
		t.Errorf("invalid: %v", err)
	}
	var ve *line.InputError
	if _, err := c.Messages.Validate(ctx, line.EndpointAudience, ok); !errors.As(err, &ve) || ve.Field != "kind" {
		t.Errorf("bad kind: %v", err)
	}
	if len(srv.Messages(u1)) != 0 {
		t.Error("validation delivered messages")
	}
}

func TestValidation(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	long := strings.Repeat("🍎", 2500) + "a" // 5,001 UTF-16 units
	fine := strings.Repeat("🍎", 2500)       // 5,000
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"no messages", func() error { _, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u1}); return err }, "Messages"},
		{"six messages", func() error {
			_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u1, Messages: append(text("1"), text("2")[0], text("3")[0], text("4")[0], text("5")[0], text("6")[0])})
			return err
		}, "Messages"},
		{"empty text", func() error {
			_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u1, Messages: text("")})
			return err
		}, "Messages[0].Text"},
		{"long text", func() error {
			_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u1, Messages: text(long)})
			return err
		}, "Messages[0].Text"},
		{"no recipient", func() error { _, _, err := c.Messages.Push(ctx, &line.PushRequest{Messages: text("x")}); return err }, "To"},
		{"bad key", func() error {
			_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u1, Messages: text("x"), RetryKey: "order-1"})
			return err
		}, "RetryKey"},
		{"bad unit", func() error {
			_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u1, Messages: text("x"), CustomAggregationUnit: "a-b"})
			return err
		}, "CustomAggregationUnit"},
		{"http image", func() error {
			_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u1, Messages: []line.Message{line.ImageMessage{OriginalContentURL: "http://x/a", PreviewImageURL: "https://x/b"}}})
			return err
		}, "Messages[0].OriginalContentURL"},
		{"flex not a container", func() error {
			_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u1, Messages: []line.Message{line.FlexMessage{AltText: "a", Contents: []byte(`{"type":"box"}`)}}})
			return err
		}, "Messages[0].Contents"},
		{"raw without type", func() error {
			_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u1, Messages: []line.Message{line.RawMessage(`{"text":"x"}`)}})
			return err
		}, "Messages[0].type"},
		{"multicast empty id", func() error {
			_, err := c.Messages.Multicast(ctx, &line.MulticastRequest{To: []string{u1, ""}, Messages: text("x")})
			return err
		}, "To[1]"},
		{"narrowcast empty operator", func() error {
			_, _, err := c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{Messages: text("x"), Recipient: line.OperatorRecipient{}})
			return err
		}, "Recipient"},
		{"audience too many", func() error { _, _, err := c.Audiences.Create(ctx, "a", users(10001)); return err }, "UserIDs"},
		{"audience description", func() error { _, _, err := c.Audiences.Create(ctx, strings.Repeat("x", 121), nil); return err }, "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ve *line.InputError
			if err := tt.call(); !errors.As(err, &ve) || ve.Field != tt.field {
				t.Errorf("err = %v, want a ValidationError on %s", err, tt.field)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
	if _, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u1, Messages: text(fine)}); err != nil {
		t.Errorf("5,000 units: %v", err)
	}
}

// TestUserIDs: the fake answers a malformed user id as LINE does (400, the
// property named in the message); the client passes ids through and
// ValidUserID checks the form.
func TestUserIDs(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	hexy := linetest.UserID(0xabcdef)
	for _, tt := range []struct {
		name string
		call func() error
		prop string
	}{
		{"push", func() error {
			_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: "U1", Messages: text("x")})
			return err
		}, "'to'"},
		{"multicast", func() error {
			_, err := c.Messages.Multicast(ctx, &line.MulticastRequest{To: []string{u1, "U2"}, Messages: text("x")})
			return err
		}, "'to[1]'"},
		{"audience", func() error {
			_, _, err := c.Audiences.Create(ctx, "a", []string{u1, strings.ToUpper(hexy)})
			return err
		}, "'audiences[1].id'"},
	} {
		err := tt.call()
		var ae *line.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || !strings.Contains(ae.Message, tt.prop) {
			t.Errorf("%s: %v; want a 400 naming %s", tt.name, err, tt.prop)
		}
	}
	if got := srv.Recipients(); len(got) != 0 {
		t.Errorf("delivered to %v", got)
	}
	for id, want := range map[string]bool{u1: true, hexy: true, "U1": false, strings.ToUpper(hexy): false, "C" + u1[1:]: false, u1 + "0": false, "": false} {
		if line.ValidUserID(id) != want {
			t.Errorf("ValidUserID(%q) = %v", id, !want)
		}
	}
}

func TestRetryKeyOnlyOnSendEndpoints(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	srv.AddFollowers(users(3)...)
	if _, _, err := c.Messages.Push(ctx, &line.PushRequest{To: users(1)[0], Messages: text("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Messages.Multicast(ctx, &line.MulticastRequest{To: users(3), Messages: text("a")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Messages.Broadcast(ctx, &line.BroadcastRequest{Messages: text("a")}); err != nil {
		t.Fatal(err)
	}
	nc, _, err := c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{Messages: text("a")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Wait(ctx, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Messages.Quota(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Users.Profile(ctx, users(1)[0]); err != nil {
		t.Fatal(err)
	}
	sends := 0
	for _, r := range srv.Requests() {
		switch r.Endpoint {
		case line.EndpointPush, line.EndpointMulticast, line.EndpointNarrowcast, line.EndpointBroadcast:
			sends++
			if !line.ValidRetryKey(r.RetryKey) {
				t.Errorf("%s %s carried key %q", r.Method, r.Path, r.RetryKey)
			}
		default:
			if r.RetryKey != "" {
				t.Errorf("%s %s carried a retry key", r.Method, r.Path)
			}
		}
		if r.Status/100 != 2 {
			t.Errorf("%s %s = %d", r.Method, r.Path, r.Status)
		}
	}
	if sends != 4 {
		t.Errorf("%d send requests, want 4", sends)
	}
}

func TestMulticastChunksAndRerun(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	to := users(1203)
	to = append(to, to[5], to[7]) // duplicates are sent once
	key := line.KeyFrom("campaign", "spring")
	var progress []shopcrm.Progress
	var mu sync.Mutex
	res, err := c.Messages.Multicast(ctx, &line.MulticastRequest{To: to, Messages: text("sale"), RetryKey: key,
		Progress: func(p shopcrm.Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls != 3 || res.Recipients != 1203 || res.Duplicates != 0 {
		t.Errorf("result = calls %d recipients %d duplicates %d", res.Calls, res.Recipients, res.Duplicates)
	}
	if last := progress[len(progress)-1]; last.Chunks != 3 || last.Applied != 1203 || len(progress) != 3 {
		t.Errorf("progress = %+v", progress)
	}
	// Reversed order, same key: every chunk is a duplicate; nothing is sent twice.
	rev := append([]string(nil), to...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	again, err := c.Messages.Multicast(ctx, &line.MulticastRequest{To: rev, Messages: text("sale"), RetryKey: key})
	if err != nil || again.Duplicates != 3 {
		t.Fatalf("rerun = %+v, %v", again, err)
	}
	for _, u := range users(1203) {
		if n := len(srv.Messages(u)); n != 1 {
			t.Fatalf("%s received %d messages", u, n)
		}
	}
	if got := srv.Stats().Ops["multicast"].Accepted; got != 3 {
		t.Errorf("accepted multicasts = %d, want 3", got)
	}
}

func TestMulticastPartialFailureResumes(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	c := srv.Client(line.WithMaxInFlight(1), line.WithRetryPolicy(line.RetryPolicy{}))
	ctx := context.Background()
	req := &line.MulticastRequest{To: users(1200), Messages: text("x"), RetryKey: line.KeyFrom("resume")}
	srv.AddFaults(linetest.Fault{Op: "multicast", Kind: shopcrmtest.FaultNone}, linetest.Fault{Op: "multicast", Kind: shopcrmtest.FaultStatus, Status: 500})
	// A failed chunk does not stop the others.
	res, err := c.Messages.Multicast(ctx, req)
	if err == nil || res.Calls != 3 || res.Chunks[1].Err == nil || res.Chunks[0].Err != nil || res.Chunks[2].Err != nil {
		t.Fatalf("first run = %+v, %v", res, err)
	}
	var ae *line.APIError
	if !errors.As(err, &ae) || ae.Status != 500 || res.Chunks[1].RetryKey == "" {
		t.Errorf("err = %v", err)
	}
	res, err = c.Messages.Multicast(ctx, req)
	if err != nil || res.Duplicates != 2 || res.Calls != 3 {
		t.Fatalf("second run = %+v, %v", res, err)
	}
	for _, u := range users(1200) {
		if n := len(srv.Messages(u)); n != 1 {
			t.Fatalf("%s received %d", u, n)
		}
	}
}

// TestMulticastStopsOnTerminalError sends to 20 chunks with the monthly
// quota used up: after the first quota answer no request starts, and every
// recipient is either in a sent chunk or listed as not sent.
func TestMulticastStopsOnTerminalError(t *testing.T) {
	srv := linetest.NewServer(linetest.WithQuota(0), linetest.WithLatency(20*time.Millisecond))
	defer srv.Close()
	c := srv.Client(line.WithMaxInFlight(4))
	to := users(20 * line.MaxMulticastRecipients)
	res, err := c.Messages.Multicast(context.Background(), &line.MulticastRequest{To: to, Messages: text("x")})
	if !errors.Is(err, line.ErrQuotaExceeded) {
		t.Fatalf("err = %v", err)
	}
	if n := srv.Stats().Ops["multicast"].Requests; n > 4 {
		t.Errorf("%d multicast requests reached the server, want at most the 4 in flight", n)
	}
	sent := 0
	for _, ch := range res.Chunks {
		sent += ch.Recipients
	}
	if sent+len(res.NotSent) != len(to) || res.Progress.NotSent != len(res.NotSent) {
		t.Errorf("sent %d + not sent %d of %d; progress %+v", sent, len(res.NotSent), len(to), res.Progress)
	}
}

func TestRetries(t *testing.T) {
	ctx := context.Background()
	u := users(1)[0]
	for _, f := range []linetest.Fault{{Op: "push", Kind: shopcrmtest.FaultStatus, Status: 500}, {Op: "push", Kind: shopcrmtest.FaultDrop}, {Op: "push", Kind: shopcrmtest.FaultLostResponse}, {Op: "push", Kind: shopcrmtest.FaultRateLimit}} {
		t.Run(f.Kind.String(), func(t *testing.T) {
			srv, c := newFake(t)
			srv.AddFaults(f)
			res, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u, Messages: text("x")})
			if err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != 2 || reqs[0].RetryKey != reqs[1].RetryKey || reqs[0].RetryKey != res.RetryKey {
				t.Errorf("requests = %+v", reqs)
			}
			if wantDup := f.Kind == shopcrmtest.FaultLostResponse; res.Duplicate != wantDup {
				t.Errorf("Duplicate = %v, want %v", res.Duplicate, wantDup)
			}
			if n := len(srv.Messages(u)); n != 1 {
				t.Errorf("delivered %d times", n)
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		srv := linetest.NewServer()
		defer srv.Close()
		c := srv.Client(line.WithSleep(noSleep), line.WithHTTPClient(&http.Client{Timeout: time.Second}))
		srv.AddFaults(linetest.Fault{Op: "push", Kind: shopcrmtest.FaultTimeout})
		res, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u, Messages: text("x")})
		if err != nil || res.Duplicate || len(srv.Messages(u)) != 1 || len(srv.Requests()) != 2 {
			t.Errorf("push = %+v, %v; %d requests", res, err, len(srv.Requests()))
		}
	})
	t.Run("malformed body", func(t *testing.T) {
		srv, c := newFake(t)
		srv.AddFaults(linetest.Fault{Op: "push", Kind: shopcrmtest.FaultMalformed})
		req := &line.PushRequest{To: u, Messages: text("x"), RetryKey: line.KeyFrom("malformed")}
		// The push was done and its answer cut off; the retry key makes
		// sending it again harmless, so the client does, and LINE says
		// it was accepted already.
		res, _, err := c.Messages.Push(ctx, req)
		if err != nil || !res.Duplicate || len(srv.Messages(u)) != 1 || len(srv.Requests()) != 2 {
			t.Errorf("push = %+v, %v; %d requests", res, err, len(srv.Requests()))
		}
	})
	t.Run("narrowcast 429 not retried", func(t *testing.T) {
		srv, c := newFake(t)
		srv.AddFaults(linetest.Fault{Op: "narrowcast", Kind: shopcrmtest.FaultRateLimit})
		_, _, err := c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{Messages: text("x")})
		if !errors.Is(err, line.ErrRateLimited) || errors.Is(err, line.ErrQuotaExceeded) || len(srv.Requests()) != 1 {
			t.Errorf("err = %v after %d requests", err, len(srv.Requests()))
		}
	})
	t.Run("narrowcast 500 retried", func(t *testing.T) {
		srv, c := newFake(t)
		srv.AddFaults(linetest.Fault{Op: "narrowcast", Kind: shopcrmtest.FaultStatus, Status: 500})
		if _, _, err := c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{Messages: text("x")}); err != nil || len(srv.Requests()) != 2 {
			t.Errorf("err = %v after %d requests", err, len(srv.Requests()))
		}
	})
	t.Run("400 not retried", func(t *testing.T) {
		srv, c := newFake(t)
		_, _, err := c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{Messages: text("x"), Recipient: line.AudienceRecipient{AudienceGroupID: 42}})
		var ae *line.APIError
		if !errors.As(err, &ae) || ae.Status != 400 || len(ae.Details) != 1 || ae.Details[0].Property != "recipient.audienceGroupId" || len(srv.Requests()) != 1 {
			t.Errorf("err = %#v", err)
		}
		if ae != nil && ae.RequestID == "" {
			t.Error("no request id")
		}
	})
}

func TestGateHonoursContext(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	c := srv.Client() // default narrowcast gate: a burst of 5, then one a minute
	srv.AddFollowers(users(1)...)
	for i := 0; i < 5; i++ {
		if _, _, err := c.Messages.Narrowcast(context.Background(), &line.NarrowcastRequest{Messages: text("x")}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{Messages: text("x")})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Errorf("sixth narrowcast = %v after %v; want a deadline error at once", err, time.Since(start))
	}
	if got := srv.Stats().Ops["narrowcast"].Accepted; got != 5 {
		t.Errorf("accepted %d narrowcasts", got)
	}
}

// TestHourlyWindow: a gate of 60 an hour with a burst of 100 (a token
// bucket would let 100 + 60 through the first hour) never lets a 61st
// request into the hour; the fake, counting 60 an hour as LINE does,
// throttles nothing.
func TestHourlyWindow(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	c := srv.Client(line.WithEndpointLimit(line.EndpointBroadcast, line.RateLimit{PerSecond: 60.0 / 3600, Burst: 100}))
	srv.AddFollowers(u1)
	ctx := context.Background()
	for i := range 60 {
		if _, _, err := c.Messages.Broadcast(ctx, &line.BroadcastRequest{Messages: text("x")}); err != nil {
			t.Fatalf("broadcast %d: %v", i+1, err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, err := c.Messages.Broadcast(short, &line.BroadcastRequest{Messages: text("x")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("61st broadcast in the hour = %v; want the gate to hold it", err)
	}
	if st := srv.Stats().Ops["broadcast"]; st.Requests != 60 || st.Throttled != 0 {
		t.Errorf("the fake saw %+v", st)
	}
	for e, w := range map[line.Endpoint]time.Duration{line.EndpointNarrowcast: time.Hour, line.EndpointBroadcast: time.Hour,
		line.EndpointAudience: time.Minute, line.EndpointAudienceRead: time.Minute, line.EndpointMulticast: 0} {
		if e.Window() != w {
			t.Errorf("%s window = %v, want %v", e, e.Window(), w)
		}
	}
}

func TestQuotaExceeded(t *testing.T) {
	srv, c := newFake(t, linetest.WithQuota(3))
	ctx := context.Background()
	if _, err := c.Messages.Multicast(ctx, &line.MulticastRequest{To: users(3), Messages: text("a")}); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: users(1)[0], Messages: text("b")})
	if !errors.Is(err, line.ErrQuotaExceeded) || errors.Is(err, line.ErrRateLimited) {
		t.Fatalf("err = %v; want quota exceeded and not rate limited", err)
	}
	var ae *line.APIError
	if !errors.As(err, &ae) || ae.Message != "You have reached your monthly limit." {
		t.Errorf("err = %#v", err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests: a quota 429 must not be retried", n)
	}
	q, _, err := c.Messages.Quota(ctx)
	if err != nil || q.Type != "limited" || q.Value == nil || *q.Value != 3 {
		t.Errorf("quota = %+v, %v", q, err)
	}
	if used, _, err := c.Messages.Consumption(ctx); err != nil || used != 3 {
		t.Errorf("consumption = %d, %v", used, err)
	}
	// A new month (in Japan time) resets the usage.
	now := srv.Now().In(time.FixedZone("JST", 9*3600))
	srv.SetNow(time.Date(now.Year(), now.Month()+1, 1, 0, 0, 1, 0, now.Location()))
	if _, _, err := c.Messages.Push(ctx, &line.PushRequest{To: users(1)[0], Messages: text("b")}); err != nil {
		t.Errorf("push in a new month: %v", err)
	}
}

func TestNarrowcast(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	all := users(120)
	srv.AddFollowers(all...)
	g, _, err := c.Audiences.Create(ctx, "vip", all[:60])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Audiences.WaitReady(ctx, g.AudienceGroupID, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	g2, _, err := c.Audiences.Create(ctx, "recent", all[50:110])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Audiences.WaitReady(ctx, g2.AudienceGroupID, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	max := int32(40)
	f := line.AllOf(line.AgeFilter("age_20", ""), line.NoneOf(line.GenderFilter("male")))
	if want := `{"and":[{"gte":"age_20","type":"age"},{"not":{"oneOf":["male"],"type":"gender"},"type":"operator"}],"type":"operator"}`; string(f) != want {
		t.Errorf("filter = %s, want %s", f, want)
	}
	res, _, err := c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{
		Messages:  text("hi"),
		Recipient: line.And(line.AudienceRecipient{AudienceGroupID: g.AudienceGroupID}, line.Not(line.AudienceRecipient{AudienceGroupID: g2.AudienceGroupID})),
		Limit:     &line.NarrowcastLimit{Max: &max},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := res.Wait(ctx, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if p.Phase != line.PhaseSucceeded || *p.SuccessCount != 40 || p.CompletedTime == nil {
		t.Errorf("progress = %+v", p)
	}
	if diff := cmp.Diff(all[:40], srv.Recipients()); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}

	srv.FailNextNarrowcast(2, "not enough recipients")
	res, _, err = c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{Messages: text("again"), Recipient: line.RedeliveryRecipient{RequestID: res.RequestID}})
	if err != nil {
		t.Fatal(err)
	}
	p, err = c.Messages.WaitNarrowcast(ctx, res.RequestID, time.Millisecond)
	var ne *line.NarrowcastError
	if !errors.As(err, &ne) || ne.ErrorCode != 2 || p.Phase != line.PhaseFailed {
		t.Errorf("wait = %+v, %v", p, err)
	}
}

// TestNarrowcastRetryAlreadyAccepted: the first attempt of a narrowcast is
// accepted but its answer lost; the retry, with the same key, is accepted
// too and then fails with error code 3. Wait reports a duplicate of the
// first request, named, with the first request's progress, not a failure.
func TestNarrowcastRetryAlreadyAccepted(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	srv.AddFollowers(users(3)...)
	srv.AddFaults(linetest.Fault{Op: "narrowcast", Kind: shopcrmtest.FaultLostResponse})
	res, _, err := c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{Messages: text("once")})
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].RetryKey != reqs[1].RetryKey || reqs[1].RequestID != res.RequestID || res.Duplicate {
		t.Fatalf("requests = %+v, result %+v", reqs, res.SendResult)
	}
	original := reqs[0].RequestID

	// Asked by request id alone, the retry is a duplicate, not an error.
	p, err := c.Messages.WaitNarrowcast(ctx, res.RequestID, time.Millisecond)
	if err != nil || !p.Duplicate || p.ErrorCode == nil || *p.ErrorCode != 3 || p.RequestID != res.RequestID {
		t.Fatalf("WaitNarrowcast = %+v, %v", p, err)
	}

	p, err = res.Wait(ctx, time.Millisecond)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if !p.Duplicate || p.AcceptedRequestID != original || p.RequestID != original || p.Phase != line.PhaseSucceeded || *p.SuccessCount != 3 {
		t.Errorf("progress = %+v; want the original %s's success, marked duplicate", p, original)
	}
	if !res.Duplicate || res.AcceptedRequestID != original || res.ProgressID() != original {
		t.Errorf("result = %+v", res.SendResult)
	}
	for _, u := range users(3) {
		if n := len(srv.Messages(u)); n != 1 {
			t.Errorf("%s received %d messages", u, n)
		}
	}
}

// TestNarrowcastSmallAudience: LINE accepts a narrowcast including an
// audience of fewer than 50 recipients and then fails it with error code 4;
// the fake does so by default, and Wait reports a *NarrowcastError.
func TestNarrowcastSmallAudience(t *testing.T) {
	srv, c := newFake(t)
	all := users(60)
	srv.AddFollowers(all...)
	small, fifty := readyAudience(t, c, "forty-nine", all[:49]), readyAudience(t, c, "fifty", all[:50])
	for name, r := range map[string]line.Recipient{
		"alone":          line.AudienceRecipient{AudienceGroupID: small},
		"in an operator": line.And(line.AudienceRecipient{AudienceGroupID: fifty}, line.Not(line.AudienceRecipient{AudienceGroupID: small})),
	} {
		p, err := narrowcastAndWait(t, c, r)
		var ne *line.NarrowcastError
		if !errors.As(err, &ne) || ne.ErrorCode != line.NarrowcastAudienceTooSmall || ne.RequestID == "" || p.Phase != line.PhaseFailed {
			t.Errorf("%s: %+v, %v", name, p, err)
		}
	}
	if n := len(srv.Recipients()); n != 0 {
		t.Errorf("%d users received a failed narrowcast", n)
	}
	if p, err := narrowcastAndWait(t, c, line.AudienceRecipient{AudienceGroupID: fifty}); err != nil || *p.SuccessCount != 50 {
		t.Errorf("50 recipients: %+v, %v", p, err)
	}

	relaxed, rc := newFake(t, linetest.WithMinNarrowcastAudience(0))
	relaxed.AddFollowers(all[:3]...)
	three := readyAudience(t, rc, "three", all[:3])
	if p, err := narrowcastAndWait(t, rc, line.AudienceRecipient{AudienceGroupID: three}); err != nil || *p.SuccessCount != 3 {
		t.Errorf("minimum off: %+v, %v", p, err)
	}
}

// readyAudience creates an audience of ids and waits until it is ready.
func readyAudience(t *testing.T, c *line.Client, name string, ids []string) int64 {
	t.Helper()
	ctx := context.Background()
	g, _, err := c.Audiences.Create(ctx, name, ids)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Audiences.WaitReady(ctx, g.AudienceGroupID, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return g.AudienceGroupID
}

// narrowcastAndWait narrowcasts to r, which LINE must accept with 202, and
// waits for the outcome.
func narrowcastAndWait(t *testing.T, c *line.Client, r line.Recipient) (*line.NarrowcastProgress, error) {
	t.Helper()
	ctx := context.Background()
	res, resp, err := c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{Messages: text("hi"), Recipient: r})
	if err != nil || resp.Status != http.StatusAccepted {
		t.Fatalf("narrowcast = %v, %v", resp, err)
	}
	return res.Wait(ctx, time.Millisecond)
}

func TestNarrowcastUpToRemainingQuota(t *testing.T) {
	srv, c := newFake(t, linetest.WithQuota(3))
	ctx := context.Background()
	srv.AddFollowers(users(5)...)
	yes := true
	res, _, err := c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{Messages: text("x"), Limit: &line.NarrowcastLimit{UpToRemainingQuota: &yes, ForbidPartialDelivery: &yes}})
	if err != nil {
		t.Fatal(err)
	}
	var ne *line.NarrowcastError
	if _, err := res.Wait(ctx, time.Millisecond); !errors.As(err, &ne) || ne.ErrorCode != 5 {
		t.Errorf("forbidden partial delivery: %v", err)
	}
	res, _, err = c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{Messages: text("x"), Limit: &line.NarrowcastLimit{UpToRemainingQuota: &yes}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := res.Wait(ctx, time.Millisecond)
	if err != nil || *p.SuccessCount != 3 || len(srv.Recipients()) != 3 {
		t.Errorf("partial delivery = %+v, %v, %d recipients", p, err, len(srv.Recipients()))
	}
	var ve *line.InputError
	no := false
	if _, _, err := c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{Messages: text("x"), Limit: &line.NarrowcastLimit{UpToRemainingQuota: &no, ForbidPartialDelivery: &yes}}); !errors.As(err, &ve) {
		t.Errorf("forbid without up-to-quota: %v", err)
	}
}

func TestAudiences(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	ids := users(25000)
	// The old group (id 1) does not exist; Replace leaves it alone until Commit.
	rep, err := c.Audiences.Replace(ctx, 1, "segment v1", ids)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Commit(ctx); err != nil {
		t.Errorf("commit with a missing old group: %v", err)
	}
	d, _, err := c.Audiences.Get(ctx, rep.NewID)
	if err != nil || d.AudienceGroup.Status != "IN_PROGRESS" || len(d.Jobs) != 3 || d.Ready() {
		t.Errorf("audience = %+v, %v", d, err)
	}
	g, err := c.Audiences.WaitReady(ctx, rep.NewID, time.Millisecond)
	if err != nil || g.AudienceCount != 25000 {
		t.Fatalf("ready = %+v, %v", g, err)
	}
	if members, ok := srv.AudienceMembers(rep.NewID); !ok || len(members) != 25000 {
		t.Fatalf("members = %d", len(members))
	}
	if _, err := c.Audiences.Rename(ctx, rep.NewID, "segment v2"); err != nil {
		t.Fatal(err)
	}
	file, _, err := c.Audiences.CreateFromFile(ctx, "from file", strings.NewReader(strings.Join(ids[:100], "\n")+"\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Audiences.AddFromFile(ctx, file.AudienceGroupID, strings.NewReader(strings.Join(ids[100:150], "\r\n"))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Audiences.WaitReady(ctx, file.AudienceGroupID, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if m, _ := srv.AudienceMembers(file.AudienceGroupID); !cmp.Equal(m, ids[:150]) {
		t.Errorf("file audience has %d members", len(m))
	}
	var names []string
	for g, err := range c.Audiences.List(ctx, line.AudienceFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, g.Description)
	}
	if diff := cmp.Diff([]string{"segment v2", "from file"}, names); diff != "" {
		t.Errorf("audiences (-want +got):\n%s", diff)
	}
	if _, err := c.Audiences.Delete(ctx, rep.NewID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Audiences.Get(ctx, rep.NewID); !errors.Is(err, line.ErrNotFound) {
		t.Errorf("deleted audience: %v", err)
	}
	for _, r := range srv.Requests() {
		if r.Path == "/v2/bot/audienceGroup/upload/byFile" && r.Status != 202 {
			t.Errorf("byFile status %d", r.Status)
		}
	}
}

// TestAudienceJobs: uploads are jobs (QUEUED, WORKING, FINISHED or FAILED);
// WaitReady returns only when the group is READY and no job is still
// running, and reports a failed job as an *AudienceError; more running jobs
// than LINE allows per audience are answered 429.
func TestAudienceJobs(t *testing.T) {
	srv, c := newFake(t, linetest.WithAudienceJobs(2))
	ctx := context.Background()
	ids := users(80)
	g, _, err := c.Audiences.Create(ctx, "jobs", ids[:60])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Audiences.WaitReady(ctx, g.AudienceGroupID, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// The group is READY while the job adding ten more users runs.
	if err := c.Audiences.Add(ctx, g.AudienceGroupID, ids[60:70]); err != nil {
		t.Fatal(err)
	}
	d, _, err := c.Audiences.Get(ctx, g.AudienceGroupID)
	if err != nil || d.AudienceGroup.Status != line.AudienceReady || d.Ready() || d.Jobs[1].JobStatus != line.JobQueued {
		t.Fatalf("after Add: %+v, %v", d, err)
	}
	ready, err := c.Audiences.WaitReady(ctx, g.AudienceGroupID, time.Millisecond)
	if err != nil || ready.AudienceCount != 70 {
		t.Fatalf("WaitReady = %+v, %v", ready, err)
	}
	if m, _ := srv.AudienceMembers(g.AudienceGroupID); len(m) != 70 {
		t.Errorf("WaitReady returned with %d of 70 members in the audience", len(m))
	}

	// A failed job is a typed error naming it.
	srv.FailNextAudienceJob("INTERNAL_ERROR")
	if err := c.Audiences.Add(ctx, g.AudienceGroupID, ids[70:75]); err != nil {
		t.Fatal(err)
	}
	_, err = c.Audiences.WaitReady(ctx, g.AudienceGroupID, time.Millisecond)
	var ae *line.AudienceError
	if !errors.As(err, &ae) || ae.AudienceGroupID != g.AudienceGroupID || ae.JobID == 0 || ae.FailedType != "INTERNAL_ERROR" {
		t.Errorf("failed job: %v", err)
	}
	if m, _ := srv.AudienceMembers(g.AudienceGroupID); len(m) != 70 {
		t.Errorf("a failed job added users: %d members", len(m))
	}
	srv.FailNextAudienceJob("AUDIENCE_GROUP_AUDIENCE_INSUFFICIENT")
	f, _, err := c.Audiences.Create(ctx, "fails", ids[:60])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Audiences.WaitReady(ctx, f.AudienceGroupID, time.Millisecond); !errors.As(err, &ae) || ae.JobID != 0 ||
		ae.FailedType != "AUDIENCE_GROUP_AUDIENCE_INSUFFICIENT" {
		t.Errorf("failed group: %v", err)
	}

	// Two jobs running on one audience: a third upload is answered 429.
	h, _, err := c.Audiences.Create(ctx, "busy", ids[:60])
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Audiences.Add(ctx, h.AudienceGroupID, ids[60:65]); err != nil {
		t.Fatal(err)
	}
	err = c.Audiences.Add(ctx, h.AudienceGroupID, ids[65:70])
	var api *line.APIError
	if !errors.Is(err, line.ErrRateLimited) || !errors.As(err, &api) || api.Status != http.StatusTooManyRequests || api.Message == "" {
		t.Fatalf("third job: %v", err)
	}
	if n := srv.Stats().Ops["audience"].Throttled; n != 1 {
		t.Errorf("throttled %d audience uploads, want 1", n)
	}
	srv.Advance(linetest.DefaultAudienceJobDuration) // the jobs finish by the clock
	if err := c.Audiences.Add(ctx, h.AudienceGroupID, ids[65:70]); err != nil {
		t.Errorf("after the jobs finished: %v", err)
	}
}

// TestAudienceReadsPaced: audience reads are in LINE's 60-a-minute tier,
// gated apart from the 2,000/s endpoints.
func TestAudienceReadsPaced(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	c := srv.Client()
	if l := c.EndpointLimit(line.EndpointAudienceRead); l.PerSecond != 1 {
		t.Errorf("audience read gate = %+v, want 1/s", l)
	}
	ctx := context.Background()
	g, _, err := c.Audiences.Create(ctx, "paced", users(1))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < line.DefaultLimits()[line.EndpointAudienceRead].Burst; i++ {
		if _, _, err := c.Audiences.Get(ctx, g.AudienceGroupID); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, err := c.Audiences.Get(short, g.AudienceGroupID); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("read past the burst = %v; want the gate to hold it", err)
	}
	if _, _, err := c.Messages.Quota(short); err != nil {
		t.Errorf("other endpoints share the audience gate: %v", err)
	}
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/v2/bot/audienceGroup/") && r.Endpoint != line.EndpointAudienceRead {
			t.Errorf("%s %s counted as %s", r.Method, r.Path, r.Endpoint)
		}
	}
}

func TestFollowersProfileLink(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	srv.AddFollowers(users(2345)...)
	srv.SetProfile(line.Profile{UserID: users(1)[0], DisplayName: "Taro", Language: "ja"})
	var got []string
	for id, err := range c.Users.Followers(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	if diff := cmp.Diff(users(2345), got); diff != "" {
		t.Errorf("followers (-want +got):\n%s", diff)
	}
	p, _, err := c.Users.Profile(ctx, users(1)[0])
	if diff := cmp.Diff(&line.Profile{UserID: users(1)[0], DisplayName: "Taro", Language: "ja"}, p); err != nil || diff != "" {
		t.Errorf("profile %v (-want +got):\n%s", err, diff)
	}
	if _, _, err := c.Users.Profile(ctx, linetest.UserID(1<<40)); !errors.Is(err, line.ErrNotFound) {
		t.Errorf("unknown profile: %v", err)
	}
	tok, _, err := c.Users.IssueLinkToken(ctx, users(1)[0])
	if err != nil || tok == "" {
		t.Fatal(tok, err)
	}
	const nonce = "3Fk9dJ2pQmT8sLx1vB7cZw"
	u, err := line.AccountLinkURL("", tok, nonce)
	if err != nil || u != line.DefaultAccountLinkURL+"?linkToken="+tok+"&nonce="+nonce {
		t.Errorf("url = %s, %v", u, err)
	}
	// LINE takes nonces of 10 to 255 characters.
	for _, n := range []string{"", "n0nce", strings.Repeat("a", 9), strings.Repeat("é", 256)} {
		var ie *line.InputError
		if _, err := line.AccountLinkURL("", tok, n); !errors.As(err, &ie) || ie.Field != "nonce" {
			t.Errorf("nonce of %d characters: %v", len([]rune(n)), err)
		}
	}
	if _, err := line.AccountLinkURL("", tok, strings.Repeat("é", 255)); err != nil {
		t.Errorf("nonce of 255 characters: %v", err)
	}
}

func TestTokenIssuer(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	iss := srv.TokenIssuer(line.Stateless)
	c, err := line.New(iss, line.WithBaseURL(srv.URL()), line.WithDataURL(srv.URL()), line.WithSleep(noSleep))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Messages.Quota(ctx); err != nil {
		t.Fatal(err)
	}
	t1, _ := iss.Token(ctx)
	if _, _, err := c.Messages.Quota(ctx); err != nil {
		t.Fatal(err)
	}
	t2, _ := iss.Token(ctx)
	if t1.Reveal() != t2.Reveal() {
		t.Error("token not cached")
	}
	srv.Advance(14 * time.Minute) // within the refresh margin of a 15-minute token
	if _, _, err := c.Messages.Quota(ctx); err != nil {
		t.Fatal(err)
	}
	t3, _ := iss.Token(ctx)
	if t3.Reveal() == t1.Reveal() {
		t.Error("token not refreshed before expiry")
	}
	issued := 0
	for _, r := range srv.Requests() {
		if r.Path == "/oauth2/v3/token" {
			issued++
		}
	}
	if issued != 2 {
		t.Errorf("issued %d tokens, want 2", issued)
	}

	short := srv.TokenIssuer(line.ShortLived)
	sc, _ := line.New(short, line.WithBaseURL(srv.URL()), line.WithDataURL(srv.URL()))
	if _, _, err := sc.Messages.Quota(ctx); err != nil {
		t.Fatal(err)
	}
	old, _ := short.Token(ctx)
	if err := short.Revoke(ctx); err != nil {
		t.Fatal(err)
	}
	stale, _ := line.New(line.StaticToken(old.Reveal()), line.WithBaseURL(srv.URL()))
	if _, _, err := stale.Messages.Quota(ctx); !errors.Is(err, line.ErrUnauthorized) {
		t.Errorf("revoked token still works: %v", err)
	}
	if _, _, err := sc.Messages.Quota(ctx); err != nil {
		t.Errorf("after revoke, a new token: %v", err)
	}
	bad, _ := line.NewTokenIssuer(line.ShortLived, srv.ChannelID(), line.NewSecret("wrong-secret-value"), line.WithTokenBaseURL(srv.URL()))
	_, err = bad.Token(ctx)
	var ae *line.APIError
	if !errors.As(err, &ae) || ae.Code != "invalid_client" || strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("err = %v", err)
	}
	if s := fmt.Sprintf("%v %+v %#v", bad, bad, bad); strings.Contains(s, "wrong-secret-value") {
		t.Errorf("issuer prints its secret: %s", s)
	}
}

// TestTokenIssuerWithoutExpiry: an answer without a positive expires_in
// makes the issuer use the kind's documented lifetime, not issue a token
// per call.
func TestTokenIssuerWithoutExpiry(t *testing.T) {
	for _, body := range []string{`{"access_token":"tok-%d","token_type":"Bearer","expires_in":0}`, `{"access_token":"tok-%d","token_type":"Bearer"}`} {
		var issued atomic.Int32
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := issued.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, body, n)
		}))
		now := time.Now()
		iss, err := line.NewTokenIssuer(line.ShortLived, "1234567890", line.NewSecret("channel-secret"), line.WithTokenBaseURL(hs.URL),
			line.WithTokenClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if tok, err := iss.Token(context.Background()); err != nil || tok.Reveal() != "tok-1" {
				t.Errorf("%s: token %v, %v", body, tok.Reveal(), err)
			}
		}
		now = now.Add(line.ShortLivedLifetime - 10*time.Minute) // still well before the documented expiry
		if tok, _ := iss.Token(context.Background()); tok.Reveal() != "tok-1" || issued.Load() != 1 {
			t.Errorf("%s: %d tokens issued", body, issued.Load())
		}
		now = now.Add(6 * time.Minute) // within the margin
		if tok, _ := iss.Token(context.Background()); tok.Reveal() != "tok-2" {
			t.Errorf("%s: not replaced near the documented expiry", body)
		}
		hs.Close()
	}
}

// memStore is a TokenStore in memory, standing for a file or a database
// shared by processes.
type memStore struct {
	mu    sync.Mutex
	tok   line.IssuedToken
	saves int
}

func (m *memStore) Load(context.Context) (line.IssuedToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok, nil
}

func (m *memStore) Save(_ context.Context, t line.IssuedToken) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tok = t
	m.saves++
	return nil
}

// TestTokenIssuerSharedStore: processes sharing a store share one
// short-lived token until it nears expiry, instead of issuing one each.
func TestTokenIssuerSharedStore(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	store := &memStore{}
	issuers := []*line.TokenIssuer{srv.TokenIssuer(line.ShortLived, line.WithTokenStore(store)), srv.TokenIssuer(line.ShortLived, line.WithTokenStore(store))}
	issued := func() int {
		n := 0
		for _, r := range srv.Requests() {
			if r.Path == "/v2/oauth/accessToken" {
				n++
			}
		}
		return n
	}
	var toks []string
	for _, iss := range issuers {
		c, err := line.New(iss, line.WithBaseURL(srv.URL()))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Messages.Quota(ctx); err != nil {
			t.Fatal(err)
		}
		tok, _ := iss.Token(ctx)
		toks = append(toks, tok.Reveal())
	}
	if toks[0] != toks[1] || issued() != 1 {
		t.Errorf("two processes: tokens %v, %d issued; want one shared", toks, issued())
	}
	srv.Advance(line.ShortLivedLifetime - time.Minute) // within the refresh margin
	fresh, _ := issuers[1].Token(ctx)
	again, _ := issuers[0].Token(ctx)
	if fresh.Reveal() == toks[0] || again.Reveal() != fresh.Reveal() || issued() != 2 {
		t.Errorf("near expiry: %d issued, shared = %v", issued(), again.Reveal() == fresh.Reveal())
	}
	if err := issuers[0].Revoke(ctx); err != nil || !store.tok.Token.IsZero() {
		t.Errorf("revoke: %v, store still holds a token", err)
	}
}

// rotating is a caller-written TokenSource.
type rotating struct {
	mu   sync.Mutex
	toks []string
	n    int
}

func (r *rotating) Token(context.Context) (line.Secret, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return line.NewSecret(r.toks[0]), nil
}

func TestHostsAndUserAgent(t *testing.T) {
	type hit struct{ host, method, path, ua, ctype string }
	var mu sync.Mutex
	var hits []hit
	rec := func(host string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			mu.Lock()
			ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
			hits = append(hits, hit{host, r.Method, r.URL.Path, r.Header.Get("User-Agent"), ct})
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			io.WriteString(w, `{"audienceGroupId":1,"type":"none"}`)
		}))
	}
	api, data := rec("api"), rec("data")
	defer api.Close()
	defer data.Close()
	c, err := line.New(line.StaticToken("tok-123456"), line.WithBaseURL(api.URL+"/"), line.WithDataURL(data.URL), line.WithUserAgentSuffix("shop/1.2"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := c.Audiences.CreateFromFile(ctx, "f", strings.NewReader(u1+"\n")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Audiences.Create(ctx, "j", []string{u1}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Messages.Quota(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range hits {
		if !strings.HasPrefix(hits[i].ua, "shopcrm/") || !strings.HasSuffix(hits[i].ua, " shop/1.2") {
			t.Errorf("User-Agent %q", hits[i].ua)
		}
		hits[i].ua = ""
	}
	want := []hit{
		{"data", "POST", "/v2/bot/audienceGroup/upload/byFile", "", "multipart/form-data"},
		{"api", "POST", "/v2/bot/audienceGroup/upload", "", "application/json"},
		{"api", "GET", "/v2/bot/message/quota", "", ""},
	}
	if diff := cmp.Diff(want, hits, cmp.AllowUnexported(hit{})); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestCustomTokenSource(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	src := &rotating{toks: []string{srv.Token()}}
	c, err := line.New(src, line.WithBaseURL(srv.URL()), line.WithDataURL(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Messages.Quota(context.Background()); err != nil || src.n != 1 {
		t.Errorf("quota: %v, %d token reads", err, src.n)
	}
	if _, err := line.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	if _, err := line.New(src, line.WithBaseURL("not a url")); err == nil {
		t.Error("relative base URL accepted")
	}
}

// TestStaticTokenChecked: New refuses a static token LINE would refuse at
// every call, without showing it.
func TestStaticTokenChecked(t *testing.T) {
	for _, tok := range []string{"", "   ", "very-secret-token-42\n", "very-secret\ttoken"} {
		c, err := line.New(line.StaticToken(tok))
		var ie *line.InputError
		if c != nil || !errors.As(err, &ie) || ie.Field != "tokens" || !errors.Is(err, line.ErrInvalidInput) {
			t.Errorf("New(StaticToken(%q)) = %v, %v", tok, c, err)
		}
		if err != nil && strings.Contains(err.Error(), "very-secret") {
			t.Errorf("the error shows the token: %v", err)
		}
	}
	if _, err := line.New(line.StaticToken("very-secret-token-42")); err != nil {
		t.Errorf("a good token: %v", err)
	}
	if s := fmt.Sprintf("%v %+v %#v", line.StaticToken("very-secret-token-42"), line.StaticToken("very-secret-token-42"), line.StaticToken("very-secret-token-42")); strings.Contains(s, "very-secret") {
		t.Errorf("StaticToken prints its token: %s", s)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	var logs bytes.Buffer
	srv := linetest.NewServer(linetest.WithToken("super-secret-token-123"))
	defer srv.Close()
	c := srv.Client(line.WithSleep(noSleep), line.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	srv.AddFaults(linetest.Fault{Op: "push", Kind: shopcrmtest.FaultStatus, Status: 500})
	if _, _, err := c.Messages.Push(context.Background(), &line.PushRequest{To: u1, Messages: text("x")}); err != nil {
		t.Fatal(err)
	}
	bad, _ := line.New(line.StaticToken("super-secret-token-456"), line.WithBaseURL(srv.URL()), line.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	_, _, err := bad.Messages.Quota(context.Background())
	if !errors.Is(err, line.ErrUnauthorized) {
		t.Errorf("err = %v", err)
	}
	var ae *line.APIError
	errors.As(err, &ae)
	all := fmt.Sprintf("%v %+v %#v %s %v %+v %#v", c, c, c, logs.String(), err, ae, ae)
	for _, s := range []string{"super-secret-token-123", "super-secret-token-456"} {
		if strings.Contains(all, s) {
			t.Errorf("%s printed:\n%s", s, all)
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("no retry logged:\n%s", logs.String())
	}
}

func TestConcurrentSendsOneClient(t *testing.T) {
	srv, c := newFake(t)
	ctx := context.Background()
	ids := users(200)
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for i, u := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _, err := c.Messages.Push(ctx, &line.PushRequest{To: u, Messages: text(fmt.Sprint("msg ", i))})
			if err == nil && res.Duplicate {
				err = fmt.Errorf("push %d reported a duplicate", i)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i, u := range ids {
		got := received(srv, u)
		if want := []string{fmt.Sprintf(`{"type":"text","text":"msg %d"}`, i)}; !cmp.Equal(want, got) {
			t.Errorf("%s got %v", u, got)
		}
	}
}

// TestChaos sends through seeded faults, including responses lost after the
// server acted, and checks every user gets each message exactly once, also
// when the whole send is run again.
func TestChaos(t *testing.T) {
	ctx := context.Background()
	ids := users(4321)
	srv := linetest.NewServer(linetest.WithChaos(7, 0.4, shopcrmtest.FaultStatus, shopcrmtest.FaultDrop, shopcrmtest.FaultLostResponse, shopcrmtest.FaultRateLimit))
	defer srv.Close()
	c2 := srv.Client(line.WithSleep(noSleep), line.WithRetryPolicy(line.RetryPolicy{MaxRetries: 20, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxWait: time.Second}))
	key := line.KeyFrom("chaos")
	msgs := []line.Message{line.TextMessage{Text: "one"}, line.TextMessage{Text: "two"}}
	for run := 0; run < 2; run++ {
		res, err := c2.Messages.Multicast(ctx, &line.MulticastRequest{To: ids, Messages: msgs, RetryKey: key})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if run == 1 && res.Duplicates != len(res.Chunks) {
			t.Errorf("rerun: %d of %d chunks duplicates", res.Duplicates, len(res.Chunks))
		}
		for i := 0; i < 3; i++ {
			if _, _, err := c2.Messages.Push(ctx, &line.PushRequest{To: ids[0], Messages: text("solo"), RetryKey: line.KeyFrom("solo")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	faults := map[linetest.FaultKind]int{}
	for _, r := range srv.Requests() {
		faults[r.Fault]++
	}
	if faults[shopcrmtest.FaultLostResponse] == 0 || faults[shopcrmtest.FaultDrop] == 0 {
		t.Errorf("faults injected: %v", faults)
	}
	want := []string{`{"type":"text","text":"one"}`, `{"type":"text","text":"two"}`}
	for i, u := range ids {
		w := want
		if i == 0 {
			w = append(append([]string(nil), want...), `{"type":"text","text":"solo"}`)
		}
		if got := received(srv, u); !cmp.Equal(w, got) {
			t.Fatalf("%s received %v", u, got)
		}
	}
}

// TestFollowersStuckCursor: a server answering the same "next" cursor again
// ends the listing with a *shopcrm.CursorError instead of looping.
func TestFollowersStuckCursor(t *testing.T) {
	var calls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.WriteString(w, `{"userIds":["U1"],"next":"same"}`)
	}))
	defer hs.Close()
	c, err := line.New(line.StaticToken("token-for-a-stuck-server"), line.WithBaseURL(hs.URL))
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for _, err := range c.Users.Followers(context.Background()) {
		last = err
	}
	var ce *shopcrm.CursorError
	if !errors.Is(last, shopcrm.ErrCursorStuck) || !errors.As(last, &ce) || calls.Load() > 3 {
		t.Fatalf("err = %v after %d calls", last, calls.Load())
	}
}

// TestBadInputNoPanic: inputs that used to panic are refused with an
// *InputError naming the field.
func TestBadInputNoPanic(t *testing.T) {
	_, c := newFake(t)
	ctx := context.Background()
	var nilText *line.TextMessage
	_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: linetest.UserID(1), Messages: []line.Message{nilText}})
	var ie *line.InputError
	if !errors.As(err, &ie) || ie.Field != "Messages[0]" {
		t.Errorf("typed nil message: %v", err)
	}
	if _, err := line.AccountLinkURL("javascript:alert(1)", "tok", "nonce-of-16-chars"); !errors.As(err, &ie) || ie.Field != "base" {
		t.Errorf("javascript base: %v", err)
	}
}

// TestEmptyAnswers: a 200 that does not carry what the call returns is a
// *shopcrm.ResponseError, not a success.
func TestEmptyAnswers(t *testing.T) {
	for _, body := range []string{`null`, `{}`, ``} {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
		c, err := line.New(line.StaticToken("token-for-an-empty-server"), line.WithBaseURL(hs.URL))
		if err != nil {
			t.Fatal(err)
		}
		var re *shopcrm.ResponseError
		if _, _, err := c.Users.Profile(context.Background(), linetest.UserID(1)); !errors.As(err, &re) || !errors.Is(err, shopcrm.ErrMalformedResponse) {
			t.Errorf("Profile on %q: %v", body, err)
		}
		hs.Close()
	}
}
