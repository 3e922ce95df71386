package klaviyo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/bulk"
	"github.com/shopcrm/shopcrm/internal/transport"
	"github.com/shopcrm/shopcrm/money"
)

// EventsService creates and reads events.
type EventsService struct{ c *Client }

// Event is an event to record on a profile.
type Event struct {
	// Metric is the metric's name ("Placed Order", "Loyalty Points
	// Earned"); Klaviyo creates the metric on first use.
	Metric string
	// Profile identifies the profile (id, email, phone number or external
	// id) and may set its attributes and patch its properties.
	Profile ProfileInput
	// Properties are the event's properties (at most 400).
	Properties map[string]any
	// Value is the event's monetary value, sent with its currency.
	Value *money.Amount
	// Time is when it happened, truncated to the second; zero is now.
	Time time.Time
	// UniqueID makes the event idempotent: Klaviyo records only the first
	// event with a given unique_id per profile and metric. When empty the
	// client derives one with [DefaultUniqueID], so that a retried send is
	// recorded once. Without any unique_id Klaviyo would keep one event per
	// profile, metric and second and silently drop the others.
	UniqueID string
	// Backfill records the event without triggering flows.
	Backfill bool
}

// Event limits from the spec.
const (
	MaxEventProperties  = 400
	MaxEventsPerRequest = 1000
	MaxPayloadBytes     = 5 << 20
)

var minEventTime = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// UniqueID derives a stable unique_id from the parts that make an event
// what it is (a metric, a profile key, an order id): the same parts give
// the same id in every process and every run, so a replayed send is
// recorded once.
func UniqueID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// DefaultUniqueID is the unique_id the client gives an event without one:
// derived from its metric, profile identifiers, time (to the second),
// value and properties. Two sends of the same event therefore share it;
// an event with a zero Time gets the time of the send, so only a resend
// of the same request (not a rerun of the program) is deduplicated. Set
// Time or UniqueID for events a program may send again.
func DefaultUniqueID(e Event) string {
	props, _ := json.Marshal(e.Properties) // map keys are sorted: stable
	val := ""
	if e.Value != nil {
		val = e.Value.String()
	}
	return UniqueID("event", e.Metric, e.Profile.ID, e.Profile.Email, e.Profile.PhoneNumber, e.Profile.ExternalID,
		formatTime(e.Time), val, string(props))
}

// prepare checks e and fills its time and unique_id.
func (e *Event) prepare(field string, now time.Time) error {
	switch {
	case e.Metric == "":
		return invalid(field+".Metric", "", "empty")
	case len(e.Properties) > MaxEventProperties:
		return invalid(field+".Properties", "", "%d properties, at most %d", len(e.Properties), MaxEventProperties)
	}
	if err := needIdentifier(field+".Profile", &e.Profile); err != nil {
		return err
	}
	if len(e.Profile.Clear) > 0 {
		return invalid(field+".Profile.Clear", "", "events cannot clear profile attributes")
	}
	if e.Value != nil && !e.Value.Currency.Known() {
		return invalid(field+".Value", string(e.Value.Currency), "unknown currency")
	}
	if e.Time.IsZero() {
		e.Time = now
	}
	e.Time = e.Time.UTC().Truncate(time.Second)
	if e.Time.Before(minEventTime) || e.Time.After(now.AddDate(1, 0, 0)) {
		return invalid(field+".Time", formatTime(e.Time), "must be after 1990 and at most a year ahead")
	}
	if e.UniqueID == "" {
		e.UniqueID = DefaultUniqueID(*e)
	}
	return nil
}

// The wire shapes of events, as structs: bulk sends encode thousands.
type (
	metricDoc struct {
		Data struct {
			Type       string `json:"type"`
			Attributes struct {
				Name string `json:"name"`
			} `json:"attributes"`
		} `json:"data"`
	}
	profileMeta struct {
		PatchProperties *PatchProperties `json:"patch_properties"`
	}
	profileAttrsOut struct {
		Email        string         `json:"email,omitempty"`
		PhoneNumber  string         `json:"phone_number,omitempty"`
		ExternalID   string         `json:"external_id,omitempty"`
		FirstName    string         `json:"first_name,omitempty"`
		LastName     string         `json:"last_name,omitempty"`
		Organization string         `json:"organization,omitempty"`
		Locale       string         `json:"locale,omitempty"`
		Title        string         `json:"title,omitempty"`
		Image        string         `json:"image,omitempty"`
		Location     *Location      `json:"location,omitempty"`
		Properties   map[string]any `json:"properties,omitempty"`
		Meta         *profileMeta   `json:"meta,omitempty"`
	}
	profileOut struct {
		Type       string          `json:"type"`
		ID         string          `json:"id,omitempty"`
		Attributes profileAttrsOut `json:"attributes"`
		Meta       *profileMeta    `json:"meta,omitempty"`
	}
	eventAttrsOut struct {
		Properties    map[string]any        `json:"properties"`
		Metric        metricDoc             `json:"metric"`
		Profile       *document[profileOut] `json:"profile,omitempty"`
		Time          string                `json:"time"`
		Value         json.Number           `json:"value,omitempty"`
		ValueCurrency string                `json:"value_currency,omitempty"`
		UniqueID      string                `json:"unique_id"`
		Backfill      bool                  `json:"backfill,omitempty"`
	}
	eventOut struct {
		Type       string        `json:"type"`
		Attributes eventAttrsOut `json:"attributes"`
	}
	bulkEntryOut struct {
		Type       string `json:"type"`
		Attributes struct {
			Profile document[profileOut] `json:"profile"`
			Events  struct {
				Data []eventOut `json:"data"`
			} `json:"events"`
		} `json:"attributes"`
	}
)

// attributes are the event's wire attributes without its profile.
func (e *Event) attributes() eventAttrsOut {
	a := eventAttrsOut{Properties: e.Properties, Time: formatTime(e.Time), UniqueID: e.UniqueID, Backfill: e.Backfill}
	if a.Properties == nil {
		a.Properties = map[string]any{}
	}
	a.Metric.Data.Type = "metric"
	a.Metric.Data.Attributes.Name = e.Metric
	if e.Value != nil {
		a.Value, a.ValueCurrency = json.Number(e.Value.Decimal()), string(e.Value.Currency)
	}
	return a
}

// profileResource is the event's profile; metaInAttributes puts its patch
// inside its attributes, as POST /api/events wants it (bulk entries take
// it beside them).
func (e *Event) profileResource(metaInAttributes bool) profileOut {
	in := &e.Profile
	r := profileOut{Type: "profile", ID: in.ID, Attributes: profileAttrsOut{Email: in.Email, PhoneNumber: in.PhoneNumber,
		ExternalID: in.ExternalID, FirstName: in.FirstName, LastName: in.LastName, Organization: in.Organization,
		Locale: in.Locale, Title: in.Title, Image: in.Image, Location: in.Location, Properties: in.Properties}}
	if !in.Patch.empty() {
		m := &profileMeta{PatchProperties: in.Patch}
		if metaInAttributes {
			r.Attributes.Meta = m
		} else {
			r.Meta = m
		}
	}
	return r
}

// Create records one event (POST /api/events). Klaviyo answers 202 once
// it has validated and queued the event. The request carries the event's
// unique_id, so it is retried safely, unless its profile patch appends or
// unappends: the unique_id keeps the event once, not the profile update
// it carries, so such an event is sent once, as Update sends such a
// patch.
func (s *EventsService) Create(ctx context.Context, e Event) (*Response, error) {
	if err := e.prepare("Event", time.Now()); err != nil {
		return nil, err
	}
	a := e.attributes()
	a.Profile = &document[profileOut]{e.profileResource(true)}
	return s.c.do(ctx, &call{ep: EndpointCreateEvent, method: http.MethodPost, path: "/api/events",
		body: document[eventOut]{eventOut{Type: "event", Attributes: a}}, retry: eventRetry(e.Profile.Patch.appends())})
}

// eventRetry is how an event request is retried: on any failure, its
// unique_ids keeping each event once, but only when refused if a profile
// patch in it appends or unappends, which a second copy would repeat.
func eventRetry(appends bool) transport.RetryClass {
	if appends {
		return transport.RetryIfRefused
	}
	return transport.RetryKeyed
}

// Outcome is what became of one item of a bulk write; see
// [shopcrm.Outcome].
type Outcome = bulk.Outcome

// The outcomes of an item.
const (
	Applied = bulk.Applied
	Failed  = bulk.Failed
	Unknown = bulk.Unknown
	NotSent = bulk.NotSent
)

// ItemResult is the outcome of one input item of a bulk write.
type ItemResult struct {
	Index   int // the item's position in the input
	Outcome Outcome
	Err     error // why it is not Applied
}

// bulkEvent is one prepared entry of a bulk create.
type bulkEvent struct {
	idx     int
	body    json.RawMessage
	appends bool // its profile patch appends or unappends
}

// BulkCreate records events through bulk create jobs (POST
// /api/event-bulk-create-jobs): at most 1,000 events and 5 MB per
// request, several requests in flight. Every event carries a unique_id
// (derived when empty, see [DefaultUniqueID]), so a retried or replayed
// request records each event once; a request holding an event whose
// profile patch appends or unappends is sent once, as in Create. It
// returns one result per event, in input order; Applied means Klaviyo
// accepted the request (202), which it processes asynchronously. The
// error is the one that stopped the run early, if any.
func (s *EventsService) BulkCreate(ctx context.Context, events []Event) ([]ItemResult, error) {
	now := time.Now()
	prepare := func(i int) (bulkEvent, error) {
		e := events[i]
		if err := e.prepare(fmt.Sprintf("events[%d]", i), now); err != nil {
			return bulkEvent{}, err
		}
		entry := bulkEntryOut{Type: "event-bulk-create"}
		entry.Attributes.Profile.Data = e.profileResource(false)
		entry.Attributes.Events.Data = []eventOut{{Type: "event", Attributes: e.attributes()}}
		b, err := json.Marshal(entry)
		if err != nil {
			return bulkEvent{}, invalid(fmt.Sprintf("events[%d].Properties", i), "", "%v", err)
		}
		return bulkEvent{i, b, e.Profile.Patch.appends()}, nil
	}
	w := bulk.Writer[bulkEvent]{
		Max:      bulk.Limits{Items: MaxEventsPerRequest, Weight: MaxPayloadBytes - envelopeBytes},
		Weight:   func(b bulkEvent) int { return len(b.body) + 1 },
		InFlight: s.c.inFlight,
		Send: func(ctx context.Context, ch *bulk.Chunk[bulkEvent]) error {
			// The entries are encoded already: join them rather than
			// encode (and validate) them again.
			body := joinRaw(`{"data":{"type":"event-bulk-create-job","attributes":{"events-bulk-create":{"data":[`, ch.Items,
				func(b bulkEvent) []byte { return b.body }, `]}}}}`)
			appends := false
			for _, it := range ch.Items {
				appends = appends || it.appends
			}
			_, err := s.c.do(ctx, &call{ep: EndpointBulkCreateEvents, method: http.MethodPost, path: "/api/event-bulk-create-jobs",
				raw: body, retry: eventRetry(appends)})
			return err
		},
	}
	return runBulk(ctx, &w, len(events), prepare, func(b bulkEvent) int { return b.idx })
}

// envelopeBytes is room kept in a request for the JSON around its items.
const envelopeBytes = 1 << 10

// runBulk runs w over n input items, each made ready by prepare as the
// engine reads it (an item prepare refuses fails without being sent), and
// returns one result per input item; idx gives an item's input index.
func runBulk[T any](ctx context.Context, w *bulk.Writer[T], n int, prepare func(i int) (T, error), idx func(T) int) ([]ItemResult, error) {
	out := make([]ItemResult, n)
	for i := range out {
		out[i].Index = i
	}
	w.Classify = classify
	w.OnResult = func(r bulk.Result[T]) {
		i := idx(r.Item)
		out[i] = ItemResult{Index: i, Outcome: r.Outcome, Err: r.Err}
	}
	_, err := w.Run(ctx, func(yield func(T) bool) {
		for i := range n {
			it, err := prepare(i)
			if err != nil {
				out[i].Outcome, out[i].Err = Failed, err
				continue
			}
			if !yield(it) {
				return
			}
		}
	})
	return notSent(out, err), err
}

// runItems runs w over items already made ready, recording each result in
// out (which holds the refused items' results already) at its input index.
func runItems[T any](ctx context.Context, w *bulk.Writer[T], items []T, idx func(T) int, out []ItemResult) ([]ItemResult, error) {
	w.Classify = classify
	w.OnResult = func(r bulk.Result[T]) {
		i := idx(r.Item)
		out[i] = ItemResult{Index: i, Outcome: r.Outcome, Err: r.Err}
	}
	_, err := w.Run(ctx, func(yield func(T) bool) {
		for _, it := range items {
			if !yield(it) {
				return
			}
		}
	})
	return notSent(out, err), err
}

// joinRaw writes head, the items' encodings separated by commas, and tail.
func joinRaw[T any](head string, items []T, enc func(T) []byte, tail string) []byte {
	n := len(head) + len(tail) + len(items)
	for _, it := range items {
		n += len(enc(it))
	}
	b := make([]byte, 0, n)
	b = append(b, head...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, enc(it)...)
	}
	return append(b, tail...)
}

// notSent reports every item without an outcome yet as not sent, for a
// write that stopped before its first request (a lookup failed).
func notSent(out []ItemResult, err error) []ItemResult {
	for i := range out {
		if out[i].Outcome == 0 {
			out[i] = ItemResult{Index: i, Outcome: NotSent, Err: &shopcrm.NotSentError{Reason: err}}
		}
	}
	return out
}
