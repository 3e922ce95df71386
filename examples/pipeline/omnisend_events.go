package pipeline

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/omnisend"
)

// OmnisendEvents are the customer events [SyncOmnisend] sends to the
// members of one segment who are Omnisend contacts (no contact is created
// for an event).
type OmnisendEvents struct {
	// Segment is a Config.Segments name.
	Segment string
	// Joined, when set, names a real-time event sent once to each member,
	// the first day they are seen in the segment: an automation such as a
	// welcome flow reacts to it. Omnisend processes every copy of a
	// real-time event, so each is recorded in the state before it is sent
	// and never sent again; one whose answer was lost (or whose run
	// stopped while it was in flight) is named in the step's notes on
	// every run, for the merchant to check in Omnisend.
	Joined string
	// Daily, when set, names a historical event recorded for each member
	// on each day, at the start of the day: Omnisend keeps one copy per
	// event id and time, so it is resent freely. Omnisend treats an event
	// as historical only when its time lies far enough in the past (an
	// hour in the bundled fake; Omnisend does not say), so run the day
	// after it has begun.
	Daily string
}

// eventStatus is what the state says of a real-time event.
type eventStatus string

const (
	eventSending eventStatus = "sending" // recorded before the request
	eventSent    eventStatus = "sent"
	eventUnknown eventStatus = "unknown" // may or may not have been recorded
)

// joinedRecord is the state record of the real-time Joined events of a
// segment, by customer GID: one for all days, since each member gets the
// event once.
func joinedRecord(segment string) string { return "omnisend-joined-" + segment }

// dailyRecord is the state record of the Daily events of a day already
// accepted, by event id: it only saves the requests of a rerun.
func dailyRecord(day, segment string) string { return "omnisend-daily-" + day + "-" + segment }

// syncOmnisendEvents sends the configured events to the segment's members
// who are contacts (by lowercased email).
func syncOmnisendEvents(ctx context.Context, env *Env, contacts map[string]bool, rep *StepReport) error {
	cfg := env.OmnisendEvents
	emails := map[string]string{}
	if _, err := env.State.load(emailsRecord, &emails); err != nil {
		return err
	}
	snap, ok, err := env.State.Segments().Load(ctx, cfg.Segment)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("segment %q has no snapshot yet (run Segments first)", cfg.Segment)
	}
	members := map[string]string{} // customer GID → email, contacts only
	for _, id := range snap.Members {
		if e, ok := emails[id.String()]; ok && contacts[strings.ToLower(e)] {
			members[id.String()] = e
		}
	}
	rep.add("event recipients", len(members))
	if !env.Apply {
		return nil
	}
	if cfg.Joined != "" {
		if err := sendJoined(ctx, env, members, rep); err != nil {
			return err
		}
	}
	if cfg.Daily != "" {
		return sendDaily(ctx, env, members, rep)
	}
	return nil
}

// sendDaily sends the day's historical event to each member.
func sendDaily(ctx context.Context, env *Env, members map[string]string, rep *StepReport) error {
	cfg := env.OmnisendEvents
	name := dailyRecord(env.Day.String(), cfg.Segment)
	sent := map[string]bool{}
	if _, err := env.State.load(name, &sent); err != nil {
		return err
	}
	var events []*omnisend.Event
	for _, id := range slices.Sorted(maps.Keys(members)) {
		ev := &omnisend.Event{Name: cfg.Daily, ID: omnisend.EventID(env.Shop, env.Day.String(), cfg.Segment, "daily", id),
			Time: env.dayStart(), Historical: true, Contact: omnisend.EventContact{Email: members[id]},
			Properties: map[string]any{"segment": cfg.Segment, "day": env.Day.String()}}
		if !sent[ev.ID] {
			events = append(events, ev)
		}
	}
	rep.add("daily events to send", len(events))
	if len(events) == 0 {
		return nil
	}
	res, err := env.Omnisend.Events.SendAll(ctx, events)
	for _, r := range res {
		rep.add("daily events "+r.Outcome.String(), 1)
		if r.Outcome == shopcrm.Applied {
			sent[r.Event.ID] = true
		}
	}
	if serr := env.State.save(name, sent); serr != nil && err == nil {
		err = serr
	}
	return err
}

// sendJoined sends the real-time Joined event to each member who has not
// had it, at most once: the record says "sending" before the request.
func sendJoined(ctx context.Context, env *Env, members map[string]string, rep *StepReport) error {
	cfg := env.OmnisendEvents
	name := joinedRecord(cfg.Segment)
	rec := map[string]eventStatus{}
	if _, err := env.State.load(name, &rec); err != nil {
		return err
	}
	event := func(id string) *omnisend.Event {
		return &omnisend.Event{Name: cfg.Joined, ID: omnisend.EventID(env.Shop, cfg.Segment, "joined", id),
			Contact: omnisend.EventContact{Email: members[id]}, Properties: map[string]any{"segment": cfg.Segment}}
	}
	var events []*omnisend.Event
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(members)) {
		switch rec[id] {
		case "":
			events = append(events, event(id))
			ids = append(ids, id)
		case eventSending:
			// A run stopped with the event in flight: it may have
			// been recorded.
			rec[id] = eventUnknown
		}
	}
	rep.add("joined events to send", len(events))
	if err := env.State.save(name, rec); err != nil {
		return err
	}
	var err error
	// Sent a few at a time, each few recorded as sending just before, so
	// that a run stopped mid-send leaves few events in doubt.
	for start := 0; start < len(events) && err == nil; start += joinedChunk {
		end := min(start+joinedChunk, len(events))
		for _, id := range ids[start:end] {
			rec[id] = eventSending
		}
		if err = env.State.save(name, rec); err != nil {
			break
		}
		var res []omnisend.EventResult
		res, err = env.Omnisend.Events.SendAll(ctx, events[start:end])
		for i, id := range ids[start:end] {
			o := shopcrm.NotSent
			if i < len(res) && res[i].Event != nil {
				o = res[i].Outcome
			}
			rep.add("joined events "+o.String(), 1)
			switch o {
			case shopcrm.Applied:
				rec[id] = eventSent
			case shopcrm.Unknown:
				rec[id] = eventUnknown
			default: // refused or never sent: nothing was recorded
				delete(rec, id)
			}
		}
		if serr := env.State.save(name, rec); serr != nil && err == nil {
			err = serr
		}
	}
	// Every event not known to be delivered is named, on every run.
	unknown := 0
	for _, id := range slices.Sorted(maps.Keys(rec)) {
		if rec[id] == eventUnknown {
			unknown++
			rep.notef("event %q to %s (%s, id %s) may or may not have been recorded; not resent", cfg.Joined, id,
				orUnknown(members[id]), omnisend.EventID(env.Shop, cfg.Segment, "joined", id))
		}
	}
	if unknown > 0 {
		rep.add("joined events in doubt", unknown)
	}
	return err
}

// joinedChunk is how many real-time events are recorded as sending at a
// time.
const joinedChunk = 8

func orUnknown(s string) string {
	if s == "" {
		return "no longer a member"
	}
	return s
}
