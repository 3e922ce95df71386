package line_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shopcrm/shopcrm/internal/answertest"
	"github.com/shopcrm/shopcrm/line"
)

const (
	// fuzzToken is the channel access token of the fuzzed client; LINE's
	// tokens are base64, so it holds a slash, which JSON may escape.
	fuzzToken = "eyJhbGciOiJIUzI1NiJ9/Fuzz+Token0123456789="
	// fuzzChannelSecret is the channel secret the token issuer sends.
	fuzzChannelSecret = "c0ffee0123456789abcdef0123456789"
)

// FuzzAnswer serves arbitrary statuses, Retry-After values and bodies
// (seeds in testdata/fuzz/FuzzAnswer: LINE's error bodies with details,
// the monthly-quota 429, the token endpoints' OAuth errors) to a push and
// to a channel access token issue. Whatever the answer:
//   - a push succeeds only on a 2xx;
//   - an error is typed: *APIError, *RateLimitError or a malformed answer;
//   - a 429 is either the monthly quota (ErrQuotaExceeded) or throttling
//     (ErrRateLimited), never both;
//   - waits are within [0, a year];
//   - no secret the client sent (the access token of a push, the channel
//     secret of an issue) appears in an error, even quoted by the answer
//     with JSON escapes.
func FuzzAnswer(f *testing.F) {
	f.Add(uint16(0), "", []byte(`{"sentMessages":[{"id":"461230966842064897","quoteToken":"IStG5h1Tz7b..."}]}`))
	hs := answertest.New(f)
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	policy := line.RetryPolicy{MaxRetries: 1, MaxWait: time.Millisecond}
	c, err := line.New(line.StaticToken(fuzzToken), line.WithBaseURL(hs.URL), line.WithDataURL(hs.URL),
		line.WithHTTPClient(hs.Client()), line.WithSleep(noSleep), line.WithRetryPolicy(policy))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte) {
		if !answertest.HeaderValues(retryAfter) {
			return
		}
		st := answertest.Status(status)
		hs.Set(answertest.Answer{Status: st, Body: body,
			Header: answertest.Header("Retry-After", retryAfter, "X-Line-Request-Id", "1fb1a1a1-7c9b-4d1f-9a57-4cd2e8a1c0aa")})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: "U4af4980629a1b2c3d4e5f6a7b8c9d0e1", Messages: []line.Message{line.TextMessage{Text: "hi"}}})
		if err == nil && st >= 300 {
			t.Fatalf("status %d body %q accepted", st, body)
		}
		checkError(t, st, body, err, fuzzToken)

		if st >= 500 || st == http.StatusTooManyRequests {
			return // the issuer retries these with the default policy's real backoff
		}
		iss, err := line.NewTokenIssuer(line.Stateless, "1234567890", line.NewSecret(fuzzChannelSecret),
			line.WithTokenBaseURL(hs.URL), line.WithTokenHTTPClient(hs.Client()))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := iss.Token(ctx)
		if err == nil && (st >= 300 || tok.IsZero()) {
			t.Fatalf("token issued from status %d body %q", st, body)
		}
		checkError(t, st, body, err, fuzzChannelSecret)
	})
}

// checkError holds the properties of every error answer; secrets are the
// ones the client sent.
func checkError(t *testing.T, status int, body []byte, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	var ae *line.APIError
	answertest.Check(t, status, body, err, secrets, &ae)
	if ae != nil {
		if ae.Status != status {
			t.Fatalf("APIError status %d, answered %d", ae.Status, status)
		}
		if status == http.StatusTooManyRequests && errors.Is(err, line.ErrQuotaExceeded) == errors.Is(err, line.ErrRateLimited) {
			t.Fatalf("429 %q: quota %v, rate limited %v", body, errors.Is(err, line.ErrQuotaExceeded), errors.Is(err, line.ErrRateLimited))
		}
		if ae.RetryAfter < 0 || ae.RetryAfter > answertest.MaxWait {
			t.Fatalf("APIError wait %v", ae.RetryAfter)
		}
	}
}

// FuzzAudienceJSON feeds audience group details as LINE's GET
// /v2/bot/audienceGroup/{id} answers them (seeds in
// testdata/fuzz/FuzzAudienceJSON). A detail that decodes encodes and
// decodes back to itself.
func FuzzAudienceJSON(f *testing.F) {
	f.Add([]byte(`{"audienceGroup":{"audienceGroupId":4389303728991,"type":"UPLOAD","description":"vip","status":"READY","audienceCount":2,"created":1613698278},"jobs":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d line.AudienceDetail
		if json.Unmarshal(b, &d) != nil {
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("%+v does not encode: %v", d, err)
		}
		var back line.AudienceDetail
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%s → %s: %v", b, out, err)
		}
		if diff := cmp.Diff(d, back, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("%s → %s changed (-first +again):\n%s", b, out, diff)
		}
	})
}
