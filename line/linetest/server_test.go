package linetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

type answer struct {
	Status int
	Header http.Header
	Body   map[string]any
}

func do(t *testing.T, srv *linetest.Server, method, path, token string, header map[string]string, body io.Reader) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{Status: resp.StatusCode, Header: resp.Header}
	_ = json.NewDecoder(resp.Body).Decode(&a.Body)
	return a
}

const key = "123e4567-e89b-12d3-a456-426614174000"

func TestServerRejects(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	tok := srv.Token()
	push := `{"to":"U00000000000000000000000000000001","messages":[{"type":"text","text":"hi"}]}`
	tests := []struct {
		name    string
		method  string
		path    string
		token   string
		header  map[string]string
		body    string
		status  int
		message string
	}{
		{"no token", "GET", "/v2/bot/message/quota", "", nil, "", 401, "Authentication failed"},
		{"unknown token", "GET", "/v2/bot/message/quota", "nope-nope", nil, "", 401, "Authentication failed"},
		{"retry key elsewhere", "GET", "/v2/bot/message/quota", tok, map[string]string{"X-Line-Retry-Key": key}, "", 400, "not supported"},
		{"malformed key", "POST", "/v2/bot/message/push", tok, map[string]string{"X-Line-Retry-Key": "order-1"}, push, 400, "invalid"},
		{"no messages", "POST", "/v2/bot/message/push", tok, nil, `{"to":"U00000000000000000000000000000001","messages":[]}`, 400, "1 error(s)"},
		{"long text", "POST", "/v2/bot/message/push", tok, nil, `{"to":"U00000000000000000000000000000001","messages":[{"type":"text","text":"` + strings.Repeat("a", 5001) + `"}]}`, 400, "1 error(s)"},
		{"unknown type", "POST", "/v2/bot/message/push", tok, nil, `{"to":"U00000000000000000000000000000001","messages":[{"type":"hologram"}]}`, 400, "1 error(s)"},
		{"501 recipients", "POST", "/v2/bot/message/multicast", tok, nil, `{"to":[` + strings.Repeat(`"U00000000000000000000000000000001",`, 500) + `"U00000000000000000000000000000001"],"messages":[{"type":"text","text":"x"}]}`, 400, "1 error(s)"},
		{"missing audience", "GET", "/v2/bot/audienceGroup/77", tok, nil, "", 400, "audience group not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := do(t, srv, tt.method, tt.path, tt.token, tt.header, strings.NewReader(tt.body))
			msg, _ := a.Body["message"].(string)
			if a.Status != tt.status || !strings.Contains(msg, tt.message) {
				t.Errorf("= %d %v; want %d %q", a.Status, a.Body, tt.status, tt.message)
			}
			if a.Header.Get("x-line-request-id") == "" {
				t.Error("no x-line-request-id")
			}
		})
	}
	if got := srv.Messages("U00000000000000000000000000000001"); len(got) != 0 {
		t.Errorf("rejected sends delivered %d messages", len(got))
	}
}

// TestServerUserIDs: user ids are "U" and 32 lowercase hex digits in every
// send and upload (push also takes group and room ids); the server answers
// others with LINE's 400 and refuses to seed them.
func TestServerUserIDs(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	u := linetest.UserID(0xfeed)
	h := map[string]string{"Content-Type": "application/json"}
	send := func(path, to string) answer {
		return do(t, srv, "POST", path, srv.Token(), h, strings.NewReader(`{"to":`+to+`,"messages":[{"type":"text","text":"x"}]}`))
	}
	for _, tt := range []struct {
		path, to string
		status   int
		message  string
	}{
		{"/v2/bot/message/push", `"` + u + `"`, 200, ""},
		{"/v2/bot/message/push", `"C` + u[1:] + `"`, 200, ""},
		{"/v2/bot/message/push", `"R` + u[1:] + `"`, 200, ""},
		{"/v2/bot/message/push", `"U1"`, 400, "The property, 'to', in the request body is invalid"},
		{"/v2/bot/message/push", `"` + strings.ToUpper(u) + `"`, 400, "'to'"},
		{"/v2/bot/message/push", `"X` + u[1:] + `"`, 400, "'to'"},
		{"/v2/bot/message/multicast", `["` + u + `","` + u + `0"]`, 400, "'to[1]'"},
		{"/v2/bot/message/multicast", `["C` + u[1:] + `"]`, 400, "'to[0]'"},
	} {
		a := send(tt.path, tt.to)
		msg, _ := a.Body["message"].(string)
		if a.Status != tt.status || !strings.Contains(msg, tt.message) {
			t.Errorf("%s to %s = %d %v; want %d %q", tt.path, tt.to, a.Status, a.Body, tt.status, tt.message)
		}
	}
	if n := len(srv.Messages(u)); n != 1 {
		t.Errorf("%s received %d messages, want 1", u, n)
	}
	create := do(t, srv, "POST", "/v2/bot/audienceGroup/upload", srv.Token(), h,
		strings.NewReader(`{"description":"bad","audiences":[{"id":"`+u+`"},{"id":"nobody"}]}`))
	if msg, _ := create.Body["message"].(string); create.Status != 400 || !strings.Contains(msg, "'audiences[1].id'") {
		t.Errorf("audience with a bad id = %d %v", create.Status, create.Body)
	}
	ifa := do(t, srv, "POST", "/v2/bot/audienceGroup/upload", srv.Token(), h,
		strings.NewReader(`{"description":"ifa","isIfaAudience":true,"audiences":[{"id":"123e4567-e89b-12d3-a456-426614174000"}]}`))
	if ifa.Status != 202 {
		t.Errorf("IFA audience = %d %v", ifa.Status, ifa.Body)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("AddFollowers accepted a malformed id")
			}
		}()
		srv.AddFollowers(u, "U1")
	}()
}

// TestServerAudienceJobs: an upload job is QUEUED, WORKING, then FINISHED,
// moved by reads of its group or by the clock; its users join the audience
// when it finishes; too many running jobs on one audience get a 429 in
// LINE's shape.
func TestServerAudienceJobs(t *testing.T) {
	srv := linetest.NewServer(linetest.WithAudienceJobs(1))
	defer srv.Close()
	h := map[string]string{"Content-Type": "application/json"}
	u := linetest.UserID(1)
	a := do(t, srv, "POST", "/v2/bot/audienceGroup/upload", srv.Token(), h,
		strings.NewReader(`{"description":"jobs","audiences":[{"id":"`+u+`"}]}`))
	if a.Status != 202 {
		t.Fatalf("create = %d %v", a.Status, a.Body)
	}
	id := fmt.Sprint(int64(a.Body["audienceGroupId"].(float64)))
	path := "/v2/bot/audienceGroup/" + id
	state := func() string {
		g := do(t, srv, "GET", path, srv.Token(), nil, nil)
		group := g.Body["audienceGroup"].(map[string]any)
		jobs := g.Body["jobs"].([]any)
		count, _ := group["audienceCount"].(float64) // omitted when 0
		return fmt.Sprintf("%v %v %v", group["status"], jobs[len(jobs)-1].(map[string]any)["jobStatus"], count)
	}
	add := func(user string) answer {
		return do(t, srv, "PUT", "/v2/bot/audienceGroup/upload", srv.Token(), h,
			strings.NewReader(`{"audienceGroupId":`+id+`,"audiences":[{"id":"`+user+`"}]}`))
	}
	var got []string
	for range 3 {
		got = append(got, state())
	}
	if a := add(linetest.UserID(2)); a.Status != 202 {
		t.Fatalf("add = %d %v", a.Status, a.Body)
	}
	busy := add(linetest.UserID(3))
	if msg, _ := busy.Body["message"].(string); busy.Status != 429 || msg == "" || busy.Body["details"] != nil {
		t.Errorf("second running job = %d %v", busy.Status, busy.Body)
	}
	srv.Advance(linetest.DefaultAudienceJobDuration / 2)
	got = append(got, state())
	srv.Advance(linetest.DefaultAudienceJobDuration / 2)
	got = append(got, state())
	want := []string{"IN_PROGRESS QUEUED 0", "IN_PROGRESS WORKING 0", "READY FINISHED 1", "READY WORKING 1", "READY FINISHED 2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	if a := add(linetest.UserID(3)); a.Status != 202 {
		t.Errorf("add after the job finished = %d %v", a.Status, a.Body)
	}
	if n := srv.Stats().Ops["audience"].Throttled; n != 1 {
		t.Errorf("throttled = %d", n)
	}
}

// TestServerNarrowcastRetryConflict: the first narrowcast retry within
// NarrowcastRaceWindow of the original is accepted and fails with error code
// 3; later retries get 409 naming the original; sends nothing twice.
func TestServerNarrowcastRetryConflict(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	srv.AddFollowers(linetest.UserID(1))
	h := map[string]string{"X-Line-Retry-Key": key, "Content-Type": "application/json"}
	post := func() answer {
		return do(t, srv, "POST", "/v2/bot/message/narrowcast", srv.Token(), h, strings.NewReader(`{"messages":[{"type":"text","text":"x"}]}`))
	}
	progress := func(id string) map[string]any {
		var a answer
		for range 3 {
			a = do(t, srv, "GET", "/v2/bot/message/progress/narrowcast?requestId="+id, srv.Token(), nil, nil)
		}
		return a.Body
	}
	first, retry := post(), post()
	if first.Status != 202 || retry.Status != 202 {
		t.Fatalf("first %d, retry %d", first.Status, retry.Status)
	}
	if p := progress(retry.Header.Get("x-line-request-id")); p["phase"] != "failed" || p["errorCode"] != float64(3) {
		t.Errorf("retry progress = %v", p)
	}
	if p := progress(first.Header.Get("x-line-request-id")); p["phase"] != "succeeded" {
		t.Errorf("original progress = %v", p)
	}
	again := post()
	if again.Status != 409 || again.Header.Get("x-line-accepted-request-id") != first.Header.Get("x-line-request-id") {
		t.Errorf("second retry = %d %v", again.Status, again.Header)
	}
	if n := len(srv.Messages(linetest.UserID(1))); n != 1 {
		t.Errorf("delivered %d times", n)
	}
	// Past the window, the first retry of another key is answered 409.
	h["X-Line-Retry-Key"] = "123e4567-e89b-12d3-a456-426614174001"
	post()
	srv.Advance(linetest.NarrowcastRaceWindow)
	if late := post(); late.Status != 409 {
		t.Errorf("retry after the window = %d", late.Status)
	}
}

func TestServerRetryKeyWindow(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	body := `{"to":"U00000000000000000000000000000001","messages":[{"type":"text","text":"hi"}]}`
	h := map[string]string{"X-Line-Retry-Key": key, "Content-Type": "application/json"}
	first := do(t, srv, "POST", "/v2/bot/message/push", srv.Token(), h, strings.NewReader(body))
	second := do(t, srv, "POST", "/v2/bot/message/push", srv.Token(), h, strings.NewReader(body))
	if first.Status != 200 || second.Status != 409 || second.Header.Get("x-line-accepted-request-id") != first.Header.Get("x-line-request-id") {
		t.Fatalf("first %d, second %d %v", first.Status, second.Status, second.Header)
	}
	srv.Advance(23 * time.Hour)
	if a := do(t, srv, "POST", "/v2/bot/message/push", srv.Token(), h, strings.NewReader(body)); a.Status != 409 {
		t.Errorf("after 23h: %d", a.Status)
	}
	srv.Advance(2 * time.Hour)
	if a := do(t, srv, "POST", "/v2/bot/message/push", srv.Token(), h, strings.NewReader(body)); a.Status != 200 {
		t.Errorf("after 25h: %d", a.Status)
	}
	if n := len(srv.Messages("U00000000000000000000000000000001")); n != 2 {
		t.Errorf("delivered %d", n)
	}
}

func TestServerTokens(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {srv.ChannelID()}, "client_secret": {srv.ChannelSecret().Reveal()}}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	a := do(t, srv, "POST", "/oauth2/v3/token", "", h, strings.NewReader(form.Encode()))
	tok, _ := a.Body["access_token"].(string)
	if a.Status != 200 || tok == "" || a.Body["expires_in"] != float64(900) {
		t.Fatalf("issue = %d %v", a.Status, a.Body)
	}
	if a := do(t, srv, "GET", "/v2/bot/message/quota", tok, nil, nil); a.Status != 200 {
		t.Errorf("fresh token: %d", a.Status)
	}
	if a := do(t, srv, "GET", "/oauth2/v2.1/verify?access_token="+tok, "", nil, nil); a.Status != 200 || a.Body["client_id"] != srv.ChannelID() {
		t.Errorf("verify = %d %v", a.Status, a.Body)
	}
	srv.Advance(15 * time.Minute)
	if a := do(t, srv, "GET", "/v2/bot/message/quota", tok, nil, nil); a.Status != 401 {
		t.Errorf("expired token: %d", a.Status)
	}
	a = do(t, srv, "POST", "/v2/oauth/accessToken", "", h, strings.NewReader(form.Encode()))
	short, _ := a.Body["access_token"].(string)
	if a := do(t, srv, "POST", "/v2/oauth/revoke", "", h, strings.NewReader(url.Values{"access_token": {short}}.Encode())); a.Status != 200 {
		t.Errorf("revoke: %d", a.Status)
	}
	if a := do(t, srv, "GET", "/v2/bot/message/quota", short, nil, nil); a.Status != 401 {
		t.Errorf("revoked token: %d", a.Status)
	}
	form.Set("client_secret", "wrong")
	if a := do(t, srv, "POST", "/oauth2/v3/token", "", h, strings.NewReader(form.Encode())); a.Status != 400 || a.Body["error"] != "invalid_client" {
		t.Errorf("wrong secret = %d %v", a.Status, a.Body)
	}
}

// TestServerShortLivedTokenLimit: at most 30 short-lived tokens are valid
// at once for a channel; revoked and expired ones do not count.
func TestServerShortLivedTokenLimit(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {srv.ChannelID()}, "client_secret": {srv.ChannelSecret().Reveal()}}
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	issue := func() answer {
		return do(t, srv, "POST", "/v2/oauth/accessToken", "", h, strings.NewReader(form.Encode()))
	}
	var first string
	for i := range linetest.MaxShortLivedTokens {
		a := issue()
		if a.Status != 200 {
			t.Fatalf("token %d: %d %v", i+1, a.Status, a.Body)
		}
		if i == 0 {
			first = a.Body["access_token"].(string)
		}
	}
	if a := issue(); a.Status != 400 || a.Body["error"] != "invalid_request" || a.Body["error_description"] == nil {
		t.Fatalf("31st token = %d %v", a.Status, a.Body)
	}
	do(t, srv, "POST", "/v2/oauth/revoke", "", h, strings.NewReader(url.Values{"access_token": {first}}.Encode()))
	if a := issue(); a.Status != 200 {
		t.Errorf("after a revoke: %d %v", a.Status, a.Body)
	}
	if a := issue(); a.Status != 400 {
		t.Errorf("31 valid tokens: %d", a.Status)
	}
	if a := do(t, srv, "POST", "/oauth2/v3/token", "", h, strings.NewReader(form.Encode())); a.Status != 200 {
		t.Errorf("stateless tokens are not limited: %d", a.Status)
	}
	srv.Advance(30 * 24 * time.Hour)
	if a := issue(); a.Status != 200 {
		t.Errorf("after they expired: %d %v", a.Status, a.Body)
	}
}

func TestServerAudienceFilePartType(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	for _, ct := range []string{"application/octet-stream", "text/plain"} {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("description", "file "+ct)
		ph := textproto.MIMEHeader{}
		ph.Set("Content-Disposition", `form-data; name="file"; filename="ids.txt"`)
		ph.Set("Content-Type", ct)
		w, _ := mw.CreatePart(ph)
		io.WriteString(w, "U00000000000000000000000000000001\nU00000000000000000000000000000002\n")
		mw.Close()
		a := do(t, srv, "POST", "/v2/bot/audienceGroup/upload/byFile", srv.Token(), map[string]string{"Content-Type": mw.FormDataContentType()}, &buf)
		want := 400
		if ct == "text/plain" {
			want = 202
		}
		if a.Status != want {
			t.Errorf("part %s: %d %v", ct, a.Status, a.Body)
		}
	}
}

func TestServerLimitsAndClock(t *testing.T) {
	srv := linetest.NewServer(linetest.WithNow(time.Date(2026, 3, 31, 13, 0, 0, 0, time.UTC)), linetest.WithQuota(2))
	defer srv.Close()
	c := srv.Client(line.WithEndpointLimit(line.EndpointBroadcast, line.RateLimit{}), line.WithRetryPolicy(noRetry()))
	ctx := context.Background()
	srv.AddFollowers("U00000000000000000000000000000001")
	msg := []line.Message{line.TextMessage{Text: "x"}}
	for i := 0; i < 60; i++ { // all at once: the fake counts 60 an hour, not a bucket
		srv.AddFaults(linetest.Fault{Op: "broadcast", Kind: shopcrmtest.FaultStatus, Status: 500}) // not acting keeps the quota
		_, _, _ = c.Messages.Broadcast(ctx, &line.BroadcastRequest{Messages: msg})
	}
	_, _, err := c.Messages.Broadcast(ctx, &line.BroadcastRequest{Messages: msg})
	if !errors.Is(err, line.ErrRateLimited) || srv.Stats().Ops["broadcast"].Throttled != 1 {
		t.Fatalf("61st broadcast in an hour: %v, throttled %d", err, srv.Stats().Ops["broadcast"].Throttled)
	}
	// Half an hour on, the hour still holds 60: a bucket would have let 30
	// more through, LINE's window does not.
	srv.Advance(30 * time.Minute)
	if _, _, err := c.Messages.Broadcast(ctx, &line.BroadcastRequest{Messages: msg}); !errors.Is(err, line.ErrRateLimited) {
		t.Fatalf("after half an hour: %v", err)
	}
	srv.Advance(30 * time.Minute)
	if _, _, err := c.Messages.Broadcast(ctx, &line.BroadcastRequest{Messages: msg}); err != nil {
		t.Fatalf("after an hour: %v", err)
	}
	if _, _, err := c.Messages.Broadcast(ctx, &line.BroadcastRequest{Messages: msg}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Messages.Broadcast(ctx, &line.BroadcastRequest{Messages: msg}); !errors.Is(err, line.ErrQuotaExceeded) {
		t.Fatalf("third broadcast: %v", err)
	}
	// It is now 2026-03-31 14:00 UTC, 23:00 in Japan; an hour later it is April there.
	srv.Advance(time.Hour)
	if got := srv.Usage(); got != 0 {
		t.Errorf("usage in a new month = %d", got)
	}
	var got []string
	for _, r := range srv.Messages("U00000000000000000000000000000001") {
		got = append(got, r.Endpoint.String())
	}
	if diff := cmp.Diff([]string{"broadcast", "broadcast"}, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
}

func TestServerFaultsByClassAndPath(t *testing.T) {
	srv := linetest.NewServer(linetest.WithFaults(
		linetest.Fault{Op: "/v2/bot/message/quota", Kind: shopcrmtest.FaultStatus, Status: 401},
		linetest.Fault{Op: "push", Kind: shopcrmtest.FaultRateLimit, RetryAfter: "0.01"},
	))
	defer srv.Close()
	push := `{"to":"U00000000000000000000000000000001","messages":[{"type":"text","text":"hi"}]}`
	h := map[string]string{"Content-Type": "application/json"}
	if a := do(t, srv, "GET", "/v2/bot/message/quota", srv.Token(), nil, nil); a.Status != 401 || !strings.Contains(a.Body["message"].(string), "Authentication failed") {
		t.Errorf("quota = %d %v", a.Status, a.Body)
	}
	a := do(t, srv, "POST", "/v2/bot/message/push", srv.Token(), h, strings.NewReader(push))
	if a.Status != 429 || a.Header.Get("Retry-After") != "0.01" || !strings.Contains(a.Body["message"].(string), "rate limit") {
		t.Errorf("push = %d %v %v", a.Status, a.Header, a.Body)
	}
	if a := do(t, srv, "POST", "/v2/bot/message/push", srv.Token(), h, strings.NewReader(push)); a.Status != 200 {
		t.Errorf("second push = %d %v", a.Status, a.Body)
	}
	want := linetest.Stats{Requests: 3, Faults: 2, Accepted: 1, Ops: map[string]linetest.OpStats{
		"other": {Requests: 1, Faults: 1},
		"push":  {Requests: 2, Faults: 1, Accepted: 1},
	}}
	if diff := cmp.Diff(want, srv.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
	var kinds []linetest.FaultKind
	for _, r := range srv.Requests() {
		kinds = append(kinds, r.Fault)
	}
	if diff := cmp.Diff([]linetest.FaultKind{shopcrmtest.FaultStatus, shopcrmtest.FaultRateLimit, shopcrmtest.FaultNone}, kinds); diff != "" {
		t.Errorf("recorded faults (-want +got):\n%s", diff)
	}
}

func TestServerRefusesUnknownFaults(t *testing.T) {
	for name, f := range map[string]linetest.Fault{
		"unknown class":         {Op: "pushes", Kind: shopcrmtest.FaultDrop},
		"retry-after on a drop": {Op: "push", Kind: shopcrmtest.FaultDrop, RetryAfter: "1"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: accepted", name)
				}
			}()
			linetest.NewServer(linetest.WithFaults(f)).Close()
		}()
	}
}
