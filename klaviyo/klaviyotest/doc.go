// Package klaviyotest is a fake Klaviyo API for tests and examples, built
// on httptest: profiles with email, phone number and external id identity
// (409 duplicate_profile), lists and their members, segments, events
// deduplicated by unique_id per profile and metric (and, without one, by
// the second), bulk event jobs, bulk profile import jobs moving from queued
// through processing to complete with per-profile errors, consent and
// suppressions (a list unsubscribe versus a global one), metrics and their
// aggregates computed from the stored events, data-privacy deletion jobs
// ([Server.DeletedProfiles]), system webhook subscriptions, and an OAuth
// token endpoint with PKCE.
//
// It answers like Klaviyo: JSON:API documents, JSON:API errors with source
// pointers, and 429 with Retry-After when an operation goes over its burst
// (1 s) or steady (1 min) limit, counted in fixed windows of its clock as
// Klaviyo counts them. Limits default to Klaviyo's tiers
// ([klaviyo.DefaultLimits]). Faults are scripted ([WithFaults],
// [Server.AddFaults]) or seeded ([WithChaos]) with the shared kinds of
// package shopcrmtest, including a lost response after the server acted.
//
// The fake refuses what it does not model with a 400 naming it: query
// parameters, filter fields and operators beyond those the spec allows,
// additional-fields other than subscriptions, grouping in metric
// aggregates, suppressing whole lists or segments.
//
// Modelled where Klaviyo documents no detail: a double opt-in list's
// pending confirmation is no change at all; suppression jobs complete at
// once; an import naming an unknown profile id fails that profile with
// not_found; events are stored as soon as they are accepted. A deletion
// job answers 202 at once and runs after the job duration
// ([WithJobDuration]), by id, email or phone number: the profile, its
// identifiers and its list and segment memberships go; its events stay
// (listed without a profile, still counted by aggregates) with string
// properties equal to one of its identifiers replaced by "redacted", as
// Klaviyo's help center describes. A deletion naming no profile is
// accepted too and deletes nothing.
package klaviyotest
