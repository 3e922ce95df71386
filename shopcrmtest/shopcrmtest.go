// Package shopcrmtest is the vocabulary the bundled fakes share
// (shopify/shopifytest, line/linetest): the faults they inject on demand and
// the counters they keep. It sits beside them as net/http/httptest sits
// beside net/http.
//
// Every fake takes the same [Fault] values through its WithFaults option and
// its AddFaults method, draws the same kinds of seeded faults through
// WithChaos, and reports the same [Stats]. A test table can therefore script
// one set of failures and run it against every client:
//
//	faults := []shopcrmtest.Fault{
//		{Kind: shopcrmtest.FaultRateLimit, RetryAfter: "0.01", Times: 2},
//		{Kind: shopcrmtest.FaultRateLimit, RetryAfter: "3600"},
//		{Kind: shopcrmtest.FaultStatus, Status: 503, Times: 10},
//		{Kind: shopcrmtest.FaultStatus, Status: 401},
//		{Kind: shopcrmtest.FaultDrop, Times: 3},
//	}
//
// What an op is differs by platform and is documented by each fake: the
// top-level field of a GraphQL document for Shopify ("tagsAdd",
// "customers"), the endpoint class ("push", "multicast") or the path for
// LINE. The body of a status answer is shaped like the platform's own
// errors.
package shopcrmtest

import "fmt"

// FaultKind says how an injected fault makes a request fail. The zero value,
// FaultNone, is no fault.
type FaultKind int

// Kinds of fault. "Without acting" means the fake changes no state: the
// request may be sent again safely. "After acting" means the change was
// made and only the answer is lost or damaged, the case that only
// idempotency keys survive.
const (
	// FaultNone is no fault. A scripted Fault of this kind lets the
	// requests it matches through untouched, so a script can spare the
	// first few.
	FaultNone FaultKind = iota
	// FaultStatus answers Fault.Status (503 when zero) without acting, with
	// a Retry-After header when Fault.RetryAfter is set, and a body shaped
	// like the platform's errors for that status.
	FaultStatus
	// FaultRateLimit answers 429 without acting, with the platform's
	// rate-limit body and a Retry-After header when Fault.RetryAfter is
	// set.
	FaultRateLimit
	// FaultDrop closes the connection without acting and without answering.
	FaultDrop
	// FaultLostResponse acts, then closes the connection instead of
	// answering: the client sees a network error although the change was
	// made.
	FaultLostResponse
	// FaultTimeout holds the request without acting until the client hangs
	// up (or a minute passes), then closes the connection.
	FaultTimeout
	// FaultMalformed acts, then answers with the status it would have sent
	// and a truncated body that does not parse.
	FaultMalformed
)

var kindNames = [...]string{"none", "status", "rate limit", "drop", "lost response", "timeout", "malformed"}

// String names the kind ("none", "status", "rate limit", "drop", "lost
// response", "timeout", "malformed").
func (k FaultKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault is one scripted failure. Scripted faults are consumed in order: a
// request meets the first fault in the script that matches it and has hits
// left.
//
// A fake refuses (panics at NewServer, or from AddFaults) a fault it cannot
// carry out as written: an unknown kind or op, a Status other than 4xx or
// 5xx, or a Status or RetryAfter on a kind that sends no answer.
type Fault struct {
	// Op restricts the fault to requests for that op; empty matches every
	// request. Each fake documents its ops.
	Op string
	// Kind is how the request fails.
	Kind FaultKind
	// Status is the HTTP status of FaultStatus, 400 to 599; zero means
	// 503. FaultRateLimit always answers 429.
	Status int
	// RetryAfter is sent as the Retry-After header with FaultStatus and
	// FaultRateLimit, as written: "0.01", "3600".
	RetryAfter string
	// Times is how many matching requests the fault strikes: zero means
	// one, a negative number every one from then on.
	Times int
}

// String describes the fault, e.g. "status 503 on tagsAdd x2".
func (f Fault) String() string {
	s := f.Kind.String()
	switch {
	case f.Kind == FaultStatus && f.Status == 0:
		s += " 503"
	case f.Status != 0:
		s += fmt.Sprintf(" %d", f.Status)
	}
	if f.RetryAfter != "" {
		s += " retry-after " + f.RetryAfter
	}
	if f.Op != "" {
		s += " on " + f.Op
	}
	switch {
	case f.Times < 0:
		s += " always"
	case f.Times > 1:
		s += fmt.Sprintf(" x%d", f.Times)
	}
	return s
}

// Stats counts what a fake did since it started.
type Stats struct {
	// Requests counts the HTTP requests the fake handled; a request whose
	// client hung up during the injected latency is not counted.
	Requests int
	// Throttled counts requests refused by the fake's own rate limits
	// (Shopify's THROTTLED, LINE's 429); injected faults are not counted.
	Throttled int
	// Faults counts requests struck by an injected fault.
	Faults int
	// Accepted counts requests the fake acted on with success, including
	// those whose answer a fault then lost or truncated.
	Accepted int
	// Ops holds the same counts per op, for the requests whose op the fake
	// could tell (a Shopify document with two top-level fields counts for
	// both).
	Ops map[string]OpStats
}

// OpStats counts what a fake did for one op, as the fields of the same
// names in Stats do for all.
type OpStats struct {
	Requests  int // requests for the op
	Throttled int // of those, refused by the fake's rate limits
	Faults    int // of those, struck by an injected fault
	Accepted  int // of those, acted on with success
}

// Chaos is seeded random faults drawn from templates, for the fakes'
// WithChaosFaults option: each request that no scripted fault matched fails
// with probability Rate, with a copy of one of Faults drawn at random,
// deterministically from Seed for a given order of requests.
//
// Where WithChaos draws a kind and answers every status fault with a 503
// and every 429 without Retry-After, templates say which statuses and
// headers to mix: see [EveryFault].
type Chaos struct {
	Seed uint64  // seeds the generator
	Rate float64 // share of requests that fail, 0 to 1
	// Faults are the templates drawn from, with equal chances; their Op
	// and Times must be empty. Empty: the fake's WithChaos defaults.
	Faults []Fault
	// OnFault, when set, is called with every fault drawn, on the
	// request's goroutine, e.g. to count the faults by kind or status.
	OnFault func(Fault)
}

// EveryFault is a set of templates covering every kind of fault: a 429
// without Retry-After and one with retryAfter, statuses 500, 502, 503 and
// 504, a dropped connection, a lost response, a timeout and a malformed
// body. Status and rate-limit faults make up half of the set, the other
// kinds a tenth each.
func EveryFault(retryAfter string) []Fault {
	return []Fault{
		{Kind: FaultRateLimit}, {Kind: FaultRateLimit, RetryAfter: retryAfter},
		{Kind: FaultStatus, Status: 500}, {Kind: FaultStatus, Status: 502},
		{Kind: FaultStatus, Status: 503}, {Kind: FaultStatus, Status: 504},
		{Kind: FaultDrop}, {Kind: FaultLostResponse}, {Kind: FaultTimeout}, {Kind: FaultMalformed},
	}
}
