package klaviyotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// eventIn is an event to store, validated.
type eventIn struct {
	who      *profileWrite
	metric   string
	at       time.Time // zero: the time it is stored
	value    *float64
	currency string
	props    map[string]any
	uniqueID string
}

var eventAttrs = map[string]bool{"properties": true, "metric": true, "profile": true, "time": true, "value": true,
	"value_currency": true, "unique_id": true, "backfill": true}

// readEvent validates an event's attributes at pointer; profile is given
// for bulk entries (whose events carry none).
func readEvent(attrs map[string]json.RawMessage, pointer string, who *profileWrite, now time.Time) (*eventIn, string, string) {
	ev := &eventIn{who: who}
	for k := range attrs {
		if !eventAttrs[k] || (who != nil && k == "profile") {
			return nil, "'" + k + "' is not a valid field for the resource 'event'.", pointer + "/" + k
		}
	}
	raw, ok := attrs["properties"]
	if !ok || string(raw) == "null" {
		return nil, "This field is required.", pointer + "/properties"
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ev.props); err != nil {
		return nil, "properties must be an object.", pointer + "/properties"
	}
	if len(ev.props) > 400 {
		return nil, "An event may have at most 400 properties.", pointer + "/properties"
	}
	var m struct {
		Data struct {
			Type       string `json:"type"`
			Attributes struct {
				Name string `json:"name"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(attrs["metric"], &m); err != nil || m.Data.Type != "metric" || m.Data.Attributes.Name == "" {
		return nil, "A metric with a name is required.", pointer + "/metric"
	}
	ev.metric = m.Data.Attributes.Name
	if who == nil {
		var pd struct {
			Data *resourceIn `json:"data"`
		}
		if err := json.Unmarshal(attrs["profile"], &pd); err != nil || pd.Data == nil || pd.Data.Type != "profile" {
			return nil, "A profile is required.", pointer + "/profile"
		}
		pw, msg, ptr := readProfile(pd.Data.Attributes, nil, pd.Data.id(), pointer+"/profile/data/attributes", "meta", "anonymous_id", "_kx")
		if pw == nil {
			return nil, msg, ptr
		}
		ev.who = pw
	}
	if w := ev.who.who; w.id == "" && w.email == "" && w.phone == "" && w.extID == "" {
		return nil, "The profile needs an id, email, phone_number or external_id.", pointer + "/profile"
	}
	if raw, ok := attrs["time"]; ok && string(raw) != "null" {
		var s string
		t, err := time.Time{}, json.Unmarshal(raw, &s)
		if err == nil {
			t, err = time.Parse(time.RFC3339, s)
		}
		if err != nil {
			return nil, "time must be an ISO 8601 date-time.", pointer + "/time"
		}
		if t.Before(time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)) || t.After(now.AddDate(1, 0, 0)) {
			return nil, "time must be after 1990 and at most a year in the future.", pointer + "/time"
		}
		ev.at = t.UTC().Truncate(time.Second)
	}
	if raw, ok := attrs["value"]; ok && string(raw) != "null" {
		var f float64
		if json.Unmarshal(raw, &f) != nil {
			return nil, "value must be a number.", pointer + "/value"
		}
		ev.value = &f
	}
	if raw, ok := attrs["value_currency"]; ok {
		ev.currency, _, _ = str(raw)
	}
	if raw, ok := attrs["unique_id"]; ok {
		ev.uniqueID, _, _ = str(raw)
	}
	return ev, "", ""
}

// store records ev as Klaviyo does: the profile is found by its
// identifiers or created, the metric by name or created, and an event whose
// unique_id (or, without one, whose time to the second) was seen for the
// same profile and metric is dropped silently. It reports whether the
// event was kept.
func (st *state) store(ev *eventIn, now time.Time) bool {
	p, _, unknown := st.find(ev.who.who)
	if unknown {
		return false
	}
	if p == nil {
		p = st.create(ev.who.who, now)
	}
	st.apply(p, ev.who, false, now)
	m := st.metricFor(ev.metric, "API", now)
	at := ev.at
	if at.IsZero() {
		at = now.UTC().Truncate(time.Second)
	}
	key := ev.uniqueID
	if key == "" {
		key = fmt.Sprintf("time:%d", at.Unix())
	}
	key = p.id + "|" + m.id + "|" + key
	if st.seen[key] {
		return false
	}
	st.seen[key] = true
	st.events = append(st.events, &event{id: newUUID(), metricID: m.id, profileID: p.id, at: at, received: now,
		value: ev.value, currency: ev.currency, props: ev.props, uniqueID: ev.uniqueID})
	if at.After(p.lastEvent) {
		p.lastEvent = at
	}
	return true
}

func (s *Server) createEvent(w http.ResponseWriter, body []byte) {
	res, ok := decode(w, body, "event")
	if !ok {
		return
	}
	now := s.base.Now()
	ev, msg, ptr := readEvent(res.Attributes, "/data/attributes", nil, now)
	if ev == nil {
		invalidAt(w, ptr, "%s", msg)
		return
	}
	if _, _, unknown := s.st.find(ev.who.who); unknown {
		invalidAt(w, "/data/attributes/profile/data/id", "Profile not found.")
		return
	}
	s.st.store(ev, now)
	w.WriteHeader(http.StatusAccepted)
}

// MaxBulkEvents is how many events one bulk create request may carry.
const MaxBulkEvents = 1000

// bulkParsed is a bulk event request decoded and validated before the
// server's lock is taken.
type bulkParsed struct {
	evs          []*eventIn
	pointer, msg string // the first error, if any
}

// parseBulkEvents decodes and validates a bulk create request; it touches
// no state, so it runs outside the lock.
func parseBulkEvents(body []byte, now time.Time) *bulkParsed {
	fail := func(ptr, format string, args ...any) *bulkParsed {
		return &bulkParsed{pointer: ptr, msg: fmt.Sprintf(format, args...)}
	}
	// One decode of the whole document: the entries' parts stay raw only
	// where readEvent and readProfile read them.
	var d struct {
		Data struct {
			Type       string `json:"type"`
			Attributes struct {
				Entries *struct {
					Data []struct {
						Type       string `json:"type"`
						Attributes struct {
							Profile struct {
								Data *resourceIn `json:"data"`
							} `json:"profile"`
							Events *struct {
								Data []resourceIn `json:"data"`
							} `json:"events"`
						} `json:"attributes"`
					} `json:"data"`
				} `json:"events-bulk-create"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &d); err != nil || d.Data.Type != "event-bulk-create-job" {
		return fail("/data", "Expected an event-bulk-create-job resource.")
	}
	if d.Data.Attributes.Entries == nil {
		return fail("/data/attributes/events-bulk-create", "This field is required.")
	}
	var evs []*eventIn
	for i, e := range d.Data.Attributes.Entries.Data {
		ptr := fmt.Sprintf("/data/attributes/events-bulk-create/data/%d", i)
		if e.Type != "event-bulk-create" {
			return fail(ptr+"/type", "Expected type event-bulk-create.")
		}
		pd := e.Attributes.Profile.Data
		if pd == nil || pd.Type != "profile" {
			return fail(ptr+"/attributes/profile", "A profile is required.")
		}
		pw, msg, pp := readProfile(pd.Attributes, nil, pd.id(), ptr+"/attributes/profile/data/attributes", "anonymous_id", "_kx")
		if pw == nil {
			return fail(pp, "%s", msg)
		}
		if pw.patch, msg = readPatch(pd.Meta); msg != "" {
			return fail(ptr+"/attributes/profile/data/meta", "%s", msg)
		}
		if e.Attributes.Events == nil || len(e.Attributes.Events.Data) == 0 {
			return fail(ptr+"/attributes/events", "At least one event is required.")
		}
		for j, x := range e.Attributes.Events.Data {
			eptr := fmt.Sprintf("%s/attributes/events/data/%d", ptr, j)
			if x.Type != "event" {
				return fail(eptr+"/type", "Expected type event.")
			}
			ev, msg, ep := readEvent(x.Attributes, eptr+"/attributes", pw, now)
			if ev == nil {
				return fail(ep, "%s", msg)
			}
			evs = append(evs, ev)
		}
	}
	if len(evs) == 0 || len(evs) > MaxBulkEvents {
		return fail("/data/attributes/events-bulk-create/data", "A request carries 1 to %d events, not %d.", MaxBulkEvents, len(evs))
	}
	return &bulkParsed{evs: evs}
}

func (s *Server) bulkCreateEvents(w http.ResponseWriter, p *bulkParsed) {
	if p.msg != "" {
		invalidAt(w, p.pointer, "%s", p.msg)
		return
	}
	now := s.base.Now()
	for _, ev := range p.evs {
		s.st.store(ev, now)
	}
	w.WriteHeader(http.StatusAccepted)
}

var eventRules = rules{"metric_id": {"equals"}, "profile_id": {"equals"}, "datetime": cmp, "timestamp": cmp}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, q url.Values) {
	if !checkQuery(w, q, "filter", "page[size]", "page[cursor]", "sort") {
		return
	}
	terms, ok := filterOf(w, r, eventRules)
	if !ok {
		return
	}
	out := filterItems(s.st.events, terms, func(e *event, field string) any {
		switch field {
		case "metric_id":
			return e.metricID
		case "profile_id":
			return e.profileID
		}
		return e.at
	})
	switch srt := q.Get("sort"); strings.TrimPrefix(srt, "-") {
	case "":
	case "datetime", "timestamp":
		sortBy(out, func(e *event) any { return e.at }, strings.HasPrefix(srt, "-"))
	default:
		invalidParam(w, "sort", "Invalid sort %q.", srt)
		return
	}
	page(w, r, out, 200, 1000, func(e *event) any {
		props := copyMap(e.props)
		if e.value != nil {
			props["$value"] = *e.value
		}
		return map[string]any{"type": "event", "id": e.id,
			"attributes":    map[string]any{"timestamp": e.at.Unix(), "datetime": timeStr(e.at), "event_properties": props, "uuid": e.id},
			"relationships": eventRelationships(e.metricID, e.profileID),
			"links":         map[string]any{"self": baseURL(r) + "/api/events/" + e.id + "/"}}
	})
}

// eventRelationships are an event's metric and profile; an event whose
// profile was deleted has no profile.
func eventRelationships(metricID, profileID string) map[string]any {
	rels := map[string]any{"metric": map[string]any{"data": map[string]any{"type": "metric", "id": metricID}}}
	if profileID != "" {
		rels["profile"] = map[string]any{"data": map[string]any{"type": "profile", "id": profileID}}
	}
	return rels
}
