package omnisend

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/bulk"
	"github.com/shopcrm/shopcrm/internal/transport"
	"github.com/shopcrm/shopcrm/omnisend/internal/wire"
)

// EventsService sends customer events.
type EventsService struct{ c *Client }

// EventContact is the contact an event concerns; Omnisend creates or
// updates it from these fields. Email, Phone or ID names it.
type EventContact struct {
	ID               string
	Email            string
	Phone            string // E.164
	FirstName        string
	LastName         string
	Tags             []string
	CustomProperties map[string]any
}

// Event is a customer event.
//
// Omnisend processes events with the same EventID and EventTime once, but
// only historical events: deduplication does not work for real-time events
// that drive automations. Set Historical for events imported after the
// fact (with their EventID and EventTime); the client then retries them on
// any failure, since Omnisend drops the copies. A real-time event
// (Historical false) is retried only when Omnisend refused it with a 429;
// when its outcome is unknown (the response was lost, a 5xx) it is never
// resent: the error is an *UnknownEventError naming it, so that an
// automation never fires twice.
type Event struct {
	Name    string // eventName: any name for a custom event
	Origin  string // "api" (the default) for custom stores, the app's name for apps
	Version string // eventVersion: only for Omnisend's recommended events, e.g. "v2"
	// ID is the eventID, a UUID (versions 4 to 7); see [EventID] for a
	// deterministic one. Empty lets Omnisend generate one.
	ID string
	// Time is the eventTime; zero means now (and is not allowed for a
	// historical event).
	Time       time.Time
	Contact    EventContact
	Properties map[string]any
	// Historical marks an event Omnisend deduplicates by ID and Time;
	// both must be set, and Time must be at least the client's historical
	// age old ([DefaultHistoricalAge], [WithHistoricalAge]).
	Historical bool
}

// UnknownEventError reports a real-time event that may or may not have
// reached Omnisend: its response was lost, the server failed (5xx) while
// handling it, or the connection or the context failed where the client
// cannot tell whether the request left. It was sent at most once and is
// never resent by the client: Omnisend would not deduplicate a second
// copy. It unwraps to the cause.
type UnknownEventError struct {
	Name string // the event's name
	ID   string // its eventID, if it had one
	Err  error
}

// Error names the event and the cause.
func (e *UnknownEventError) Error() string {
	s := fmt.Sprintf("omnisend: event %q", e.Name)
	if e.ID != "" {
		s += " (" + e.ID + ")"
	}
	return s + " may or may not have been recorded; not resent: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *UnknownEventError) Unwrap() error { return e.Err }

// Send sends one event (202 Accepted). See [Event] for which events are
// retried.
//
//spec:openapi POST /events
func (s *EventsService) Send(ctx context.Context, ev *Event) (*Response, error) {
	w, err := ev.wire("event", time.Now(), s.c.historicalAge)
	if err != nil {
		return nil, err
	}
	retry := transport.RetryIfRefused
	if ev.Historical {
		retry = transport.RetryKeyed
	}
	r, err := s.c.do(ctx, &call{op: "sendEvent", method: http.MethodPost, path: "/events", body: w, retry: retry})
	if err != nil && !ev.Historical && mayHaveActed(err) {
		return r, &UnknownEventError{Name: ev.Name, ID: ev.ID, Err: err}
	}
	return r, err
}

// mayHaveActed reports an error after which the server may have recorded
// the event: not bad input, not a refusal the server answered (4xx), not a
// context that ended before the request left.
func mayHaveActed(err error) bool {
	var ie *InputError
	var ae *APIError
	switch {
	case errors.As(err, &ie):
		return false
	case errors.As(err, &ae):
		return ae.Status >= 500
	}
	return true
}

// EventResult is what became of one event of SendAll: Applied (accepted),
// Failed (refused), Unknown (a real-time event whose answer was lost: an
// *UnknownEventError, never resent) or NotSent.
type EventResult struct {
	Event   *Event
	Outcome shopcrm.Outcome
	Err     error
}

// SendAll sends events, MaxInFlight at a time, each as Send does, and
// returns one result per event in input order, with the terminal error
// that stopped it (a 401, a cancelled context), if any. Every event is
// checked before the first is sent.
func (s *EventsService) SendAll(ctx context.Context, events []*Event) ([]EventResult, error) {
	now := time.Now()
	for i, ev := range events {
		if _, err := ev.wire(fmt.Sprintf("events[%d]", i), now, s.c.historicalAge); err != nil {
			return nil, err
		}
	}
	res := make([]EventResult, len(events))
	w := bulk.Writer[*Event]{
		Max:      bulk.Limits{Items: 1},
		InFlight: s.c.maxInFlight,
		Send: func(ctx context.Context, c *bulk.Chunk[*Event]) error {
			_, err := s.Send(ctx, c.Items[0])
			return err
		},
		Classify: func(err error) bulk.Class {
			c := bulk.Class{Outcome: shopcrm.Unknown}
			var ue *UnknownEventError
			if !errors.As(err, &ue) {
				c = classify(err)
			}
			// The caller's context ending stops the run; one request
			// timing out (the HTTP client's Timeout, which also matches
			// context.DeadlineExceeded) leaves only its event in doubt.
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				c.Terminal = ctx.Err() != nil
			}
			return c
		},
		OnResult: func(r bulk.Result[*Event]) {
			res[r.Index] = EventResult{Event: r.Item, Outcome: r.Outcome, Err: r.Err}
		},
	}
	_, err := w.Run(ctx, slices.Values(events))
	return res, err
}

// wire checks ev and returns its request body; a historical event must
// be at least age old at now.
func (ev *Event) wire(f string, now time.Time, age time.Duration) (*wire.Event, error) {
	if ev == nil {
		return nil, invalid(f, "nil")
	}
	if strings.TrimSpace(ev.Name) == "" {
		return nil, invalid(f+".Name", "an event needs a name")
	}
	if ev.ID != "" && !validEventID(ev.ID) {
		return nil, &InputError{Field: f + ".ID", Value: ev.ID, Reason: "must be a UUID of version 4 to 7"}
	}
	if ev.Historical && (ev.ID == "" || ev.Time.IsZero()) {
		return nil, invalid(f+".Historical", "a historical event needs its ID and Time, which Omnisend deduplicates by")
	}
	if ev.Historical && age > 0 && ev.Time.After(now.Add(-age)) {
		return nil, &InputError{Field: f + ".Time", Value: rfc3339(ev.Time),
			Reason: "a historical event must be at least " + age.String() + " old: Omnisend does not deduplicate a newer (real-time) one, which a retry could record twice"}
	}
	c := ev.Contact
	if c.ID == "" && c.Email == "" && c.Phone == "" {
		return nil, invalid(f+".Contact", "needs an email, a phone or a contact id")
	}
	if c.Email != "" {
		if err := checkEmail(f+".Contact.Email", c.Email); err != nil {
			return nil, err
		}
	}
	if c.Phone != "" {
		if err := checkPhone(f+".Contact.Phone", c.Phone); err != nil {
			return nil, err
		}
	}
	if err := checkTags(f+".Contact.Tags", c.Tags, MaxTagsPerCall); err != nil {
		return nil, err
	}
	origin := ev.Origin
	if origin == "" {
		origin = "api"
	}
	return &wire.Event{
		EventName: ev.Name, Origin: origin, EventVersion: ev.Version, EventID: ev.ID, EventTime: rfc3339(ev.Time),
		Contact: &wire.EventContact{ID: c.ID, Email: c.Email, Phone: c.Phone, FirstName: c.FirstName, LastName: c.LastName,
			Tags: c.Tags, CustomProperties: c.CustomProperties},
		Properties: ev.Properties,
	}, nil
}

// eventNamespace is the UUID namespace of EventID: the UUIDv5 of
// "shopcrm.omnisend.event" in the URL namespace would do as well; any fixed
// value keeps the ids stable across releases.
var eventNamespace = [16]byte{0x6f, 0x6d, 0x6e, 0x69, 0x73, 0x65, 0x4e, 0x64, 0x80, 0x76, 0x65, 0x6e, 0x74, 0x49, 0x44, 0x73}

// EventID returns a deterministic eventID for the parts (a UUID of version
// 5): the same parts always give the same id, so a rerun sends the same
// event under the same id, e.g. EventID("points earned", shopID, orderID).
// Parts are joined unambiguously: ("a", "bc") and ("ab", "c") differ.
func EventID(parts ...string) string {
	h := sha1.New()
	h.Write(eventNamespace[:])
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// validEventID accepts a hyphenated UUID of version 4 to 7 with the RFC
// 9562 variant.
func validEventID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	v := s[14]
	return v >= '4' && v <= '7' && strings.ContainsRune("89abAB", rune(s[19]))
}
