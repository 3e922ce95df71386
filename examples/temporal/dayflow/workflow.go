package dayflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/calendar"
)

// TaskQueue is the default task queue of the day's workflows and
// activities.
const TaskQueue = "shopcrm-day"

// ErrInput is the Temporal error type of input errors (a
// *shopcrm.InputError from a step, a bad [DayInput]); they are not
// retried.
const ErrInput = "InputError"

// DayInput is what a day's workflow is given: which shop and day, and how
// to retry. Everything else is the shop's, from the [Directory], so that
// every attempt of a step builds the same environment.
type DayInput struct {
	Shop string
	Day  calendar.Date
	// Policies override [DefaultPolicies] per step.
	Policies Policies `json:",omitempty"`
}

// StepInput is what an activity is given.
type StepInput struct {
	Shop string
	Day  calendar.Date
}

// StepResult is what one step did, as [pipeline.StepReport] says, with
// the attempt that finished it and the requests it made.
type StepResult struct {
	Step    Step
	Attempt int32
	Skipped string         `json:",omitempty"`
	Counts  map[string]int `json:",omitempty"`
	Order   []string       `json:",omitempty"`
	Notes   []string       `json:",omitempty"`
	// Requests are the requests of the finishing attempt by platform,
	// when the shop's Env has a Meter.
	Requests map[string]int `json:",omitempty"`
	Elapsed  time.Duration
}

// DayResult is what a shop's day did, step by step.
type DayResult struct {
	Shop  string
	Day   calendar.Date
	Steps []StepResult
}

// Check reports what is wrong with in, before a workflow starts.
func (in DayInput) Check() error {
	switch {
	case in.Shop == "":
		return &shopcrm.InputError{Field: "DayInput.Shop", Reason: "must not be empty"}
	case in.Day.IsZero():
		return &shopcrm.InputError{Field: "DayInput.Day", Reason: "must be set"}
	}
	for _, s := range Steps {
		sp := in.Policies.policy(s)
		field := "DayInput.Policies[" + string(s) + "]"
		switch {
		case sp.MaxAttempts <= 0:
			return &shopcrm.InputError{Field: field + ".MaxAttempts", Reason: "must be positive: retries are bounded"}
		case sp.ScheduleToClose <= 0 || sp.StartToClose <= 0:
			return &shopcrm.InputError{Field: field, Reason: "StartToClose and ScheduleToClose must be positive"}
		case s == StepLINE && sp.ScheduleToClose >= LINEKeyWindow:
			return &shopcrm.InputError{Field: field + ".ScheduleToClose", Value: sp.ScheduleToClose.String(),
				Reason: "must end before the LINE retry key expires (24h)"}
		}
	}
	return nil
}

// Day is the workflow of one shop's day: the steps in order, one activity
// at a time, so that a shop never has two steps against its platforms at
// once. It stops at the first step that fails for good; starting the day
// again (see [Start]) resumes it from the shop's State.
func Day(ctx workflow.Context, in DayInput) (*DayResult, error) {
	if err := in.Check(); err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrInput, err)
	}
	res := &DayResult{Shop: in.Shop, Day: in.Day}
	for _, s := range Steps {
		actx := workflow.WithActivityOptions(ctx, in.Policies.policy(s).activityOptions())
		var r StepResult
		if err := workflow.ExecuteActivity(actx, string(s), StepInput{Shop: in.Shop, Day: in.Day}).Get(actx, &r); err != nil {
			return res, fmt.Errorf("%s %s: %s: %w", in.Shop, in.Day, s, err)
		}
		res.Steps = append(res.Steps, r)
	}
	return res, nil
}

// WorkflowID is the id of a shop's day: one workflow per shop and day.
func WorkflowID(shop string, day calendar.Date) string { return "day/" + shop + "/" + day.String() }

// Start starts the day's workflow of in.Shop on taskQueue (empty:
// [TaskQueue]). Starting a day that is running returns the running
// workflow; a day that completed is not run again; a day that failed runs
// again and resumes where it stopped.
func Start(ctx context.Context, c client.Client, taskQueue string, in DayInput) (client.WorkflowRun, error) {
	if err := in.Check(); err != nil {
		return nil, err
	}
	if taskQueue == "" {
		taskQueue = TaskQueue
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       WorkflowID(in.Shop, in.Day),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, Day, in)
	if err != nil {
		return nil, fmt.Errorf("dayflow: start %s: %w", WorkflowID(in.Shop, in.Day), err)
	}
	return run, nil
}

// IsInputError reports whether err, from a workflow or an activity, is an
// input error (not retried).
func IsInputError(err error) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && ae.Type() == ErrInput
}

// Register registers the workflow and the activities, over dir, on a
// worker. Give it a [Cache] in front of the deployment's Directory, so
// that the worker keeps each shop's clients, and their rate limiters'
// state, across the attempts and steps of the shop's day; a bare
// Directory is opened per attempt.
func Register(w worker.Registry, dir Directory) {
	w.RegisterWorkflowWithOptions(Day, workflow.RegisterOptions{Name: "Day"})
	(&Activities{Dir: dir}).Register(w)
}
