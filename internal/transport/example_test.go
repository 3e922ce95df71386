package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/shopcrm/shopcrm/internal/transport"
)

func ExampleSecret() {
	tok := transport.NewSecret("shpat_example_token")
	fmt.Printf("%v %+v %#v %s\n", tok, tok, tok, tok)
	fmt.Println(len(tok.Reveal()))
	// Output:
	// [REDACTED] [REDACTED] [REDACTED] [REDACTED]
	// 19
}

func ExampleClient_Do() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7200")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()

	c := transport.New(transport.Config{Platform: "example", Retry: transport.DefaultRetryPolicy()})
	_, err := c.Do(context.Background(), &transport.Request{Method: "GET", URL: srv.URL, Retry: transport.RetryIdempotent})

	// Two hours is beyond the client's 60s cap: no retry, the wait is handed back.
	var rl *transport.RateLimitError
	fmt.Println(errors.Is(err, transport.ErrRateLimited), errors.As(err, &rl) && rl.RetryAfter == 2*time.Hour)
	// Output: true true
}
