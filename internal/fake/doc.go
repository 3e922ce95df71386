// Package fake is the plumbing the bundled fakes share (shopifytest,
// linetest): a clock that is real time plus an offset, fault selection
// (scripted faults consumed in order, then seeded chaos), the HTTP actions
// of each fault kind, per-request latency that honours cancellation, and
// the counters behind Stats.
//
// What a request's op is, the shape of error bodies and the platforms'
// rate-limit models stay in each fake. The public names of faults and
// counters live in package shopcrmtest.
package fake
