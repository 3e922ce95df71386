package shopify

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/internal/bulk"
)

// EngagementTarget is where engagement data goes: an activity (its remote
// id) or a channel (the app's channel handle), never both.
type EngagementTarget struct {
	RemoteID      string `json:"remoteId,omitempty"`
	ChannelHandle string `json:"channelHandle,omitempty"`
}

// String names the target ("activity:ID" or "channel:HANDLE").
func (t EngagementTarget) String() string {
	if t.ChannelHandle != "" {
		return "channel:" + t.ChannelHandle
	}
	return "activity:" + t.RemoteID
}

// TargetOf returns the target of an engagement.
func TargetOf(e attribution.Engagement) EngagementTarget {
	return EngagementTarget{RemoteID: e.RemoteID, ChannelHandle: e.ChannelHandle}
}

var utcOffsetRe = regexp.MustCompile(`^[+-](0\d|1[0-4]):[0-5]\d$`)

// checkEngagement validates an engagement before it is sent.
func checkEngagement(e attribution.Engagement) error {
	switch {
	case (e.RemoteID == "") == (e.ChannelHandle == ""):
		return &InputError{Field: "RemoteID", Reason: "set exactly one of RemoteID (activity level) and ChannelHandle (channel level)", Err: CodeInvalidEngagementArguments}
	case !e.OccurredOn.Valid():
		return &InputError{Field: "OccurredOn", Reason: "not a valid day"}
	case !utcOffsetRe.MatchString(e.UTCOffset):
		return &InputError{Field: "UTCOffset", Value: short(e.UTCOffset), Reason: `must be "+HH:MM" or "-HH:MM"`}
	}
	return nil
}

// engagementArgs returns the argument naming the target and its value.
func engagementArgs(e attribution.Engagement) (string, string) {
	if e.ChannelHandle != "" {
		return "channelHandle", e.ChannelHandle
	}
	return "remoteId", e.RemoteID
}

// CreateEngagement sends one day of engagement (marketingEngagementCreate)
// to the activity e.RemoteID or, for channel-level data, to the channel
// e.ChannelHandle. The engagement's fields are the MarketingEngagementInput
// as they are ([attribution.Config.Engagements] builds them).
//
// Shopify documents no replacement of a day already sent: a second call for
// the same day adds a second engagement. So CreateEngagement is retried only
// when Shopify refused it (throttling), and an error that leaves the
// outcome open (a lost answer) must not be met by calling it again; use
// [MarketingService.SendEngagements] with an [EngagementRecord], which keeps
// track of that.
//
//spec:graphql mutation marketingEngagementCreate
func (s *MarketingService) CreateEngagement(ctx context.Context, e attribution.Engagement) (*Response, error) {
	if err := checkEngagement(e); err != nil {
		return nil, err
	}
	errs, resp, whole := s.sendEngagements(ctx, []attribution.Engagement{e})
	if whole != nil {
		return resp, whole
	}
	return resp, errs[0]
}

// DeleteChannelEngagements deletes all the channel-level engagement data of
// the channel handle (marketingEngagementsDelete); Shopify deletes it in
// the background and returns its message. Activity-level data goes only
// with its activity ([MarketingService.Delete]). When rec is not nil, the
// channel's days are dropped from it, so that the next
// [MarketingService.SendEngagements] sends them all again, which the caller
// must do for every day it wants back, not only the unknown ones. The call
// is idempotent and retried like a read.
//
//spec:graphql mutation marketingEngagementsDelete
func (s *MarketingService) DeleteChannelEngagements(ctx context.Context, handle string, rec *EngagementRecord) (string, *Response, error) {
	if strings.TrimSpace(handle) == "" {
		return "", nil, &InputError{Field: "handle", Reason: "required", Err: CodeInvalidChannelHandle}
	}
	const op = "marketingEngagementsDelete"
	q := "mutation " + op + "($handle: String) { " + op + "(channelHandle: $handle) { result userErrors { code field message } } }"
	p, resp, err := mutateOne[struct {
		Result *string `json:"result"`
		userErrorsPayload
	}](ctx, s.c, op, q, map[string]any{"handle": handle}, idempotent)
	if err != nil {
		return "", resp, err
	}
	if rec != nil {
		rec.forgetChannel(handle)
	}
	return deref(p.Result), resp, nil
}

// sendEngagements sends one document of aliased marketingEngagementCreate
// mutations: an error per engagement (nil when applied), or whole when the
// answer says nothing per engagement.
func (s *MarketingService) sendEngagements(ctx context.Context, engs []attribution.Engagement) (errs []error, resp *Response, whole error) {
	var b strings.Builder
	b.WriteString("mutation createEngagements(")
	vars := make(map[string]any, 2*len(engs))
	for i, e := range engs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$t%d: String, $e%d: MarketingEngagementInput!", i, i)
		_, v := engagementArgs(e)
		vars["t"+strconv.Itoa(i)] = v
		vars["e"+strconv.Itoa(i)] = e
	}
	b.WriteString(") {\n")
	for i, e := range engs {
		arg, _ := engagementArgs(e)
		fmt.Fprintf(&b, "  m%d: marketingEngagementCreate(%s: $t%d, marketingEngagement: $e%d) { marketingEngagement { occurredOn } userErrors { code field message } }\n", i, arg, i, i)
	}
	b.WriteString("}")
	const op = "marketingEngagementCreate"
	var out map[string]*struct {
		MarketingEngagement *struct {
			OccurredOn string `json:"occurredOn"`
		} `json:"marketingEngagement"`
		UserErrors userErrorList `json:"userErrors"`
	}
	resp, err := s.c.do(ctx, &call{query: b.String(), vars: vars, cost: mutationCost * len(engs), retry: ifRefused}, &out)
	ops := make([]string, len(engs))
	for i := range ops {
		ops[i] = op
	}
	errs, whole = s.c.perAlias(err, ops, func(alias string) (userErrorList, bool) {
		if p := out[alias]; p != nil {
			return p.UserErrors, true
		}
		return userErrorList{}, false
	})
	return errs, resp, whole
}

// DayState is what an [EngagementRecord] knows of one (target, day).
type DayState string

// The states of a recorded day. A day not in the record was never sent,
// or was refused: sending it is safe.
const (
	// DayApplied: Shopify confirmed the engagement; it is never sent again.
	DayApplied DayState = "applied"
	// DayUnknown: a request carried it and its answer was lost; Shopify
	// may or may not hold it. It is not sent again until the caller
	// resolves it (see [EngagementRecord.Resolve] and
	// [MarketingService.DeleteChannelEngagements]).
	DayUnknown DayState = "unknown"
)

type dayKey struct {
	target EngagementTarget
	day    calendar.Date
}

// EngagementRecord remembers which (target, day) engagements were sent, so
// that no day is sent twice: Shopify adds a second engagement for a day
// sent again. The caller keeps one record per shop, persists it (it
// encodes as JSON) after every [MarketingService.SendEngagements] and
// passes it to the next. The zero value is an empty record; it is safe for
// concurrent use, and encoding it during a send (from a Progress callback)
// gives a consistent snapshot.
type EngagementRecord struct {
	mu   sync.Mutex
	days map[dayKey]DayState
}

// State returns what the record knows of the target's day, "" when it
// holds nothing (never sent or refused).
func (r *EngagementRecord) State(t EngagementTarget, day calendar.Date) DayState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.days[dayKey{t, day}]
}

// Unknown lists the days whose outcome is unknown, sorted by target and
// day.
func (r *EngagementRecord) Unknown() []RecordedDay {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []RecordedDay
	for k, st := range r.days {
		if st == DayUnknown {
			out = append(out, RecordedDay{Target: k.target, Day: k.day, State: st})
		}
	}
	sortDays(out)
	return out
}

// Resolve settles a day the caller has checked: applied true records it as
// sent, false drops it so that the next send sends it.
func (r *EngagementRecord) Resolve(t EngagementTarget, day calendar.Date, applied bool) {
	if applied {
		r.set(dayKey{t, day}, DayApplied)
	} else {
		r.set(dayKey{t, day}, "")
	}
}

func (r *EngagementRecord) set(k dayKey, st DayState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.days == nil {
		r.days = map[dayKey]DayState{}
	}
	if st == "" {
		delete(r.days, k)
	} else {
		r.days[k] = st
	}
}

func (r *EngagementRecord) forgetChannel(handle string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k := range r.days {
		if k.target.ChannelHandle == handle {
			delete(r.days, k)
		}
	}
}

// RecordedDay is one entry of an [EngagementRecord].
type RecordedDay struct {
	Target EngagementTarget `json:"target"`
	Day    calendar.Date    `json:"day"`
	State  DayState         `json:"state"`
}

func sortDays(d []RecordedDay) {
	slices.SortFunc(d, func(a, b RecordedDay) int {
		return cmp.Or(cmp.Compare(a.Target.ChannelHandle, b.Target.ChannelHandle), cmp.Compare(a.Target.RemoteID, b.Target.RemoteID), cmp.Compare(a.Day, b.Day))
	})
}

type recordJSON struct {
	Version int           `json:"version"`
	Days    []RecordedDay `json:"days"`
}

// MarshalJSON encodes the record: {"version":1,"days":[...]}, sorted.
func (r *EngagementRecord) MarshalJSON() ([]byte, error) {
	r.mu.Lock()
	out := recordJSON{Version: 1, Days: make([]RecordedDay, 0, len(r.days))}
	for k, st := range r.days {
		out.Days = append(out.Days, RecordedDay{Target: k.target, Day: k.day, State: st})
	}
	r.mu.Unlock()
	sortDays(out.Days)
	return json.Marshal(out)
}

// UnmarshalJSON decodes what MarshalJSON encoded, replacing the record's
// contents.
func (r *EngagementRecord) UnmarshalJSON(b []byte) error {
	var in recordJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	if in.Version != 1 {
		return fmt.Errorf("shopify: engagement record version %d, want 1", in.Version)
	}
	days := make(map[dayKey]DayState, len(in.Days))
	for _, d := range in.Days {
		if d.State != DayApplied && d.State != DayUnknown {
			return fmt.Errorf("shopify: engagement record: state %q of %s %s", d.State, d.Target, d.Day)
		}
		days[dayKey{d.Target, d.Day}] = d.State
	}
	r.mu.Lock()
	r.days = days
	r.mu.Unlock()
	return nil
}

// ErrDayUnresolved matches the error of an engagement not sent because
// the record holds its day as unknown from an earlier run.
var ErrDayUnresolved = errors.New("shopify: engagement day unknown from an earlier send; resolve it before sending again")

// ErrDaySent matches the error of an engagement not sent because the
// record holds its day as applied.
var ErrDaySent = errors.New("shopify: engagement day already sent")

// EngagementResult is the outcome of one engagement of a send.
type EngagementResult struct {
	Target EngagementTarget
	Day    calendar.Date
	// Outcome is Applied (now, or earlier when Err matches ErrDaySent),
	// Failed (refused or invalid: safe to send again), Unknown (the answer
	// was lost now, or earlier when Err matches ErrDayUnresolved) or
	// NotSent (a terminal error came first).
	Outcome shopcrm.Outcome
	// Err says why the engagement was not applied by this send.
	Err error
}

// saveError is SendOptions.Save's error: nothing of its request was sent.
type saveError struct{ err error }

func (e *saveError) Error() string { return "shopify: saving the engagement record: " + e.err.Error() }
func (e *saveError) Unwrap() error { return e.err }

// SendOptions tunes [MarketingService.SendEngagements].
type SendOptions struct {
	// Progress, when set, is called after each request with the counts so
	// far, one call at a time; it may persist the record.
	Progress func(shopcrm.Progress)
	// MaxInFlight bounds concurrent requests; 0 means the client's.
	MaxInFlight int
	// Save, when set, persists the record before every request leaves,
	// with that request's days marked unknown, one call at a time. A
	// process killed mid-send then finds those days unknown, never
	// forgotten, so a rerun cannot send one twice. An error from Save
	// stops the send: that request's days are Failed and not sent, and
	// no request starts after it.
	Save func(*EngagementRecord) error
	// MaxPerRequest bounds engagements per document; 0 means 25. A lost
	// answer leaves all of a document's engagements unknown, so a smaller
	// number narrows what has to be resolved after a network failure.
	MaxPerRequest int
}

// SendEngagements sends daily engagements at activity level (RemoteID) and
// channel level (ChannelHandle) with aliased marketingEngagementCreate
// mutations, several requests in flight, consulting and updating rec so
// that no (target, day) is ever sent twice. It returns one result per
// engagement, in order; the error is the terminal error that stopped the
// run (a cancelled context, 401/403), after which nothing more was sent.
// One request timing out under a live context is not terminal: its
// engagements are unknown, and the others are sent.
//
// The contract, for each engagement:
//
//   - a day the record holds as applied is not sent: Applied, with an
//     error matching ErrDaySent;
//   - a day the record holds as unknown is not sent: Unknown, with an error
//     matching ErrDayUnresolved;
//   - a second engagement for one (target, day) in the input fails with an
//     *InputError; so does an invalid one;
//   - otherwise it is sent, and the record says unknown before the request
//     leaves; Shopify's confirmation makes it applied, a refusal
//     (userErrors, a validation error, throttling past the retries) or a
//     terminal error before sending removes it, and a lost answer (network
//     error, 5xx, cut-off body) leaves it unknown.
//
// So every day ends applied, failed (resend freely) or unknown. Unknown days
// are never resent blindly: Shopify has no read-back or replacement of one
// day. For channel-level data the caller may delete the channel's data
// ([MarketingService.DeleteChannelEngagements], which clears the channel in
// the record) and send every day again; for activity-level data, or when
// an approximate report is acceptable, it may leave them, or settle them
// with [EngagementRecord.Resolve]. Persist rec after the call (and,
// against a crash, from Progress).
func (s *MarketingService) SendEngagements(ctx context.Context, rec *EngagementRecord, engs []attribution.Engagement, opts *SendOptions) ([]EngagementResult, error) {
	if rec == nil {
		return nil, &InputError{Field: "rec", Reason: "required: the record is what keeps days from being sent twice"}
	}
	if opts == nil {
		opts = &SendOptions{}
	}
	res := make([]EngagementResult, len(engs))
	var todo []int
	seen := make(map[dayKey]bool, len(engs))
	for i, e := range engs {
		k := dayKey{TargetOf(e), e.OccurredOn}
		res[i] = EngagementResult{Target: k.target, Day: k.day}
		if err := checkEngagement(e); err != nil {
			res[i].Outcome, res[i].Err = shopcrm.Failed, err
			continue
		}
		if seen[k] {
			res[i].Outcome, res[i].Err = shopcrm.Failed, &InputError{Field: "engagements[" + strconv.Itoa(i) + "]", Value: k.target.String() + " " + k.day.String(), Reason: "a second engagement for the same day"}
			continue
		}
		seen[k] = true
		switch rec.State(k.target, k.day) {
		case DayApplied:
			res[i].Outcome, res[i].Err = shopcrm.Applied, ErrDaySent
			continue
		case DayUnknown:
			res[i].Outcome, res[i].Err = shopcrm.Unknown, ErrDayUnresolved
			continue
		}
		todo = append(todo, i)
	}
	per := opts.MaxPerRequest
	if per <= 0 {
		per = 25
	}
	per = min(per, MaxQueryCost/mutationCost)
	inFlight := opts.MaxInFlight
	if inFlight <= 0 {
		inFlight = s.c.maxInFlight
	}
	var saveMu sync.Mutex
	save := func() error {
		if opts.Save == nil {
			return nil
		}
		saveMu.Lock()
		defer saveMu.Unlock()
		if err := opts.Save(rec); err != nil {
			return &saveError{err}
		}
		return nil
	}
	w := bulk.Writer[int]{
		Classify: func(err error) bulk.Class {
			if errors.As(err, new(*saveError)) {
				return bulk.Class{Outcome: shopcrm.Failed, Terminal: true}
			}
			return bulk.ClassifyIn(ctx, err)
		},
		Max:      bulk.Limits{Items: per, Weight: MaxQueryCost},
		Limit:    func() bulk.Limits { return bulk.Limits{Weight: max(s.c.gate.Burst()*4/5, mutationCost)} },
		Weight:   func(int) int { return mutationCost },
		InFlight: inFlight,
		Send: func(ctx context.Context, c *bulk.Chunk[int]) error {
			batch := make([]attribution.Engagement, len(c.Items))
			for j, i := range c.Items {
				batch[j] = engs[i]
				rec.set(dayKey{TargetOf(engs[i]), engs[i].OccurredOn}, DayUnknown)
			}
			if err := save(); err != nil {
				return err // Failed and terminal: see Classify
			}
			errs, _, whole := s.sendEngagements(ctx, batch)
			if whole != nil {
				if errors.As(whole, new(*GraphQLErrors)) {
					// A document refused as a whole ran nothing.
					for j := range c.Results {
						c.Results[j] = bulk.ItemResult{Outcome: shopcrm.Failed, Err: whole}
					}
					return nil
				}
				return whole
			}
			for j, err := range errs {
				if err != nil {
					c.Results[j] = bulk.ItemResult{Err: err}
					if !errors.Is(err, shopcrm.ErrMalformedResponse) && !errors.As(err, new(*shopcrm.ResponseError)) {
						c.Results[j].Outcome = shopcrm.Failed
					}
				}
			}
			return nil
		},
		Progress: opts.Progress,
		OnResult: func(r bulk.Result[int]) {
			i := r.Item
			k := dayKey{TargetOf(engs[i]), engs[i].OccurredOn}
			switch r.Outcome {
			case shopcrm.Applied:
				rec.set(k, DayApplied)
			case shopcrm.Failed, shopcrm.NotSent:
				rec.set(k, "")
			}
			res[i].Outcome, res[i].Err = r.Outcome, r.Err
		},
	}
	_, err := w.Run(ctx, slices.Values(todo))
	return res, err
}
