package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/tagging"
)

// The platform names a step's [Minimum] is filed under. Give
// [Meter.Client] the same names, so that the report sets each platform's
// measured requests beside its minimum.
const (
	PlatformShopify  = "shopify"
	PlatformLINE     = "line"
	PlatformOmnisend = "omnisend"
	PlatformKlaviyo  = "klaviyo"
)

// Minimum is the least one platform allows a step's work to cost: the
// fewest requests it needs at the platform's documented batch and page
// sizes, and the least time the platform's rate limits allow for them. It
// comes from what the step did (its tag changes, users, contacts,
// profiles, events, pages read) and from the limits the step's client
// paces itself at, so a fake with scaled limits gives a floor scaled
// alike.
//
// Requests and Floor are each a lower bound over the ways the platform
// offers for the work: Shopify tag changes may go as aliased batches (a
// request per 1,000 cost points, paced by the restore rate) or as bulk
// mutations (three requests a round, not paced at all), so the fewest
// requests and the least time can come from different ways. What no
// limit states is left out rather than guessed: how long Shopify takes
// to run a bulk operation or Klaviyo an import job, how many pages a
// server splits a list into beyond its maximum page size, and network
// time. A bulk export therefore counts as two requests (its start and
// one status read) and no time. Shopify's requests are those of the Admin
// API: bulk files move through a storage host, uncounted and unpaced.
type Minimum struct {
	// Requests is the fewest requests the work needs.
	Requests int
	// Floor is the least time the rate limits allow for the work.
	Floor time.Duration
	// Bound names the limit that sets Floor ("60 contact-tags calls/min");
	// empty when no limit makes the work wait.
	Bound string
}

// String is "n requests, floor d (at bound)".
func (m Minimum) String() string {
	s := fmt.Sprintf("%d requests, floor %s", m.Requests, m.Floor.Round(time.Millisecond))
	if m.Bound != "" {
		s += " at " + m.Bound
	}
	return s
}

// pace raises the floor to d when d is longer, naming the limit that sets it.
func (m *Minimum) pace(d time.Duration, bound string) {
	if d > m.Floor {
		m.Floor, m.Bound = d, bound
	}
}

// windowFloor is the least time n requests take when at most max may
// start in any span of per: the first max go at once, each next max a
// span later.
func windowFloor(n, max int, per time.Duration) time.Duration {
	if max <= 0 || n <= max {
		return 0
	}
	return time.Duration((n-1)/max) * per
}

// bucketFloor is the least time a token bucket holding burst and
// refilling rate a second lets n through, starting full.
func bucketFloor(n, burst, rate float64) time.Duration {
	if rate <= 0 || n <= burst {
		return 0
	}
	return time.Duration((n - burst) / rate * float64(time.Second))
}

// pages is the fewest requests that read n items at most size a page: at
// least one, which finds out that there are none.
func pages(n, size int) int { return max(1, ceilDiv(n, size)) }

func ceilDiv(n, d int) int {
	if n <= 0 {
		return 0
	}
	return (n + d - 1) / d
}

// Shopify's cost model (platforms/shopify.md): an object costs 1 point, a
// mutation 10, and no document may cost more than [shopify.MaxQueryCost].
const (
	shopifyObjectCost   = 1
	shopifyMutationCost = 10
)

// Shopify's requests are Admin API requests: a bulk operation's file
// moves to or from a storage host, through the client's storage HTTP
// client, neither counted (a [Meter] counts the API client's requests)
// nor paced.

// bulkExportRequests are the requests of one bulk export: the query that
// starts it and one status read. A first status read may find it
// running, so an export usually takes more.
const bulkExportRequests = 2

// bulkMutationRequests are the requests of one round of bulk mutations:
// the staged upload's target, the run and one status read.
const bulkMutationRequests = 3

// shopifyNeed adds up the requests and cost points a step's work needs
// from Shopify.
type shopifyNeed struct {
	requests int
	points   int
}

func (n *shopifyNeed) add(requests, points int) {
	n.requests += requests
	n.points += points
}

// export adds k bulk exports: their requests, and the mutation each is
// started with (status reads cost a point or two: left out).
func (n *shopifyNeed) export(k int) { n.add(k*bulkExportRequests, k*shopifyMutationCost) }

// reads adds the reads of k resources by id, the fewer of one request
// each and one export (plus the reads of the ids the export did not have,
// when it ran).
func (n *shopifyNeed) reads(k, missed int) {
	if k == 0 {
		return
	}
	one := shopifyNeed{requests: k, points: k * shopifyObjectCost}
	bulk := shopifyNeed{requests: bulkExportRequests + missed, points: shopifyMutationCost + missed*shopifyObjectCost}
	n.add(min(one.requests, bulk.requests), min(one.points, bulk.points))
}

// tags adds tag changes, the least of the two ways Shopify offers in each
// measure: aliased tagsAdd/tagsRemove at 10 points a mutation, up to
// 1,000 points a document; or bulk mutations, one round for the removals
// and one for the additions (a resource holds one change here), whose
// only paced cost is the two mutations that stage and start each round.
func (n *shopifyNeed) tags(changes []tagging.Change) {
	removals, additions := 0, 0 // mutations, at most 250 tags each
	for _, ch := range changes {
		removals += ceilDiv(len(ch.Remove), shopify.MaxTagsPerCall)
		additions += ceilDiv(len(ch.Add), shopify.MaxTagsPerCall)
	}
	mutations := removals + additions
	if mutations == 0 {
		return
	}
	rounds := min(removals, 1) + min(additions, 1)
	aliased := shopifyNeed{requests: ceilDiv(mutations*shopifyMutationCost, shopify.MaxQueryCost), points: mutations * shopifyMutationCost}
	bulk := shopifyNeed{requests: rounds * bulkMutationRequests, points: rounds * 2 * shopifyMutationCost}
	n.add(min(aliased.requests, bulk.requests), min(aliased.points, bulk.points))
}

// minimum is the need at c's restore rate and bucket, as the client last
// learned them from Shopify.
func (n shopifyNeed) minimum(c *shopify.Client) Minimum {
	rate, bucket, _ := c.RateLimit()
	m := Minimum{Requests: n.requests}
	m.pace(bucketFloor(float64(n.points), float64(bucket), rate), fmt.Sprintf("%g points/s", rate))
	return m
}

// window is a rate limit: at most n requests in any span of per.
type window struct {
	n   int
	per time.Duration
}

// endpointNeed counts the requests a step's work needs from a platform
// that limits each endpoint (or class of endpoints) apart.
type endpointNeed[E ~string] map[E]int

// minimum is the need when each endpoint is held to its windows: the
// slowest sets the floor.
func (n endpointNeed[E]) minimum(windows func(E) []window) Minimum {
	var m Minimum
	for _, e := range slices.Sorted(maps.Keys(n)) {
		m.Requests += n[e]
		for _, w := range windows(e) {
			m.pace(windowFloor(n[e], w.n, w.per), fmt.Sprintf("%d %s calls/%s", w.n, e, unit(w.per)))
		}
	}
	return m
}

// omnisendWindows are the limits c holds a class of endpoints to.
func omnisendWindows(c *omnisend.Client) func(omnisend.Endpoint) []window {
	return func(e omnisend.Endpoint) []window {
		l := c.EndpointLimit(e)
		return []window{{l.Requests, l.Per}}
	}
}

// klaviyoWindows are the limits c paces an endpoint at: so many a second
// and so many a minute.
func klaviyoWindows(c *klaviyo.Client) func(klaviyo.Endpoint) []window {
	return func(e klaviyo.Endpoint) []window {
		l := c.Limit(e)
		return []window{{l.Burst, time.Second}, {l.Steady, time.Minute}}
	}
}

// unit names a limit's span: "min" for a minute, "s" for a second.
func unit(d time.Duration) string {
	switch d {
	case time.Minute:
		return "min"
	case time.Second:
		return "s"
	case time.Hour:
		return "h"
	}
	return d.String()
}
