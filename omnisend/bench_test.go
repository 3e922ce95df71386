package omnisend_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
)

// benchScale shrinks Omnisend's one-minute windows so that a run of the
// benchmark lasts about 12 s: 400 and 60 requests per 2 s instead of per
// minute.
const benchScale = 30

// BenchmarkUpsertAndMirrorTags upserts 50,000 contacts in batches of 100,
// then mirrors their Shopify tags (4 owned tags, a foreign one left
// alone) from the batches' answers, against the fake enforcing Omnisend's
// limits with windows scaled down benchScale times. It reports:
//
//   - efficiency: the minimum time the limits allow ÷ the time taken. The
//     workflow is sequential (tags need the upserts' answers), so the
//     minimum is, per phase, the windows the phase's calls need beyond
//     the first: ⌊(calls−1)/limit⌋ × window, summed;
//   - 429-share: requests the fake refused ÷ requests;
//   - calls/min-calls: requests ÷ the fewest the limits allow: a create
//     and a read per 100 contacts, and a tag call per 250 contacts to add
//     to and per 250 to remove from.
func BenchmarkUpsertAndMirrorTags(b *testing.B) {
	const n = 50_000
	per := time.Minute / benchScale
	owned := []string{"shopify:vip", "shopify:repeat", "shopify:first", "shopify:subscriber"}
	rnd := rand.New(rand.NewPCG(1, 2))
	items := make([]json.RawMessage, n)
	desired := make(map[string][]string, n)
	needAdd, needRemove := 0, 0
	emails, sent := make([]string, n), make([][]string, n)
	for i := range n {
		email := fmt.Sprintf("c%06d@example.com", i)
		var had, want []string
		for _, t := range owned {
			if rnd.IntN(3) == 0 {
				had = append(had, t)
			}
			if rnd.IntN(2) == 0 {
				want = append(want, t)
			}
		}
		add, rm := false, false
		for _, t := range want {
			add = add || !contains(had, t)
		}
		for _, t := range had {
			rm = rm || !contains(want, t)
		}
		if add {
			needAdd++
		}
		if rm {
			needRemove++
		}
		desired[email] = want
		emails[i], sent[i] = email, append(had, "line")
		tags, _ := json.Marshal(sent[i])
		items[i] = json.RawMessage(fmt.Sprintf(`{"identifiers":[{"type":"email","id":%q,"channels":{"email":{"status":"subscribed"}}}],"tags":%s}`, email, tags))
	}
	for b.Loop() {
		srv := omnisendtest.NewServer(omnisendtest.WithBatchPolls(0),
			omnisendtest.WithRateLimit(omnisend.EndpointDefault, 400, per), omnisendtest.WithRateLimit(omnisend.EndpointContactTags, 60, per))
		c := srv.Client(omnisend.WithEndpointLimit(omnisend.EndpointDefault, 400, per), omnisend.WithEndpointLimit(omnisend.EndpointContactTags, 60, per))
		ctx := context.Background()
		start := time.Now()
		// A contact the batch created (201) holds the tags sent; one it
		// updated is read from its answer.
		res, err := c.Batches.Run(ctx, "POST", "contacts", items, omnisend.BatchRunOptions{PollInterval: per / 10})
		if err != nil {
			b.Fatal(err)
		}
		current := make([]omnisend.Contact, n)
		for i, r := range res {
			switch {
			case r.Outcome != shopcrm.Applied:
				b.Fatalf("item %d: %v %v", i, r.Outcome, r.Err)
			case r.ResponseCode == http.StatusCreated:
				current[i] = omnisend.Contact{Email: emails[i], Tags: sent[i]}
			default:
				ct, err := r.Contact()
				if err != nil {
					b.Fatal(err)
				}
				current[i] = *ct
			}
		}
		upserted := time.Now()
		rep, err := c.Tags.MirrorKnown(ctx, current, desired, omnisend.OwnedSet(owned...))
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		for _, r := range rep.Results {
			if r.Outcome != shopcrm.Applied {
				b.Fatalf("%+v", r)
			}
		}
		st := srv.Stats()
		srv.Close()
		// The minimum counts the calls that went through, not refused ones.
		def := st.Ops["createBatch"].Accepted + st.Ops["getBatchItems"].Accepted
		tag := st.Ops["addTags"].Accepted + st.Ops["removeTags"].Accepted
		minTime := time.Duration((def-1)/400)*per + time.Duration((tag-1)/60)*per
		minCalls := 2*((n+99)/100) + (needAdd+249)/250 + (needRemove+249)/250
		b.ReportMetric(minTime.Seconds()/took.Seconds(), "efficiency")
		b.ReportMetric(float64(st.Throttled)/float64(st.Requests), "429-share")
		b.ReportMetric(float64(st.Requests)/float64(minCalls), "calls/min-calls")
		b.ReportMetric(took.Seconds(), "s/run")
		b.Logf("scale %d×: %d upsert calls in %v, %d tag calls in %v; minimum %v, took %v; %d of %d requests throttled; %d calls, minimum %d",
			benchScale, def, upserted.Sub(start).Round(time.Millisecond), tag, took-upserted.Sub(start), minTime, took.Round(time.Millisecond),
			st.Throttled, st.Requests, st.Requests, minCalls)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
