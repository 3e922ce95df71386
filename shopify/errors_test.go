package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/shopcrmtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
	"github.com/shopcrm/shopcrm/tagging"
)

func TestThrottledWhenRetriesRunOut(t *testing.T) {
	srv := shopifytest.NewServer(shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: 1, Burst: 1000}))
	defer srv.Close()
	c := srv.Client(shopify.WithRetryPolicy(shopify.RetryPolicy{MaxRetries: 0, MaxWait: time.Hour}), shopify.WithSleep(fastSleep))
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{}))
	srv.Drain()
	_, err := c.Tags.Add(context.Background(), id, []string{"x"})
	var te *shopify.ThrottledError
	if !errors.Is(err, shopify.ErrRateLimited) || !errors.As(err, &te) {
		t.Fatalf("err = %v", err)
	}
	if te.RequestedCost != 10 || te.Throttle.RestoreRate != 1 || te.RetryAfter() < 9*time.Second {
		t.Errorf("throttled = %+v", te)
	}
	var ge *shopify.GraphQLError
	if !errors.As(err, &ge) || ge.Code != "THROTTLED" {
		t.Errorf("GraphQLError not found in %v", err)
	}
	// A wait beyond the policy's MaxWait is not slept.
	c2 := srv.Client(shopify.WithRetryPolicy(shopify.RetryPolicy{MaxRetries: 3, MaxWait: time.Second}))
	start := time.Now()
	_, err = c2.Tags.Add(context.Background(), id, []string{"x"})
	if !errors.Is(err, shopify.ErrRateLimited) || time.Since(start) > time.Second {
		t.Errorf("err = %v after %s", err, time.Since(start))
	}
}

func TestRetryAfterTooLong(t *testing.T) {
	srv, c := setup(t, shopifytest.WithFaults(shopifytest.Fault{Kind: shopcrmtest.FaultStatus, Status: 429, RetryAfter: "3600"}))
	_, _, err := c.Customers.Get(context.Background(), shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{})))
	if !errors.Is(err, shopify.ErrRateLimited) {
		t.Errorf("err = %v", err)
	}
}

func TestServerErrorNotRetriedForCreate(t *testing.T) {
	srv, c := setup(t, shopifytest.WithFaults(shopifytest.Fault{Op: "segmentCreate", Kind: shopcrmtest.FaultStatus, Status: 502}))
	_, err := c.Mutate(context.Background(), segmentCreateDoc, map[string]any{"name": "x", "query": mustQuery("x")}, nil)
	var ae *shopify.APIError
	if !errors.As(err, &ae) || ae.Status != 502 || ae.RequestID == "" {
		t.Errorf("err = %v", err)
	}
	if n := srv.Stats().Requests; n != 1 {
		t.Errorf("%d requests", n)
	}
}

func TestApplyCancelled(t *testing.T) {
	srv, c := setup(t, shopifytest.WithRateLimit(shopcrm.RateLimit{PerSecond: 100, Burst: 1000}), shopifytest.WithLatency(20*time.Millisecond))
	var changes []tagging.Change
	for range 300 {
		changes = append(changes, tagging.Change{ID: shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{})), Add: []string{"x"}})
	}
	ctx, cancel := context.WithCancel(context.Background())
	var calls, lastDone int
	res, err := c.Tags.Apply(ctx, changes, &shopify.ApplyOptions{
		MaxMutationsPerRequest: 10,
		Progress: func(p shopcrm.Progress) {
			calls++
			if p.Done() < lastDone || p.Seen > 300 {
				t.Errorf("progress %+v after %d", p, lastDone)
			}
			lastDone = p.Done()
			if calls == 3 {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	applied, failed := 0, 0
	for i, r := range res {
		switch {
		case r.Applied:
			applied++
			if got := tagsOf(srv, r.ID); len(got) != 1 {
				t.Errorf("applied change %d has tags %v", i, got)
			}
		case r.Err != nil:
			failed++
		default:
			t.Errorf("change %d neither applied nor failed", i)
		}
	}
	if applied == 0 || failed == 0 || applied+failed != 300 {
		t.Errorf("applied %d, failed %d", applied, failed)
	}
	// Changes never sent are NotSent and untouched; those in flight when
	// the context ended are Unknown, never reported as not sent.
	notSent := 0
	for i, r := range res {
		switch r.Outcome {
		case shopcrm.NotSent:
			notSent++
			if !errors.Is(r.Err, shopcrm.ErrNotSent) || len(tagsOf(srv, r.ID)) != 0 {
				t.Errorf("not-sent change %d: %v, tags %v", i, r.Err, tagsOf(srv, r.ID))
			}
		case shopcrm.Failed:
			t.Errorf("change %d failed after cancellation: %v", i, r.Err)
		}
	}
	if notSent == 0 {
		t.Error("no change reported not sent")
	}
}

func TestTokenSourceError(t *testing.T) {
	srv := shopifytest.NewServer()
	defer srv.Close()
	boom := errors.New("vault unavailable")
	c, _ := shopify.New(shopifytest.Shop, tokenFunc(func(context.Context) (shopify.Secret, error) { return shopify.Secret{}, boom }), shopify.WithBaseURL(srv.URL()))
	if _, err := c.Do(context.Background(), `{ segments(first: 1) { nodes { id } } }`, nil, nil); !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
}

type tokenFunc func(context.Context) (shopify.Secret, error)

func (f tokenFunc) Token(ctx context.Context) (shopify.Secret, error) { return f(ctx) }

// TestCutOffAnswerRetried: tag edits are safe to repeat, so an answer cut
// off mid-body is retried, and the edit reported done.
func TestCutOffAnswerRetried(t *testing.T) {
	srv, c := setup(t, shopifytest.WithFaults(shopifytest.Fault{Op: "tagsAdd", Kind: shopcrmtest.FaultMalformed}))
	id := shopify.CustomerGID(srv.AddCustomer(shopifytest.Customer{}))
	if _, err := c.Tags.Add(context.Background(), id, []string{"vip"}); err != nil {
		t.Fatalf("err = %v", err)
	}
	if got := tagsOf(srv, id); len(got) != 1 || srv.Stats().Faults != 1 {
		t.Errorf("tags %v, stats %+v", got, srv.Stats())
	}
}

// TestEmptyPayloadIsNotSuccess: an answer that does not say the edit was
// made is a *shopcrm.ResponseError.
func TestEmptyPayloadIsNotSuccess(t *testing.T) {
	for _, body := range []string{`{"data":null}`, `{"data":{}}`, `{"data":{"tagsAdd":null}}`} {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
		c, err := shopify.New("shop", shopify.StaticToken("shpat_empty_answers"), shopify.WithBaseURL(hs.URL),
			shopify.WithRetryPolicy(shopify.RetryPolicy{MaxRetries: 1, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		var re *shopcrm.ResponseError
		if _, err := c.Tags.Add(context.Background(), shopify.CustomerGID(1), []string{"x"}); !errors.As(err, &re) {
			t.Errorf("%s: err = %v", body, err)
		}
		res, _ := c.Tags.Apply(context.Background(), []tagging.Change{{ID: shopify.CustomerGID(1), Add: []string{"x"}}}, nil)
		if res[0].Outcome != shopcrm.Unknown || !errors.Is(res[0].Err, shopcrm.ErrMalformedResponse) {
			t.Errorf("%s: Apply result %+v", body, res[0])
		}
		hs.Close()
	}
}

// TestErrorsFrom200Redacted: errors[] and userErrors of a 200 answer that
// quote the access token do not carry it into the error.
func TestErrorsFrom200Redacted(t *testing.T) {
	const tok = "shpat_quoted_back_7d1e"
	for _, body := range []string{
		`{"errors":[{"message":"invalid token ` + tok + `"}]}`,
		`{"data":{"tagsAdd":{"userErrors":[{"field":["tags"],"message":"tag ` + tok + ` refused"}]}}}`,
	} {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
		c, err := shopify.New("shop", shopify.StaticToken(tok), shopify.WithBaseURL(hs.URL))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Tags.Add(context.Background(), shopify.CustomerGID(1), []string{"x"})
		if err == nil || strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), tok) {
			t.Errorf("err = %#v", err)
		}
		hs.Close()
	}
}
