package line_test

import (
	"context"
	"fmt"
	"net/http/httptrace"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
)

// BenchmarkMulticast200k multicasts to 200,000 users against the fake at
// LINE's 200 req/s with 50 ms latency per request. efficiency is the
// minimum time the limit allows (calls ÷ 200 req/s) over the time taken;
// the fake counts what it throttled, so efficiency can only reach 1 by
// staying within the limit. The client's gate allows a burst of 5; the
// fake's bucket here holds 40 requests (200 ms at 200 req/s) because on a
// CPU shared with other work the fake's handlers can stall and then see
// requests the client sent evenly arrive together.
func BenchmarkMulticast200k(b *testing.B) {
	const (
		n       = 200_000
		rate    = 200.0
		latency = 50 * time.Millisecond
	)
	to := make([]string, n)
	for i := range to {
		to[i] = fmt.Sprintf("U%032x", i)
	}
	srv := linetest.NewServer(linetest.WithLatency(latency), linetest.WithRateLimit(line.EndpointMulticast, shopcrm.RateLimit{PerSecond: rate, Burst: 40}))
	defer srv.Close()
	// A client as New builds it with defaults, only pointed at the fake.
	c, err := line.New(line.StaticToken(linetest.DefaultToken), line.WithBaseURL(srv.URL()), line.WithDataURL(srv.URL()))
	if err != nil {
		b.Fatal(err)
	}
	msgs := []line.Message{line.TextMessage{Text: "Spring sale"}}
	// Count the TCP connections opened: the default HTTP client keeps as
	// many idle per host as multicast chunks in flight, so none churn.
	var conns atomic.Int64
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) {
			if !i.Reused {
				conns.Add(1)
			}
		},
	})
	var calls int
	var taken time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := c.Messages.Multicast(ctx, &line.MulticastRequest{To: to, Messages: msgs, RetryKey: line.KeyFrom("bench", fmt.Sprint(i))})
		taken += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		calls += res.Calls
	}
	b.StopTimer()
	want := (n + line.MaxMulticastRecipients - 1) / line.MaxMulticastRecipients
	if calls != want*b.N {
		b.Fatalf("calls = %d, want %d", calls, want*b.N)
	}
	min := time.Duration(float64(calls) / rate * float64(time.Second))
	b.ReportMetric(min.Seconds()/taken.Seconds(), "efficiency")
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(conns.Load())/float64(b.N), "conns/op")
	b.ReportMetric(float64(srv.Stats().Ops["multicast"].Throttled), "throttled")
	// On a quiet machine nothing is throttled. A fake stalled for longer
	// than its bucket covers sees requests bunched on arrival; such 429s
	// are retried with the same key, so a few are reported and only more
	// than 1% of calls fails the run.
	if th := srv.Stats().Ops["multicast"].Throttled; th*100 > calls {
		b.Errorf("the fake throttled %d of %d requests", th, calls)
	} else if th > 0 {
		b.Logf("the fake throttled %d of %d requests (scheduling jitter); each was retried", th, calls)
	}
}
