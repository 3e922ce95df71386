package pipeline

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// Events are the day's subscription events (W1), from the subscription
// app's own records.
type Events struct {
	Customers []CustomerEvent
	Orders    []OrderEvent
}

// RunDay runs every step of the day in order: lifecycle tags, segments,
// the LINE send and marketing. It stops at the first step that fails and
// returns the report so far with the error; running the day again
// resumes it (see the package doc).
func RunDay(ctx context.Context, env *Env, ev Events) (*Report, error) {
	if err := env.check(); err != nil {
		return nil, err
	}
	r := &Report{Shop: env.Shop, Day: env.Day}
	before := env.Meter.Counts()
	step := func(rep *StepReport, err error) error {
		after := env.Meter.Counts()
		if rep != nil {
			for _, p := range slices.Sorted(maps.Keys(after)) {
				if n := after[p] - before[p]; n > 0 {
					rep.add("requests "+p, n)
				}
			}
			if env.Meter != nil {
				// A platform the step needed is measured even when
				// it was sent nothing.
				for _, p := range slices.Sorted(maps.Keys(rep.Minimum)) {
					rep.add("requests "+p, 0)
				}
			}
			r.Steps = append(r.Steps, rep)
		}
		before = after
		if err != nil {
			return fmt.Errorf("pipeline: day %s: %w", env.Day, err)
		}
		return nil
	}
	if err := step(Lifecycle(ctx, env, ev.Customers, ev.Orders)); err != nil {
		return r, err
	}
	seg, err := Segments(ctx, env)
	if seg != nil {
		r.Segments = seg
		err = step(seg.StepReport, err)
	} else {
		err = step(nil, err)
	}
	if err != nil {
		return r, err
	}
	if err := step(SendLINE(ctx, env)); err != nil {
		return r, err
	}
	if err := step(SyncOmnisend(ctx, env)); err != nil {
		return r, err
	}
	if err := step(SyncKlaviyo(ctx, env)); err != nil {
		return r, err
	}
	mkt, err := Marketing(ctx, env)
	if mkt != nil {
		r.Marketing = mkt
		err = step(mkt.StepReport, err)
	} else {
		err = step(nil, err)
	}
	return r, err
}
