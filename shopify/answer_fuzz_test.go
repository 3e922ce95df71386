package shopify_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/internal/answertest"
	"github.com/shopcrm/shopcrm/shopify"
)

// fuzzToken is the access token of the fuzzed clients: no answer may make
// it appear in an error.
const fuzzToken = "shpat_0123456789abcdef0123456789abcdef"

// FuzzGraphQLAnswer serves arbitrary statuses, Retry-After values and
// bodies (seeds in testdata/fuzz/FuzzGraphQLAnswer: real-shaped answers,
// THROTTLED with extensions.cost, partial data, REST-style errors) to
// Client.Do. Whatever the answer:
//   - a call succeeds only on a 2xx carrying data and no errors[];
//   - an error is one of the package's typed errors;
//   - errors[] with a THROTTLED code matches ErrRateLimited;
//   - every wait derived from the answer is within [0, a year];
//   - the access token never appears in an error, even when the answer
//     quotes it (plainly or JSON-escaped);
//   - no answer stalls the client: the next call goes through at once.
func FuzzGraphQLAnswer(f *testing.F) {
	f.Add(uint16(200), "", []byte(`{"data":{"shop":{"name":"x"}},"extensions":{"cost":{"requestedQueryCost":1,"actualQueryCost":1,"throttleStatus":{"maximumAvailable":2000,"currentlyAvailable":1999,"restoreRate":100}}}}`))
	hs := answertest.New(f)
	noSleep := func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	f.Fuzz(func(t *testing.T, status uint16, retryAfter string, body []byte) {
		if !answertest.HeaderValues(retryAfter) {
			return // no server can send it
		}
		st := answertest.Status(status)
		hs.Set(answertest.Answer{Status: st, Header: answertest.Header("Retry-After", retryAfter), Body: body})
		// A client per input: an answer retunes the cost gate, which must
		// not carry over to the next input.
		c, err := shopify.New("fuzz.myshopify.com", shopify.StaticToken(fuzzToken),
			shopify.WithBaseURL(hs.URL), shopify.WithHTTPClient(hs.Client()), shopify.WithSleep(noSleep),
			shopify.WithRetryPolicy(shopify.RetryPolicy{MaxRetries: 1, MaxWait: time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var out map[string]any
		start := time.Now()
		_, err = c.Do(ctx, `{ shop { name } }`, nil, &out)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("status %d body %q: the call took %s (%v)", st, body, d, err)
		}
		checkAnswer(t, st, body, err)

		// Whatever the answer said about the cost bucket, the client
		// is not stalled: the next call, answered normally, goes through.
		hs.Set(answertest.Answer{Status: 200, Body: []byte(`{"data":{"shop":{"name":"x"}}}`)})
		start = time.Now()
		if _, err := c.Do(ctx, `{ shop { name } }`, nil, nil); err != nil || time.Since(start) > time.Second {
			t.Fatalf("after status %d body %q: the next call took %s: %v", st, body, time.Since(start), err)
		}
	})
}

// checkAnswer holds the properties every Shopify answer keeps.
func checkAnswer(t *testing.T, status int, body []byte, err error) {
	t.Helper()
	var env struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	jsonErr := json.Unmarshal(body, &env)
	if err == nil {
		if status >= 300 || jsonErr != nil || len(env.Errors) > 0 || len(env.Data) == 0 || string(env.Data) == "null" {
			t.Fatalf("status %d body %q accepted", status, body)
		}
		return
	}
	var (
		ae *shopify.APIError
		ge *shopify.GraphQLErrors
		te *shopify.ThrottledError
	)
	answertest.Check(t, status, body, err, []string{fuzzToken}, &ae, &ge, &te)
	if ae != nil && (strings.Contains(ae.Message, fuzzToken) || strings.Contains(string(ae.Body), fuzzToken)) {
		t.Fatalf("the token leaked into the APIError of %q", body)
	}
	if te != nil && (te.Wait < 0 || te.Wait > answertest.MaxWait || te.RetryAfter() != te.Wait) {
		t.Fatalf("body %q: throttle wait %v", body, te.Wait)
	}
	if ge != nil {
		throttled := false
		for _, g := range ge.Errors {
			if g == nil {
				t.Fatalf("body %q: nil GraphQLError", body)
			}
			throttled = throttled || g.Code == "THROTTLED"
		}
		if throttled && !errors.Is(err, shopify.ErrRateLimited) {
			t.Fatalf("body %q: THROTTLED does not match ErrRateLimited: %v", body, err)
		}
	}
}
