package klaviyo

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// Endpoint names an API operation by Klaviyo's operationId; each has its own
// rate limits, counted per account (per app install for OAuth).
type Endpoint string

// The endpoints the client calls.
const (
	EndpointGetProfiles           Endpoint = "get_profiles"
	EndpointGetProfile            Endpoint = "get_profile"
	EndpointCreateProfile         Endpoint = "create_profile"
	EndpointUpdateProfile         Endpoint = "update_profile"
	EndpointUpsertProfile         Endpoint = "create_or_update_profile"
	EndpointImportProfiles        Endpoint = "bulk_import_profiles"
	EndpointGetImportJob          Endpoint = "get_bulk_import_profiles_job"
	EndpointGetImportErrors       Endpoint = "get_errors_for_bulk_import_profiles_job"
	EndpointCreateEvent           Endpoint = "create_event"
	EndpointBulkCreateEvents      Endpoint = "bulk_create_events"
	EndpointGetEvents             Endpoint = "get_events"
	EndpointGetLists              Endpoint = "get_lists"
	EndpointGetList               Endpoint = "get_list"
	EndpointCreateList            Endpoint = "create_list"
	EndpointAddToList             Endpoint = "add_profiles_to_list"
	EndpointRemoveFromList        Endpoint = "remove_profiles_from_list"
	EndpointGetListProfiles       Endpoint = "get_profiles_for_list"
	EndpointGetSegments           Endpoint = "get_segments"
	EndpointGetSegmentProfiles    Endpoint = "get_profiles_for_segment"
	EndpointSubscribe             Endpoint = "bulk_subscribe_profiles"
	EndpointUnsubscribe           Endpoint = "bulk_unsubscribe_profiles"
	EndpointSuppress              Endpoint = "bulk_suppress_profiles"
	EndpointUnsuppress            Endpoint = "bulk_unsuppress_profiles"
	EndpointGetMetrics            Endpoint = "get_metrics"
	EndpointQueryMetricAggregates Endpoint = "query_metric_aggregates"
	EndpointGetWebhooks           Endpoint = "get_webhooks"
	EndpointCreateWebhook         Endpoint = "create_webhook"
	EndpointDeleteWebhook         Endpoint = "delete_webhook"
	EndpointGetWebhookTopics      Endpoint = "get_webhook_topics"
	EndpointRequestDeletion       Endpoint = "request_profile_deletion"
	// EndpointRaw is every call made through [Client.Do] without an
	// Endpoint of its own.
	EndpointRaw Endpoint = "raw"
)

// Limit is one endpoint's limits: Burst requests in any second and Steady
// requests in any minute. Zero counts mean no limit.
type Limit struct {
	Burst  int // per second
	Steady int // per minute
}

// Klaviyo's rate limit tiers, as the spec's x-klaviyo-ratelimit gives them
// for revision 2026-07-15 (L is 700/m in older revisions' docs).
var (
	TierXS = Limit{Burst: 1, Steady: 15}
	TierS  = Limit{Burst: 3, Steady: 60}
	TierM  = Limit{Burst: 10, Steady: 150}
	TierL  = Limit{Burst: 75, Steady: 750}
	TierXL = Limit{Burst: 350, Steady: 3500}
)

// DefaultLimits returns each endpoint's limits from the spec's
// x-klaviyo-ratelimit (revision 2026-07-15). Daily caps (create_list:
// 150 a day) are not paced by the client. Calls through [Client.Do] get M.
func DefaultLimits() map[Endpoint]Limit {
	return map[Endpoint]Limit{
		EndpointGetProfiles: TierL, EndpointGetProfile: TierL, EndpointCreateProfile: TierL,
		EndpointUpdateProfile: TierL, EndpointUpsertProfile: TierL,
		EndpointImportProfiles: TierM, EndpointGetImportJob: TierM, EndpointGetImportErrors: TierM,
		EndpointCreateEvent: TierXL, EndpointGetEvents: TierXL, EndpointBulkCreateEvents: TierM,
		EndpointGetLists: TierL, EndpointGetList: TierL, EndpointCreateList: TierM,
		EndpointAddToList: TierM, EndpointRemoveFromList: TierM, EndpointGetListProfiles: TierL,
		EndpointGetSegments: TierL, EndpointGetSegmentProfiles: TierL,
		EndpointSubscribe: TierL, EndpointUnsubscribe: TierL, EndpointSuppress: TierL, EndpointUnsuppress: TierL,
		EndpointGetMetrics: TierM, EndpointQueryMetricAggregates: TierS,
		EndpointGetWebhooks: TierXS, EndpointCreateWebhook: TierXS, EndpointDeleteWebhook: TierXS,
		EndpointGetWebhookTopics: TierXS, EndpointRequestDeletion: TierS,
		EndpointRaw: TierM,
	}
}

// The client's windows are a little longer than Klaviyo's, so that
// requests sent a window apart do not arrive less than one apart after
// network jitter: SteadyMargin for the minute, and for the second a margin
// that starts at BurstMargin, doubles (up to MaxBurstMargin) each time an
// endpoint is throttled anyway, and shrinks back slowly as answers succeed.
const (
	BurstMargin    = 30 * time.Millisecond
	MaxBurstMargin = 400 * time.Millisecond
	SteadyMargin   = 500 * time.Millisecond
)

// limiter holds one gate per endpoint: an x/time/rate bucket refilling
// Burst a second, and on top of it two window checks, so that no span of
// a second (plus the burst margin) sees more than Burst requests and no
// span of a minute (plus SteadyMargin) more than Steady. Answers that
// carry RateLimit-Limit lower the minute window to what the server says.
type limiter struct {
	mu     sync.Mutex
	lim    map[Endpoint]Limit
	g      map[Endpoint]*transport.Gate
	margin map[Endpoint]time.Duration
}

func newLimiter(lim map[Endpoint]Limit) *limiter {
	l := &limiter{lim: lim, g: map[Endpoint]*transport.Gate{}, margin: map[Endpoint]time.Duration{}}
	for e, v := range lim {
		l.g[e] = gateFor(v)
		l.margin[e] = BurstMargin
	}
	return l
}

func gateFor(v Limit) *transport.Gate {
	switch {
	case v.Burst <= 0 && v.Steady <= 0:
		return nil
	case v.Burst <= 0:
		v.Burst = v.Steady
	}
	g := transport.NewGate(float64(v.Burst), v.Burst)
	g.SetWindow(v.Burst, time.Second+BurstMargin)
	if v.Steady > 0 {
		g.SetSecondWindow(v.Steady, time.Minute+SteadyMargin)
	}
	return g
}

func (l *limiter) get(e Endpoint) *transport.Gate {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.g[e]
}

// throttled lengthens e's burst window after a 429: the requests left the
// client a window apart but did not arrive so.
func (l *limiter) throttled(e Endpoint) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if g := l.g[e]; g != nil {
		l.margin[e] = min(2*l.margin[e], MaxBurstMargin)
		g.ResizeWindows(time.Second+l.margin[e], 0)
	}
}

// succeeded shrinks a lengthened burst window back, a little per answer.
func (l *limiter) succeeded(e Endpoint) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.margin[e]
	if g := l.g[e]; g != nil && m > BurstMargin {
		l.margin[e] = max(BurstMargin, m-max(m/32, time.Millisecond))
		g.ResizeWindows(time.Second+l.margin[e], 0)
	}
}

// observe tunes e's minute window from the RateLimit-Limit header, which
// Klaviyo sends on answers that were not throttled and which describes
// the steady window.
func (l *limiter) observe(e Endpoint, h http.Header) {
	v := h.Get("RateLimit-Limit")
	if v == "" {
		return
	}
	if i := strings.IndexAny(v, ",;"); i >= 0 {
		v = v[:i]
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.g[e]
	if g == nil {
		return
	}
	if cur, _ := g.SecondWindow(); n < cur {
		g.SetSecondWindow(n, time.Minute+SteadyMargin)
	}
}

// Limit reports the limits the client paces endpoint e at now.
func (c *Client) Limit(e Endpoint) Limit {
	g := c.limits.get(e)
	if g == nil {
		return Limit{}
	}
	b, _ := g.Window()
	n, _ := g.SecondWindow()
	return Limit{Burst: b, Steady: n}
}

// RateLimitState is what an answer said about the endpoint's steady window
// (RateLimit-Limit, -Remaining, -Reset). Klaviyo sends it on answers that
// were not throttled; zero when absent.
type RateLimitState struct {
	Limit     int
	Remaining int
	Reset     time.Duration
}

func rateLimitState(h http.Header) RateLimitState {
	first := func(k string) int {
		v := h.Get(k)
		if i := strings.IndexAny(v, ",;"); i >= 0 {
			v = v[:i]
		}
		n, _ := strconv.Atoi(strings.TrimSpace(v))
		return max(n, 0)
	}
	// Reset is bounded, so that no header overflows it into a negative
	// duration.
	return RateLimitState{Limit: first("RateLimit-Limit"), Remaining: first("RateLimit-Remaining"),
		Reset: time.Duration(min(first("RateLimit-Reset"), 365*24*3600)) * time.Second}
}
