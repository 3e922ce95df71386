package shopcrm

import (
	"errors"
	"strconv"
)

// Outcome is what became of one item of a bulk write (a tag change, a
// multicast recipient). Only Applied means the write took effect: state a
// caller keeps (segment snapshots, send records) must not advance on the
// others.
type Outcome uint8

// The outcomes of an item.
const (
	// Applied: the platform confirmed the write.
	Applied Outcome = iota + 1
	// Failed: the write did not take effect (the platform refused it, or
	// the client refused it before sending).
	Failed
	// Unknown: the request may have acted: its response was lost, or the
	// context ended while it was in flight. Read the state back, or resend
	// it if the write is idempotent.
	Unknown
	// NotSent: the item never left, because a terminal error (quota, 401,
	// a cancelled context) stopped the write first; its error is a
	// *NotSentError.
	NotSent
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Failed:
		return "failed"
	case Unknown:
		return "unknown"
	case NotSent:
		return "not sent"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// MarshalText encodes the outcome by name, so stored records read well.
func (o Outcome) MarshalText() ([]byte, error) {
	if o < Applied || o > NotSent {
		return nil, errors.New("shopcrm: cannot encode " + o.String())
	}
	return []byte(o.String()), nil
}

// UnmarshalText decodes an outcome name.
func (o *Outcome) UnmarshalText(b []byte) error {
	for v := Applied; v <= NotSent; v++ {
		if string(b) == v.String() {
			*o = v
			return nil
		}
	}
	return errors.New("shopcrm: unknown outcome " + strconv.Quote(string(b)))
}

// Progress counts what a bulk write has done so far. Callbacks receive it
// from one goroutine at a time, never under a lock of the client.
type Progress struct {
	// Seen counts the items read from the input.
	Seen int
	// Applied, Failed, Unknown and NotSent count the items reported with
	// each outcome.
	Applied, Failed, Unknown, NotSent int
	// Chunks counts the requests that have returned.
	Chunks int
}

// Done is the number of items reported so far.
func (p Progress) Done() int { return p.Applied + p.Failed + p.Unknown + p.NotSent }

// ErrNotSent matches the error of every item a bulk write did not send.
var ErrNotSent = errors.New("not sent")

// NotSentError is the error of an item a bulk write did not send.
type NotSentError struct {
	// Reason is why: the terminal error seen earlier, or the context's
	// error.
	Reason error
}

// Error describes the error.
func (e *NotSentError) Error() string {
	if e.Reason == nil {
		return "not sent"
	}
	return "not sent: " + e.Reason.Error()
}

// Is matches ErrNotSent.
func (e *NotSentError) Is(target error) bool { return target == ErrNotSent }

// Unwrap returns the reason.
func (e *NotSentError) Unwrap() error { return e.Reason }
