// Package dayflow runs the daily pipeline of many shops as Temporal
// workflows: one workflow per shop and day ([Day]) whose activities are
// the steps of package pipeline, called as they are, in the order
// [pipeline.RunDay] calls them.
//
// # At least once, effects once
//
// Temporal runs an activity at least once: a worker killed mid-step, a
// lost completion or a timeout makes it run the step again, on the same
// or another worker. That is safe because every step is: what a step
// writes is idempotent by nature (tag edits, upserts by remote id) or
// recorded in the shop's [pipeline.State] before it is sent, under keys
// made of the shop, the day, the step and the item (a LINE retry key, a
// Klaviyo unique_id, an engagement day). Nothing in an activity depends on
// the attempt: the [Directory] builds the same environment for every
// attempt of a shop's day, and the workflow passes only the shop and the
// day. A step run again therefore resumes where the last attempt stopped
// and sends nothing twice.
//
// # Retries are bounded
//
// Temporal's default retry policy is unbounded; here every step has a
// [StepPolicy] with a maximum number of attempts and a schedule-to-close
// timeout, chosen per step ([DefaultPolicies] says why). The LINE step's
// retries end hours before its retry key expires (LINE honours a key for
// 24 hours from its first use), so no retry can resend a message under a
// key LINE has forgotten.
//
// # Per-shop limits
//
// A shop's workflow runs its steps one after another: at most one
// activity of a shop runs at any time, whatever the number of workers, and
// each activity uses the shop's clients, built with the shop's own rate
// limits. So the client-side limiters of one process are the only traffic
// a shop's platforms see from the app, and many workers scale across
// shops, not within one.
//
// A worker serves its activities through a [Cache], which keeps a shop's
// clients, and the state of their limiters, across the attempts and steps
// of the shop's day on that worker: a step retried there knows what the
// failed attempt left in the platform's windows. A step that lands on
// another worker finds the shop's clients fresh there, with limiters that
// start full although the platform's windows may still hold what the
// other worker sent in the last minute: the platform may then refuse some
// requests (429), which the clients wait out and send again. At most what
// the other worker sent within the platform's window is refused, and the
// wait is at most that window.
package dayflow
