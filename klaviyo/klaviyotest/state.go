package klaviyotest

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/internal/fake"
)

// state is everything the fake stores; guarded by Server.mu.
type state struct {
	seq      int
	profiles map[string]*profile
	order    []string // profile ids in creation order
	byEmail  map[string]string
	byPhone  map[string]string
	byExtID  map[string]string
	lists    map[string]*list
	listIDs  []string
	segments map[string]*list
	segIDs   []string
	metrics  map[string]*metric // by id
	metricBy map[string]string  // name → id
	events   []*event
	seen     map[string]bool // profile|metric|unique_id (or time to the second)
	jobs     map[string]*importJob
	jobIDs   []string
	hooks    map[string]*webhook
	hookIDs  []string
	// jobSeq orders the import and deletion jobs as they were accepted.
	jobSeq    int
	deletions []*deletionJob // pending, in the order accepted
	deleted   []DeletedProfile
}

func newState() *state {
	return &state{profiles: map[string]*profile{}, byEmail: map[string]string{}, byPhone: map[string]string{},
		byExtID: map[string]string{}, lists: map[string]*list{}, segments: map[string]*list{},
		metrics: map[string]*metric{}, metricBy: map[string]string{}, seen: map[string]bool{},
		jobs: map[string]*importJob{}, hooks: map[string]*webhook{}}
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// profileID returns a ULID-shaped id (26 Crockford base32 characters).
func (st *state) profileID() string {
	st.seq++
	b := []byte("01K00000000000000000000000")
	for i, n := len(b)-1, st.seq; n > 0 && i > 3; i, n = i-1, n/32 {
		b[i] = crockford[n%32]
	}
	return string(b)
}

// shortID returns a six-character id like Klaviyo's list and metric ids.
func (st *state) shortID(prefix byte) string {
	st.seq++
	const alpha = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := []byte{prefix, 'a', 'a', 'a', 'a', 'a'}
	for i, n := 5, st.seq; n > 0 && i > 0; i, n = i-1, n/len(alpha) {
		b[i] = alpha[n%len(alpha)]
	}
	return string(b)
}

func newUUID() string { return fake.UUID() }

// profile is a stored profile.
type profile struct {
	id                                     string
	email, phone, extID                    string
	first, last, org, locale, title, image string
	location                               map[string]any
	props                                  map[string]any
	created, updated, lastEvent            time.Time
	emailConsent, smsConsent               string
	emailConsentAt, smsConsentAt           time.Time
	emailMethod                            string
	suppressions                           []suppression
	listSuppressions                       []listSuppression
}

type suppression struct {
	reason string
	at     time.Time
}

type listSuppression struct {
	listID, reason string
	at             time.Time
}

func (p *profile) suppressed() bool { return len(p.suppressions) > 0 }

// list is a list or a segment with its members.
type list struct {
	id, name, optIn  string
	created, updated time.Time
	members          map[string]time.Time // profile id → joined
}

func (l *list) memberIDs() []string {
	ids := slices.Collect(maps.Keys(l.members))
	slices.SortFunc(ids, func(a, b string) int {
		if c := l.members[a].Compare(l.members[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return ids
}

type metric struct {
	id, name         string
	integration      string // "API" for metrics created by events, "Klaviyo" for seeded native ones
	created, updated time.Time
}

type event struct {
	id                  string
	metricID, profileID string
	at                  time.Time // the event's time
	received            time.Time // when the fake stored it
	value               *float64
	currency            string
	props               map[string]any
	uniqueID            string
	// anon stands for the profile once it is deleted (profileID is then
	// empty), so that aggregates still count its events as one profile's.
	anon string
}

// who is the profile an event counts for in unique aggregates.
func (e *event) who() string {
	if e.profileID != "" {
		return e.profileID
	}
	return e.anon
}

// identity is the identifiers of a profile write.
type identity struct {
	id, email, phone, extID string
}

// find returns the profile an identity names: by id first, then email,
// phone number, external id. conflict is set when the identifiers name
// two different profiles (Klaviyo's duplicate_profile).
func (st *state) find(in identity) (p *profile, conflict *profile, idUnknown bool) {
	if in.id != "" {
		p = st.profiles[in.id]
		if p == nil {
			return nil, nil, true
		}
	}
	for _, id := range []string{lookup(st.byEmail, strings.ToLower(in.email)), lookup(st.byPhone, in.phone), lookup(st.byExtID, in.extID)} {
		if id == "" {
			continue
		}
		q := st.profiles[id]
		switch {
		case q == nil:
		case p == nil:
			p = q
		case q != p:
			return p, q, false
		}
	}
	return p, nil, false
}

// create stores a new profile with in's identifiers.
func (st *state) create(in identity, now time.Time) *profile {
	p := &profile{id: st.profileID(), created: now, updated: now, props: map[string]any{},
		emailConsent: "NEVER_SUBSCRIBED", smsConsent: "NEVER_SUBSCRIBED"}
	st.profiles[p.id] = p
	st.order = append(st.order, p.id)
	st.setIdentity(p, in)
	return p
}

// setIdentity moves p's identifiers to those set in in.
func (st *state) setIdentity(p *profile, in identity) {
	if in.email != "" && !strings.EqualFold(in.email, p.email) {
		delete(st.byEmail, strings.ToLower(p.email))
		p.email = in.email
		st.byEmail[strings.ToLower(in.email)] = p.id
	}
	if in.phone != "" && in.phone != p.phone {
		delete(st.byPhone, p.phone)
		p.phone = in.phone
		st.byPhone[in.phone] = p.id
	}
	if in.extID != "" && in.extID != p.extID {
		delete(st.byExtID, p.extID)
		p.extID = in.extID
		st.byExtID[in.extID] = p.id
	}
}

// clearIdentity removes an identifier set to null.
func (st *state) clearIdentity(p *profile, field string) {
	switch field {
	case "email":
		delete(st.byEmail, strings.ToLower(p.email))
		p.email = ""
	case "phone_number":
		delete(st.byPhone, p.phone)
		p.phone = ""
	case "external_id":
		delete(st.byExtID, p.extID)
		p.extID = ""
	}
}

// metricFor returns the metric named name, creating it.
func (st *state) metricFor(name, integration string, now time.Time) *metric {
	if id, ok := st.metricBy[name]; ok {
		return st.metrics[id]
	}
	m := &metric{id: st.shortID('M'), name: name, integration: integration, created: now, updated: now}
	st.metrics[m.id] = m
	st.metricBy[name] = m.id
	return m
}

func duplicateError(existing *profile) apiErr {
	return apiErr{Code: "duplicate_profile", Title: "Conflict.",
		Detail:  "A profile already exists with one of these identifiers.",
		Pointer: "/data/attributes", Meta: map[string]any{"duplicate_profile_id": existing.id}}
}

// sortBy sorts items by a key (a string or a time), stable, descending
// when desc.
func sortBy[T any](items []T, key func(T) any, desc bool) {
	slices.SortStableFunc(items, func(a, b T) int {
		c := compareAny(key(a), key(b))
		if desc {
			return -c
		}
		return c
	})
}

func compareAny(a, b any) int {
	switch a := a.(type) {
	case string:
		bs, _ := b.(string)
		return strings.Compare(a, bs)
	case time.Time:
		bt, _ := b.(time.Time)
		return a.Compare(bt)
	}
	return 0
}
