package segment

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/shopcrm/shopcrm/gid"
)

// InputError reports a customer or order field that cannot be used, naming
// the customer and the field path ("Orders[2].Total"). Err, when set, is
// the underlying cause (for example a [*money.UnknownCurrencyError]).
type InputError struct {
	Customer gid.ID
	Field    string
	Reason   string
	Err      error
}

// Error implements error.
func (e *InputError) Error() string {
	msg := fmt.Sprintf("segment: customer %s: %s: %s", e.Customer, e.Field, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *InputError) Unwrap() error { return e.Err }

// Problem says what is wrong with a sequence of ids.
type Problem uint8

// The problems a [*SequenceError] reports.
const (
	Duplicate  Problem = iota + 1 // the same id twice
	OutOfOrder                    // an id lower than the one before it, where ascending order is required
	MixedTypes                    // ids of different resource types in one membership
)

// String describes the problem: "duplicate id", "out of order", "mixed resource types".
func (p Problem) String() string {
	switch p {
	case Duplicate:
		return "duplicate id"
	case OutOfOrder:
		return "out of order"
	case MixedTypes:
		return "mixed resource types"
	}
	return "Problem(" + strconv.Itoa(int(p)) + ")"
}

// SequenceError reports a problem with a sequence of ids: Input names the
// sequence ("previous", "current", "customers", "Sends[0].Recipients"),
// Index is the 0-based position of ID in it (-1 when the problem was found
// after sorting), and Prev is the id it clashes with.
type SequenceError struct {
	Input   string
	Index   int
	Prev    gid.ID
	ID      gid.ID
	Problem Problem
}

// Error implements error.
func (e *SequenceError) Error() string {
	at := ""
	if e.Index >= 0 {
		at = " at index " + strconv.Itoa(e.Index)
	}
	switch e.Problem {
	case OutOfOrder:
		return fmt.Sprintf("segment: %s: %s%s: %s after %s", e.Input, e.Problem, at, e.ID, e.Prev)
	case MixedTypes:
		return fmt.Sprintf("segment: %s: %s%s: %s among %s ids", e.Input, e.Problem, at, e.ID, e.Prev.Type)
	}
	return fmt.Sprintf("segment: %s: %s%s: %s", e.Input, e.Problem, at, e.ID)
}

// RuleError reports a rule that cannot be evaluated: a parameter out of
// range (Field names it, Customer is zero) or a customer whose data the
// rule cannot judge (Field is the customer field, for example a total in
// another currency than the rule's threshold). Err is the cause, if any.
type RuleError struct {
	Rule     string
	Customer gid.ID
	Field    string
	Reason   string
	Err      error
}

// Error implements error.
func (e *RuleError) Error() string {
	msg := "segment: rule " + e.Rule + ": "
	if !e.Customer.IsZero() {
		msg += "customer " + e.Customer.String() + ": "
	}
	msg += e.Field + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *RuleError) Unwrap() error { return e.Err }

// ConfigError reports a definition, send or option that cannot be used.
// Field is its path ("Definitions[1].Tag", "Sends[0].At").
type ConfigError struct {
	Field  string
	Reason string
	Err    error
}

// Error implements error.
func (e *ConfigError) Error() string {
	msg := "segment: " + e.Field + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *ConfigError) Unwrap() error { return e.Err }

// SnapshotError reports a stored snapshot that cannot be used: unreadable,
// corrupt, or recorded for another tag than the segment now has (change the
// tag deliberately by deleting the snapshot: the next run is then a first
// run).
type SnapshotError struct {
	Segment string
	Path    string // file, for a [FileStore]
	Reason  string
	Err     error
}

// Error implements error.
func (e *SnapshotError) Error() string {
	msg := "segment: snapshot of " + strconv.Quote(e.Segment)
	if e.Path != "" {
		msg += " (" + e.Path + ")"
	}
	msg += ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *SnapshotError) Unwrap() error { return e.Err }

// CommitError reports an applied change that the plan did not produce, so
// the snapshot is left untouched.
type CommitError struct {
	Index  int // position in the applied list
	ID     string
	Reason string
	Err    error
}

// Error implements error.
func (e *CommitError) Error() string {
	msg := fmt.Sprintf("segment: commit: applied[%d] %q: %s", e.Index, e.ID, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *CommitError) Unwrap() error { return e.Err }

// ErrStalePlan is what a [*StalePlanError] matches with errors.Is, and what
// a [Store]'s SaveIf may return when the stored snapshot is not the one
// the caller expected.
var ErrStalePlan = errors.New("segment: stale plan: the stored snapshot changed since the plan was made")

// StalePlanError reports a commit refused because the segment's stored
// snapshot was replaced since the plan was made, by another plan's
// commit, a [Store]'s Delete or a reconciliation: saving the plan's view
// would drop whatever the other writer recorded, so nothing is saved. The
// changes the plan applied are still in Shopify; a new plan, from a
// reconciliation ([Report.Reconcile]) if in doubt, takes them into account.
// It matches [ErrStalePlan]; Err is the store's error, if any.
type StalePlanError struct {
	Segment string
	Err     error
}

// Error implements error.
func (e *StalePlanError) Error() string {
	msg := "segment: snapshot of " + strconv.Quote(e.Segment) + " changed since the plan was made; nothing saved"
	if e.Err != nil && e.Err != ErrStalePlan {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is [ErrStalePlan].
func (e *StalePlanError) Is(target error) bool { return target == ErrStalePlan }

// Unwrap returns the store's error, for errors.Is and errors.As.
func (e *StalePlanError) Unwrap() error { return e.Err }
