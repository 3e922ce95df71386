package dayflow

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Step names one activity of the day, in the order the workflow runs them.
type Step string

// The steps of a day, as package pipeline names its step functions.
const (
	StepLifecycle Step = "Lifecycle"
	StepSegments  Step = "Segments"
	StepLINE      Step = "SendLINE"
	StepOmnisend  Step = "SyncOmnisend"
	StepKlaviyo   Step = "SyncKlaviyo"
	StepMarketing Step = "Marketing"
)

// Steps are the day's steps in order.
var Steps = []Step{StepLifecycle, StepSegments, StepLINE, StepOmnisend, StepKlaviyo, StepMarketing}

// StepPolicy is how long one step may take and how it is retried.
type StepPolicy struct {
	// StartToClose bounds one attempt.
	StartToClose time.Duration
	// ScheduleToClose bounds all attempts together, retries and backoff
	// included; it is what keeps a retry inside a platform's idempotency
	// window.
	ScheduleToClose time.Duration
	// Heartbeat is how long an attempt may go without a heartbeat before
	// Temporal counts it lost (its worker died) and schedules the next
	// one. Activities heartbeat several times per Heartbeat.
	Heartbeat time.Duration
	// InitialInterval, Backoff and MaxInterval space the retries.
	InitialInterval time.Duration
	Backoff         float64
	MaxInterval     time.Duration
	// MaxAttempts bounds the attempts (Temporal's default, 0, is
	// unlimited; a StepPolicy always sets it).
	MaxAttempts int32
}

// Policies are the policies of the steps; a step missing from it takes
// its [DefaultPolicies] entry.
type Policies map[Step]StepPolicy

// DefaultPolicies are the production policies, for stores up to a few
// hundred thousand customers:
//
//   - Lifecycle, Segments, Omnisend and Klaviyo write idempotent changes
//     (tag edits, list membership, profile properties, events keyed by
//     unique_id): retrying them is always safe, so they retry for up to
//     six hours, backing off to ten minutes, enough to ride out a
//     platform's incident. An attempt may take an hour (bulk exports of a
//     large store).
//   - SendLINE retries for at most 12 hours from its first schedule: a
//     LINE retry key is honoured for 24 hours after its first use, and a
//     retry after that could deliver a message twice. 12 hours leave room
//     for a rerun of the day by hand under the same keys.
//   - Marketing sends each engagement day at most once whatever happens
//     (the record says so before the request leaves), so its retries only
//     cost time; they stop after six hours, like the idempotent steps.
//
// Every step heartbeats: a worker that dies is noticed after a minute and
// the step moves to another worker, rather than after StartToClose.
func DefaultPolicies() Policies {
	idem := StepPolicy{
		StartToClose: time.Hour, ScheduleToClose: 6 * time.Hour, Heartbeat: time.Minute,
		InitialInterval: 10 * time.Second, Backoff: 2, MaxInterval: 10 * time.Minute, MaxAttempts: 40,
	}
	line := idem
	line.ScheduleToClose = 12 * time.Hour
	line.MaxAttempts = 60
	return Policies{
		StepLifecycle: idem, StepSegments: idem, StepLINE: line,
		StepOmnisend: idem, StepKlaviyo: idem, StepMarketing: idem,
	}
}

// LINEKeyWindow is how long LINE honours a retry key after its first use.
const LINEKeyWindow = 24 * time.Hour

// policy returns the policy of step s.
func (p Policies) policy(s Step) StepPolicy {
	if sp, ok := p[s]; ok {
		return sp
	}
	return DefaultPolicies()[s]
}

// activityOptions turns a policy into Temporal's options. Input errors
// are never retried: the same input fails the same way.
func (sp StepPolicy) activityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    sp.StartToClose,
		ScheduleToCloseTimeout: sp.ScheduleToClose,
		HeartbeatTimeout:       sp.Heartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        sp.InitialInterval,
			BackoffCoefficient:     sp.Backoff,
			MaximumInterval:        sp.MaxInterval,
			MaximumAttempts:        sp.MaxAttempts,
			NonRetryableErrorTypes: []string{ErrInput},
		},
	}
}
