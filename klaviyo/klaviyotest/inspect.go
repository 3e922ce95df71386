package klaviyotest

import (
	"encoding/json"
	"time"

	"github.com/shopcrm/shopcrm/klaviyo"
)

// AddProfile stores a profile as if created through the API and returns
// its id. It panics when in names no email, phone number or external id,
// or when one of them is taken.
func (s *Server) AddProfile(in klaviyo.ProfileInput) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	who := identity{email: in.Email, phone: in.PhoneNumber, extID: in.ExternalID}
	if who.email == "" && who.phone == "" && who.extID == "" {
		panic("klaviyotest: AddProfile needs an email, phone number or external id")
	}
	if p, _, _ := s.st.find(who); p != nil {
		panic("klaviyotest: AddProfile: a profile with these identifiers exists: " + p.id)
	}
	now := s.base.Now()
	p := s.st.create(who, now)
	strs := map[string]string{"first_name": in.FirstName, "last_name": in.LastName, "organization": in.Organization,
		"locale": in.Locale, "title": in.Title, "image": in.Image}
	for k, v := range strs {
		setStr(p, k, v)
	}
	for k, v := range in.Properties {
		p.props[k] = v
	}
	return p.id
}

// Profile returns the stored profile with id, with its subscriptions, as
// the API would read it.
func (s *Server) Profile(id string) (klaviyo.Profile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleJobs()
	p := s.st.profiles[id]
	if p == nil {
		return klaviyo.Profile{}, false
	}
	return s.export(p), true
}

// ProfileIDByEmail returns the id of the profile with an email address.
func (s *Server) ProfileIDByEmail(email string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleJobs()
	p, _, _ := s.st.find(identity{email: email})
	if p == nil {
		return "", false
	}
	return p.id, true
}

// Profiles returns every stored profile in creation order.
func (s *Server) Profiles() []klaviyo.Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleJobs()
	out := make([]klaviyo.Profile, 0, len(s.st.order))
	for _, id := range s.st.order {
		out = append(out, s.export(s.st.profiles[id]))
	}
	return out
}

// export converts a stored profile to the client's type.
func (s *Server) export(p *profile) klaviyo.Profile {
	out := klaviyo.Profile{ID: p.id, Email: p.email, PhoneNumber: p.phone, ExternalID: p.extID, FirstName: p.first,
		LastName: p.last, Organization: p.org, Locale: p.locale, Title: p.title, Image: p.image,
		Properties: copyMap(p.props), Created: sec(p.created), Updated: sec(p.updated), LastEventDate: sec(p.lastEvent)}
	if p.location != nil {
		b, _ := json.Marshal(p.location)
		out.Location = &klaviyo.Location{}
		_ = json.Unmarshal(b, out.Location)
	}
	e := klaviyo.EmailMarketing{CanReceive: p.email != "" && p.emailConsent == "SUBSCRIBED" && !p.suppressed(),
		Consent: klaviyo.Consent(p.emailConsent), ConsentTimestamp: sec(p.emailConsentAt), Method: p.emailMethod}
	for _, x := range p.suppressions {
		e.Suppressions = append(e.Suppressions, klaviyo.Suppression{Reason: klaviyo.SuppressionReason(x.reason), Timestamp: sec(x.at)})
	}
	for _, x := range p.listSuppressions {
		e.ListSuppressions = append(e.ListSuppressions, klaviyo.ListSuppression{ListID: x.listID, Reason: klaviyo.SuppressionReason(x.reason), Timestamp: sec(x.at)})
	}
	out.Subscriptions = &klaviyo.Subscriptions{Email: e, SMS: klaviyo.SMSMarketing{CanReceive: p.phone != "" && p.smsConsent == "SUBSCRIBED",
		Consent: klaviyo.Consent(p.smsConsent), ConsentTimestamp: sec(p.smsConsentAt)}}
	return out
}

// AddList creates a list ("" opt-in: single) and returns its id.
func (s *Server) AddList(name string, optIn klaviyo.OptInProcess) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addList(name, string(optIn)).id
}

// AddListMembers adds profiles to a list, as seeding: they joined now. It
// panics on a list or profile the server does not hold.
func (s *Server) AddListMembers(listID string, profileIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.st.lists[listID]
	if l == nil {
		panic("klaviyotest: AddListMembers: no list " + listID)
	}
	now := s.base.Now()
	for _, id := range profileIDs {
		if s.st.profiles[id] == nil {
			panic("klaviyotest: AddListMembers: no profile " + id)
		}
		l.members[id] = now
	}
}

// ListMembers returns the ids of a list's members, in the order they
// joined, and whether the list exists.
func (s *Server) ListMembers(listID string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleJobs()
	l := s.st.lists[listID]
	if l == nil {
		return nil, false
	}
	return l.memberIDs(), true
}

// Lists returns the ids of the lists by name; a list created twice
// under one name (each request a new list, as in Klaviyo) shows every id,
// in no particular order.
func (s *Server) Lists() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]string{}
	for id, l := range s.st.lists {
		out[l.name] = append(out[l.name], id)
	}
	return out
}

// AddSegment creates a segment holding the given profiles and returns its
// id. Segments are computed by Klaviyo; the fake keeps the members given.
func (s *Server) AddSegment(name string, profileIDs ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.base.Now()
	l := &list{id: s.st.shortID('S'), name: name, created: now, updated: now, members: map[string]time.Time{}}
	for _, id := range profileIDs {
		l.members[id] = now
	}
	s.st.segments[l.id] = l
	s.st.segIDs = append(s.st.segIDs, l.id)
	return l.id
}

// SuppressProfile adds a suppression (HARD_BOUNCE, SPAM_COMPLAINT, ...) to
// a profile, as Klaviyo does when an email bounces.
func (s *Server) SuppressProfile(profileID string, reason klaviyo.SuppressionReason) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.st.profiles[profileID]; p != nil {
		p.suppressions = append(p.suppressions, suppression{reason: string(reason), at: s.base.Now()})
	}
}

// StoredEvent is an event the server recorded.
type StoredEvent struct {
	ID         string
	Metric     string
	MetricID   string
	ProfileID  string
	Time       time.Time
	Value      *float64
	Properties map[string]any
	UniqueID   string
}

// Events returns every recorded event, oldest first.
func (s *Server) Events() []StoredEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StoredEvent, 0, len(s.st.events))
	for _, e := range s.st.events {
		out = append(out, StoredEvent{ID: e.id, Metric: s.st.metrics[e.metricID].name, MetricID: e.metricID, ProfileID: e.profileID, Time: e.at,
			Value: e.value, Properties: copyMap(e.props), UniqueID: e.uniqueID})
	}
	return out
}

// AddEvent records an event of a Klaviyo-native metric ("Received Email",
// "Bounced Email") on a profile, as Klaviyo does when it sends, and
// returns the event's id. Metrics created here have the integration
// "Klaviyo".
func (s *Server) AddEvent(metric, profileID string, at time.Time, props map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.profiles[profileID] == nil {
		panic("klaviyotest: AddEvent: no profile " + profileID)
	}
	m := s.st.metricFor(metric, "Klaviyo", s.base.Now())
	e := &event{id: newUUID(), metricID: m.id, profileID: profileID, at: at.UTC().Truncate(time.Second), received: s.base.Now(), props: props}
	if e.props == nil {
		e.props = map[string]any{}
	}
	s.st.events = append(s.st.events, e)
	return e.id
}

// MetricID returns the id of the metric named name.
func (s *Server) MetricID(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.st.metricBy[name]
	return id, ok
}

// sec is a time as the API shows it: UTC, to the second.
func sec(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Second)
}
