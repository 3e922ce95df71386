package dayflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/examples/pipeline"
)

// A Directory opens a shop's day for one activity attempt. It must build
// the same environment for every attempt of the same shop and day: the
// shop's configuration, its State (persistent, shared by every worker
// that may run the shop) and the day's events; and clients built with the
// shop's own rate limits. Open is called concurrently for different
// shops.
//
// A worker normally serves its activities through a [Cache] in front of
// the Directory, which opens a shop's day once per worker and keeps its
// clients, hence their limiters' state, across attempts and steps.
//
// A Directory that also has a method EndDay(shop string, day
// calendar.Date), as a Cache has, is told when a day's last step has
// succeeded.
type Directory interface {
	Open(ctx context.Context, shop string, day calendar.Date) (*Shop, error)
}

// dayEnder is a Directory that hears when a day's last step succeeded.
type dayEnder interface {
	EndDay(shop string, day calendar.Date)
}

// Shop is a shop's day as a step needs it. The activities never change
// it (a step gets its own copy of Env), so it may serve many attempts.
type Shop struct {
	Env    *pipeline.Env
	Events pipeline.Events // the day's subscription events, for Lifecycle
	// Requests, when set, returns the requests made so far by platform
	// (over the Shop's life, not only one attempt's: the activity reports
	// the difference over its attempt); otherwise Env.Meter's counts are
	// used.
	Requests func() map[string]int
	// Close, when set, is called when the attempt ends: to release the
	// clients' connections, or, from a [Cache], to hand the day back.
	Close func()
}

// Activities are the day's steps as Temporal activities. Register them
// with [Activities.Register].
type Activities struct {
	Dir Directory
}

// Register registers the steps under their [Step] names.
func (a *Activities) Register(r interface {
	RegisterActivityWithOptions(any, activity.RegisterOptions)
}) {
	for _, s := range Steps {
		r.RegisterActivityWithOptions(a.activity(s), activity.RegisterOptions{Name: string(s)})
	}
}

// stepFunc runs one pipeline step.
type stepFunc func(ctx context.Context, sh *Shop) (*pipeline.StepReport, error)

// stepFuncs are the pipeline's step functions, as RunDay calls them.
var stepFuncs = map[Step]stepFunc{
	StepLifecycle: func(ctx context.Context, sh *Shop) (*pipeline.StepReport, error) {
		return pipeline.Lifecycle(ctx, sh.Env, sh.Events.Customers, sh.Events.Orders)
	},
	StepSegments: func(ctx context.Context, sh *Shop) (*pipeline.StepReport, error) {
		r, err := pipeline.Segments(ctx, sh.Env)
		if r == nil {
			return nil, err
		}
		return r.StepReport, err
	},
	StepLINE: func(ctx context.Context, sh *Shop) (*pipeline.StepReport, error) {
		return pipeline.SendLINE(ctx, sh.Env)
	},
	StepOmnisend: func(ctx context.Context, sh *Shop) (*pipeline.StepReport, error) {
		return pipeline.SyncOmnisend(ctx, sh.Env)
	},
	StepKlaviyo: func(ctx context.Context, sh *Shop) (*pipeline.StepReport, error) {
		return pipeline.SyncKlaviyo(ctx, sh.Env)
	},
	StepMarketing: func(ctx context.Context, sh *Shop) (*pipeline.StepReport, error) {
		r, err := pipeline.Marketing(ctx, sh.Env)
		if r == nil {
			return nil, err
		}
		return r.StepReport, err
	},
}

func (a *Activities) activity(s Step) func(context.Context, StepInput) (*StepResult, error) {
	return func(ctx context.Context, in StepInput) (*StepResult, error) { return a.run(ctx, s, in) }
}

// run is one attempt of step s: it opens the shop, heartbeats while the
// step runs, and maps the step's errors onto Temporal's.
func (a *Activities) run(ctx context.Context, s Step, in StepInput) (*StepResult, error) {
	info := activity.GetInfo(ctx)
	if a.Dir == nil {
		return nil, temporal.NewNonRetryableApplicationError("dayflow: Activities.Dir is nil", ErrInput, nil)
	}
	sh, err := a.Dir.Open(ctx, in.Shop, in.Day)
	if err != nil {
		return nil, classify(fmt.Errorf("dayflow: open %s %s: %w", in.Shop, in.Day, err))
	}
	if sh.Close != nil {
		defer sh.Close()
	}
	requests := sh.Requests
	env := *sh.Env // the step's own copy: Progress is this attempt's
	env.Progress = func(string, shopcrm.Progress) { activity.RecordHeartbeat(ctx) }
	if requests == nil {
		requests = env.Meter.Counts
	}
	sh = &Shop{Env: &env, Events: sh.Events}
	stop := heartbeat(ctx, info.HeartbeatTimeout/4)
	defer stop()
	before := requests()
	rep, err := stepFuncs[s](ctx, sh)
	if err != nil {
		return nil, classify(err)
	}
	out := &StepResult{Step: s, Attempt: info.Attempt}
	if rep != nil {
		out.Skipped, out.Counts, out.Order, out.Notes, out.Elapsed = rep.Skipped, rep.Counts, rep.Order, rep.Notes, rep.Elapsed
	}
	if after := requests(); after != nil {
		out.Requests = map[string]int{}
		for p, n := range after {
			if d := n - before[p]; d > 0 {
				out.Requests[p] = d
			}
		}
	}
	if e, ok := a.Dir.(dayEnder); ok && s == Steps[len(Steps)-1] {
		e.EndDay(in.Shop, in.Day)
	}
	return out, nil
}

// heartbeat records a heartbeat every interval until stop is called, so
// that a step with no progress to report (a bulk export running) still
// tells Temporal its worker is alive.
func heartbeat(ctx context.Context, interval time.Duration) (stop func()) {
	if interval <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

// classify makes input errors non-retryable; every other error is
// retried under the step's policy (the steps are safe to run again).
func classify(err error) error {
	if errors.Is(err, shopcrm.ErrInvalidInput) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrInput, err)
	}
	return err
}
