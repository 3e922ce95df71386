package shopcrm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/segment"
	"github.com/shopcrm/shopcrm/shopcrmtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// tokens is a token source written outside the module, as a user would.
type tokens struct{ tok string }

func (t tokens) Token(context.Context) (shopcrm.Secret, error) { return shopcrm.NewSecret(t.tok), nil }

// policy retries twice with short backoffs; a Retry-After up to a second is
// waited out.
var policy = shopcrm.RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxWait: time.Second}

// conn is one client against its fake, as the error-shape table needs it.
type conn struct {
	client   any // the client, for printing
	faults   func(...shopcrmtest.Fault)
	requests func() int
	call     func(context.Context) error // one retried call, answered by the fake
	bad      func(context.Context) error // the same call with bad input
	// apiStatus finds the package's *APIError with errors.As.
	apiStatus func(error) (int, bool)
	// rateLimit finds the package's *RateLimitError with errors.As.
	rateLimit func(error) (time.Duration, bool)
	// inputField finds the package's *InputError with errors.As.
	inputField func(error) (string, bool)
	// answer, when set, recognises the package's typed errors for an
	// answer other than an HTTP error status (Shopify's GraphQL errors).
	answer func(error) bool
}

// client is a row of the table: how to reach one platform's client. A new
// client joins the table by adding one.
type client struct {
	name string
	// open starts the fake and returns the client pointed at base (the
	// fake's URL when empty), authenticating with token (the fake's when
	// empty).
	open func(t *testing.T, base, token string) conn
}

var clients = []client{
	{"shopify", func(t *testing.T, base, token string) conn {
		srv := shopifytest.NewServer()
		t.Cleanup(srv.Close)
		if base == "" {
			base = srv.URL()
		}
		if token == "" {
			token = shopifytest.DefaultToken
		}
		c, err := shopify.New(shopifytest.Shop, tokens{token}, shopify.WithBaseURL(base), shopify.WithRetryPolicy(policy))
		if err != nil {
			t.Fatal(err)
		}
		id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{Email: "a@example.com"}))
		return conn{
			client:   c,
			faults:   func(f ...shopcrmtest.Fault) { srv.AddFaults(f...) },
			requests: func() int { return srv.Stats().Requests },
			call:     func(ctx context.Context) error { _, _, err := c.Customers.Get(ctx, id); return err },
			bad:      func(ctx context.Context) error { _, _, err := c.Customers.Get(ctx, "customer-1"); return err },
			apiStatus: func(err error) (int, bool) {
				var e *shopify.APIError
				ok := errors.As(err, &e)
				return statusOf(ok, func() int { return e.Status }), ok
			},
			rateLimit: func(err error) (time.Duration, bool) {
				var e *shopify.RateLimitError
				ok := errors.As(err, &e)
				return waitOf(ok, func() time.Duration { return e.RetryAfter }), ok
			},
			inputField: func(err error) (string, bool) {
				var e *shopify.InputError
				ok := errors.As(err, &e)
				return fieldOf(ok, func() string { return e.Field }), ok
			},
			answer: func(err error) bool {
				var e *shopify.GraphQLErrors
				return errors.As(err, &e)
			},
		}
	}},
	{"line", func(t *testing.T, base, token string) conn {
		srv := linetest.NewServer()
		t.Cleanup(srv.Close)
		if base == "" {
			base = srv.URL()
		}
		if token == "" {
			token = linetest.DefaultToken
		}
		c, err := line.New(tokens{token}, line.WithBaseURL(base), line.WithDataURL(base), line.WithRetryPolicy(policy))
		if err != nil {
			t.Fatal(err)
		}
		push := func(ctx context.Context, to string) error {
			_, _, err := c.Messages.Push(ctx, &line.PushRequest{To: to, Messages: []line.Message{line.TextMessage{Text: "hi"}}})
			return err
		}
		return conn{
			client:   c,
			faults:   func(f ...shopcrmtest.Fault) { srv.AddFaults(f...) },
			requests: func() int { return srv.Stats().Requests },
			call:     func(ctx context.Context) error { return push(ctx, "U00000000000000000000000000000001") },
			bad:      func(ctx context.Context) error { return push(ctx, "") },
			apiStatus: func(err error) (int, bool) {
				var e *line.APIError
				ok := errors.As(err, &e)
				return statusOf(ok, func() int { return e.Status }), ok
			},
			rateLimit: func(err error) (time.Duration, bool) {
				var e *line.RateLimitError
				ok := errors.As(err, &e)
				return waitOf(ok, func() time.Duration { return e.RetryAfter }), ok
			},
			inputField: func(err error) (string, bool) {
				var e *line.InputError
				ok := errors.As(err, &e)
				return fieldOf(ok, func() string { return e.Field }), ok
			},
		}
	}},
	{"omnisend", func(t *testing.T, base, token string) conn {
		srv := omnisendtest.NewServer()
		t.Cleanup(srv.Close)
		if base == "" {
			base = srv.URL()
		}
		if token == "" {
			token = omnisendtest.DefaultAPIKey
		}
		c, err := omnisend.New(omnisend.APIKeySource(tokens{token}), omnisend.WithBaseURL(base), omnisend.WithRetryPolicy(policy))
		if err != nil {
			t.Fatal(err)
		}
		id := srv.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email("a@example.com", "")}})
		return conn{
			client:   c,
			faults:   func(f ...shopcrmtest.Fault) { srv.AddFaults(f...) },
			requests: func() int { return srv.Stats().Requests },
			call:     func(ctx context.Context) error { _, _, err := c.Contacts.Get(ctx, id); return err },
			bad:      func(ctx context.Context) error { _, _, err := c.Contacts.Get(ctx, "a/b"); return err },
			apiStatus: func(err error) (int, bool) {
				var e *omnisend.APIError
				ok := errors.As(err, &e)
				return statusOf(ok, func() int { return e.Status }), ok
			},
			rateLimit: func(err error) (time.Duration, bool) {
				var e *omnisend.RateLimitError
				ok := errors.As(err, &e)
				return waitOf(ok, func() time.Duration { return e.RetryAfter }), ok
			},
			inputField: func(err error) (string, bool) {
				var e *omnisend.InputError
				ok := errors.As(err, &e)
				return fieldOf(ok, func() string { return e.Field }), ok
			},
		}
	}},
	{"klaviyo", func(t *testing.T, base, token string) conn {
		srv := klaviyotest.NewServer()
		t.Cleanup(srv.Close)
		if base == "" {
			base = srv.URL()
		}
		if token == "" {
			token = klaviyotest.DefaultAPIKey
		}
		c, err := klaviyo.New(klaviyo.PrivateKey(token), klaviyo.WithBaseURL(base), klaviyo.WithRetryPolicy(policy))
		if err != nil {
			t.Fatal(err)
		}
		id := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
		return conn{
			client:   c,
			faults:   func(f ...shopcrmtest.Fault) { srv.AddFaults(f...) },
			requests: func() int { return srv.Stats().Requests },
			call:     func(ctx context.Context) error { _, _, err := c.Profiles.Get(ctx, id, false); return err },
			bad:      func(ctx context.Context) error { _, _, err := c.Profiles.Get(ctx, "", false); return err },
			apiStatus: func(err error) (int, bool) {
				var e *klaviyo.APIError
				ok := errors.As(err, &e)
				return statusOf(ok, func() int { return e.Status }), ok
			},
			rateLimit: func(err error) (time.Duration, bool) {
				var e *klaviyo.RateLimitError
				ok := errors.As(err, &e)
				return waitOf(ok, func() time.Duration { return e.RetryAfter }), ok
			},
			inputField: func(err error) (string, bool) {
				var e *klaviyo.InputError
				ok := errors.As(err, &e)
				return fieldOf(ok, func() string { return e.Field }), ok
			},
		}
	}},
}

func statusOf(ok bool, f func() int) int {
	if !ok {
		return 0
	}
	return f()
}

func waitOf(ok bool, f func() time.Duration) time.Duration {
	if !ok {
		return 0
	}
	return f()
}

func fieldOf(ok bool, f func() string) string {
	if !ok {
		return ""
	}
	return f()
}

// shape is what an error must look like for one condition, on every client.
type shape struct {
	status    int           // the *APIError's status; 0: no *APIError in the chain
	rateLimit bool          // a *RateLimitError in the chain, matching ErrRateLimited
	minWait   time.Duration // its RetryAfter at least this
	is        []error       // sentinels it must match
	isNot     []error       // sentinels it must not match
	netErr    bool          // a *url.Error in the chain
	input     bool          // an *InputError matching ErrInvalidInput
	requests  int           // requests the fake received; -1: not checked
}

// TestErrorShapes checks that each condition gives the same error shape on
// every client, reachable with errors.As from the client's own package.
func TestErrorShapes(t *testing.T) {
	tries := policy.MaxRetries + 1
	conditions := []struct {
		name    string
		faults  []shopcrmtest.Fault
		closed  bool          // the client points at a server that hangs up
		cancel  time.Duration // cancel the context after this
		timeout time.Duration // a context deadline
		bad     bool          // call with bad input
		want    shape
	}{
		{name: "429 short Retry-After, retries exhausted",
			faults: []shopcrmtest.Fault{{Kind: shopcrmtest.FaultRateLimit, RetryAfter: "0.01", Times: -1}},
			want:   shape{status: 429, rateLimit: true, minWait: 10 * time.Millisecond, is: []error{shopcrm.ErrRateLimited}, requests: tries}},
		{name: "429 long Retry-After",
			faults: []shopcrmtest.Fault{{Kind: shopcrmtest.FaultRateLimit, RetryAfter: "3600", Times: -1}},
			want:   shape{status: 429, rateLimit: true, minWait: time.Hour, is: []error{shopcrm.ErrRateLimited}, requests: 1}},
		{name: "429 then success",
			faults: []shopcrmtest.Fault{{Kind: shopcrmtest.FaultRateLimit, RetryAfter: "0.01", Times: 1}},
			want:   shape{requests: 2}},
		{name: "5xx, retries exhausted",
			faults: []shopcrmtest.Fault{{Kind: shopcrmtest.FaultStatus, Status: 503, Times: -1}},
			want:   shape{status: 503, isNot: []error{shopcrm.ErrRateLimited, shopcrm.ErrNotFound}, requests: tries}},
		{name: "401",
			faults: []shopcrmtest.Fault{{Kind: shopcrmtest.FaultStatus, Status: 401, Times: -1}},
			want:   shape{status: 401, is: []error{shopcrm.ErrUnauthorized}, isNot: []error{shopcrm.ErrRateLimited}, requests: 1}},
		{name: "404",
			faults: []shopcrmtest.Fault{{Kind: shopcrmtest.FaultStatus, Status: 404, Times: -1}},
			want:   shape{status: 404, is: []error{shopcrm.ErrNotFound}, requests: 1}},
		{name: "network error", closed: true,
			want: shape{netErr: true, isNot: []error{shopcrm.ErrRateLimited}, requests: -1}},
		{name: "context cancelled while waiting", cancel: 50 * time.Millisecond,
			faults: []shopcrmtest.Fault{{Kind: shopcrmtest.FaultRateLimit, RetryAfter: "0.5", Times: -1}},
			want:   shape{is: []error{context.Canceled}, requests: 1}},
		{name: "deadline shorter than Retry-After", timeout: 200 * time.Millisecond,
			faults: []shopcrmtest.Fault{{Kind: shopcrmtest.FaultRateLimit, RetryAfter: "0.5", Times: -1}},
			want:   shape{status: 429, rateLimit: true, minWait: 500 * time.Millisecond, is: []error{shopcrm.ErrRateLimited}, requests: 1}},
		{name: "bad input", bad: true,
			want: shape{input: true, is: []error{shopcrm.ErrInvalidInput}, requests: 0}},
	}
	// A server that hangs up on every request: a network error on a
	// listening port (a closed server's port may be reused by another
	// test's server meanwhile).
	closed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(closed.Close)
	for _, cl := range clients {
		for _, cond := range conditions {
			t.Run(cl.name+"/"+cond.name, func(t *testing.T) {
				t.Parallel()
				base := ""
				if cond.closed {
					base = closed.URL
				}
				c := cl.open(t, base, "")
				c.faults(cond.faults...)
				ctx := context.Background()
				if cond.cancel > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					time.AfterFunc(cond.cancel, cancel)
				}
				if cond.timeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, cond.timeout)
					defer cancel()
				}
				call := c.call
				if cond.bad {
					call = c.bad
				}
				err := call(ctx)
				check(t, c, err, cond.want)
			})
		}
	}
}

func check(t *testing.T, c conn, err error, want shape) {
	t.Helper()
	if want.is == nil && want.isNot == nil && want.status == 0 && !want.netErr && !want.input && !want.rateLimit {
		if err != nil {
			t.Fatalf("err = %v, want success", err)
		}
	} else if err == nil {
		t.Fatalf("err = nil, want an error")
	}
	if st, ok := c.apiStatus(err); st != want.status {
		t.Errorf("APIError status = %d (found %v), want %d; err = %v", st, ok, want.status, err)
	}
	wait, ok := c.rateLimit(err)
	if ok != want.rateLimit || wait < want.minWait {
		t.Errorf("RateLimitError = %v with wait %s, want %v with at least %s; err = %v", ok, wait, want.rateLimit, want.minWait, err)
	}
	if want.rateLimit && !errors.Is(err, shopcrm.ErrRateLimited) {
		t.Errorf("a RateLimitError that does not match ErrRateLimited: %v", err)
	}
	var ue *url.Error
	if errors.As(err, &ue) != want.netErr {
		t.Errorf("*url.Error in chain = %v, want %v; err = %v", !want.netErr, want.netErr, err)
	}
	if field, ok := c.inputField(err); ok != want.input || (ok && field == "") {
		t.Errorf("InputError = %v (field %q), want %v; err = %v", ok, field, want.input, err)
	}
	for _, s := range want.is {
		if !errors.Is(err, s) {
			t.Errorf("errors.Is(err, %v) = false; err = %v", s, err)
		}
	}
	for _, s := range want.isNot {
		if errors.Is(err, s) {
			t.Errorf("errors.Is(err, %v) = true; err = %v", s, err)
		}
	}
	if want.requests >= 0 {
		if got := c.requests(); got != want.requests {
			t.Errorf("the fake received %d requests, want %d", got, want.requests)
		}
	}
}

// TestExportedErrorTypes proves every exported error type can be named and
// matched with errors.As from outside the module.
func TestExportedErrorTypes(t *testing.T) {
	targets := []any{
		new(*shopcrm.InputError), new(*shopcrm.RateLimitError), new(*shopcrm.NotSentError), new(*shopcrm.CursorError), new(*shopcrm.BodyTooLargeError), new(*shopcrm.ResponseError),
		new(*shopify.APIError), new(*shopify.InputError), new(*shopify.RateLimitError), new(*shopify.GraphQLErrors),
		new(*shopify.GraphQLError), new(*shopify.ThrottledError), new(*shopify.UserErrors), new(*shopify.NotFoundError), new(*shopify.PaginationLimitError), new(*shopify.CallbackError), new(*shopify.SessionTokenError),
		new(*shopify.BulkInProgressError), new(*shopify.BulkOperationError), new(*shopify.StorageError), new(*shopify.BulkFormatError),
		new(*line.APIError), new(*line.InputError), new(*line.RateLimitError), new(*line.SendError), new(*line.NarrowcastError), new(*line.AudienceError),
		new(*omnisend.APIError), new(*omnisend.InputError), new(*omnisend.RateLimitError), new(*omnisend.UnknownEventError),
		new(*klaviyo.APIError), new(*klaviyo.InputError), new(*klaviyo.RateLimitError), new(*klaviyo.ImportError),
		new(*segment.StalePlanError), new(*segment.CommitError),
	}
	err := errors.New("unrelated")
	for _, target := range targets {
		if errors.As(err, target) {
			t.Errorf("errors.As matched %T on an unrelated error", target)
		}
	}
}

// TestHostileServers points every client at servers that misbehave: a
// redirect to another host must not take the credential along, and a body
// past the cap ends the call with a typed error instead of filling memory.
func TestHostileServers(t *testing.T) {
	for _, cl := range clients {
		t.Run(cl.name+"/redirect", func(t *testing.T) {
			var leaked atomic.Int32
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				leaked.Add(1)
			}))
			defer other.Close()
			redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
			}))
			defer redirect.Close()
			c := cl.open(t, redirect.URL, "")
			err := c.call(context.Background())
			if st, _ := c.apiStatus(err); st != http.StatusTemporaryRedirect {
				t.Errorf("err = %v, want the 307 as an APIError", err)
			}
			if n := leaked.Load(); n != 0 {
				t.Errorf("the other host received %d requests", n)
			}
		})
		t.Run(cl.name+"/huge body", func(t *testing.T) {
			huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"data":"`)
				chunk := strings.Repeat("x", 1<<20)
				for range 40 {
					if _, err := io.WriteString(w, chunk); err != nil {
						return
					}
				}
				io.WriteString(w, `"}`)
			}))
			defer huge.Close()
			c := cl.open(t, huge.URL, "")
			if err := c.call(context.Background()); !errors.Is(err, shopcrm.ErrBodyTooLarge) {
				t.Errorf("err = %v, want ErrBodyTooLarge", err)
			}
		})
	}
}

// TestSecretsNeverPrint runs every client against a server that echoes the
// credential back in its error body, headers and cookies, and scans every
// rendering of the client and the error (fmt verbs, JSON, slog) for it.
func TestSecretsNeverPrint(t *testing.T) {
	const secret = "sk-never-print-4f2a9c7e1b"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session="+secret)
		w.Header().Set("X-Debug-Token", secret)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"errors":"invalid token %[1]s","message":"invalid token %[1]s"}`, secret)
	}))
	defer echo.Close()
	for _, cl := range clients {
		t.Run(cl.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := cl.open(t, echo.URL, secret)
			err := c.call(context.Background())
			if !errors.Is(err, shopcrm.ErrUnauthorized) {
				t.Fatalf("err = %v", err)
			}
			slog.New(slog.NewJSONHandler(&logs, nil)).Info("call", "client", c.client, "err", err, "token", shopcrm.NewSecret(secret))
			js, _ := json.Marshal(map[string]any{"client": c.client, "err": err, "secret": shopcrm.NewSecret(secret)})
			all := fmt.Sprintf("%v %+v %#v %s | %v %+v %#v %s | %s | %s", c.client, c.client, c.client, c.client, err, err, err, err, js, logs.String())
			if strings.Contains(all, secret) {
				t.Errorf("the secret printed:\n%s", all)
			}
		})
	}
}
