package klaviyo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
)

// The benchmarks run against the fake at Klaviyo's own limits (unscaled:
// factor 1), counted in fixed windows as Klaviyo does, with a 5 ms round
// trip. They report
// ratios measured in the same run:
//
//   - efficiency: the least time the limits allow for the requests sent ÷
//     the time taken (1 is perfect);
//   - 429-share: throttled requests ÷ requests;
//   - requests/min: requests sent ÷ the fewest that can carry the work.
const benchLatency = 5 * time.Millisecond

// minDuration is the least time n requests take under a limit that no
// span of a second (a minute) may exceed, the client's promise: request k
// (from 0) goes no earlier than k/Burst whole seconds and k/Steady whole
// minutes after the first.
func minDuration(n int, l klaviyo.Limit) time.Duration {
	k := n - 1
	d := time.Duration(k/l.Burst) * time.Second
	if l.Steady > 0 {
		d = max(d, time.Duration(k/l.Steady)*time.Minute)
	}
	return d
}

func report(b *testing.B, srv *klaviyotest.Server, ep klaviyo.Endpoint, minRequests int, elapsed time.Duration) {
	st := srv.Stats().Ops[string(ep)]
	floor := minDuration(minRequests, klaviyo.DefaultLimits()[ep]) + benchLatency
	b.ReportMetric(float64(floor)/float64(elapsed), "efficiency")
	b.ReportMetric(float64(st.Throttled)/float64(st.Requests), "429-share")
	b.ReportMetric(float64(st.Requests)/float64(minRequests), "requests/min")
}

// BenchmarkSendEvents100k sends 100,000 loyalty events through bulk create
// jobs: 100 requests of 1,000 at tier M (10 a second, 150 a minute).
func BenchmarkSendEvents100k(b *testing.B) {
	const n = 100_000
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	events := make([]klaviyo.Event, n)
	for i := range events {
		l := klaviyo.Loyalty{Member: klaviyo.ProfileInput{Email: fmt.Sprintf("m%d@example.com", i%5000)}, Points: int64(i % 100),
			OrderID: fmt.Sprint(i), At: at}
		events[i] = l.PointsEarned()
	}
	for b.Loop() {
		b.StopTimer()
		srv := klaviyotest.NewServer(klaviyotest.WithLatency(benchLatency))
		c := srv.Client(klaviyo.WithRetryPolicy(fast))
		b.StartTimer()
		start := time.Now()
		res, err := c.Events.BulkCreate(context.Background(), events)
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil || res[n-1].Outcome != klaviyo.Applied {
			b.Fatal(err, res[n-1])
		}
		report(b, srv, klaviyo.EndpointBulkCreateEvents, n/klaviyo.MaxEventsPerRequest, elapsed)
		srv.Close()
		b.StartTimer()
	}
}

// BenchmarkAddToList100k adds 100,000 profiles to a list: 100 requests of
// 1,000 at tier M.
func BenchmarkAddToList100k(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		b.StopTimer()
		srv := klaviyotest.NewServer(klaviyotest.WithLatency(benchLatency))
		c := srv.Client(klaviyo.WithRetryPolicy(fast))
		list := srv.AddList("Everyone", "")
		ids := make([]string, n)
		for i := range ids {
			ids[i] = srv.AddProfile(klaviyo.ProfileInput{ExternalID: fmt.Sprint(i)})
		}
		b.StartTimer()
		start := time.Now()
		res, err := c.Lists.AddProfiles(context.Background(), list, ids)
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil || res[n-1].Outcome != klaviyo.Applied {
			b.Fatal(err, res[n-1])
		}
		report(b, srv, klaviyo.EndpointAddToList, n/klaviyo.MaxListMembersPerRequest, elapsed)
		srv.Close()
		b.StartTimer()
	}
}

// BenchmarkImport100k imports 100,000 profiles: 10 jobs of 10,000, each
// taking the fake 2 s (jobDuration) on its clock from queued to complete,
// polled at least 250 ms apart. Imports are bound by jobs, not requests:
// it reports the requests used against the least (one create and one final
// read per job) and the seconds until every profile was imported, beside
// the 2 s a job takes.
func BenchmarkImport100k(b *testing.B) {
	const n, jobDuration, poll = 100_000, 2 * time.Second, 250 * time.Millisecond
	profiles := make([]klaviyo.ProfileInput, n)
	for i := range profiles {
		profiles[i] = klaviyo.ProfileInput{Email: fmt.Sprintf("p%d@example.com", i), Properties: map[string]any{"ltv": i}}
	}
	for b.Loop() {
		b.StopTimer()
		srv := klaviyotest.NewServer(klaviyotest.WithLatency(benchLatency), klaviyotest.WithJobDuration(jobDuration))
		c := srv.Client(klaviyo.WithRetryPolicy(fast), klaviyo.WithPollInterval(poll))
		b.StartTimer()
		start := time.Now()
		res, err := c.Profiles.Import(context.Background(), profiles, klaviyo.ImportOptions{})
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil || res[n-1].Outcome != klaviyo.Applied {
			b.Fatal(err, res[n-1])
		}
		st := srv.Stats()
		jobs := n / klaviyo.MaxImportProfiles
		sent := st.Ops[string(klaviyo.EndpointImportProfiles)].Requests + st.Ops[string(klaviyo.EndpointGetImportJob)].Requests
		b.ReportMetric(float64(sent)/float64(2*jobs), "requests/min")
		b.ReportMetric(elapsed.Seconds(), "s-to-imported")
		b.ReportMetric(jobDuration.Seconds(), "s-per-job")
		b.ReportMetric(float64(st.Throttled)/float64(st.Requests), "429-share")
		srv.Close()
		b.StartTimer()
	}
}
