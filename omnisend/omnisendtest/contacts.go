package omnisendtest

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/internal/fake"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/internal/wire"
)

// contact is a stored contact: its ContactResponse and the fake's
// bookkeeping.
type contact struct {
	wire.Contact
	seq              int
	created, updated time.Time
}

func idKey(typ, id string) string {
	if typ == "email" {
		return "email:" + strings.ToLower(id)
	}
	return "phone:" + id
}

// check validates a ContactRequest the way Omnisend documents it.
func checkContact(in *wire.ContactRequest, create bool) []fieldError {
	var errs []fieldError
	bad := func(f, code, msg string) { errs = append(errs, fieldError{f, code, msg}) }
	if create && len(in.Identifiers) == 0 {
		bad("identifiers", "required", "at least one identifier is required")
	}
	for i, id := range in.Identifiers {
		f := fmt.Sprintf("identifiers.%d", i)
		switch id.Type {
		case "email":
			if at := strings.LastIndexByte(id.ID, '@'); at < 1 || at == len(id.ID)-1 {
				bad(f+".id", "invalid_format", "Must be a valid email address")
			}
		case "phone":
			if !validPhone(id.ID) {
				bad(f+".id", "invalid_format", "Must be a phone number in E.164 format")
			}
		default:
			bad(f+".type", "invalid_value", "Must be email or phone")
		}
		want := map[string]string{"email": "email", "phone": "sms"}[id.Type]
		for ch, c := range id.Channels {
			if ch != want {
				bad(f+".channels."+ch, "invalid_value", "An "+id.Type+" identifier carries the "+want+" channel")
			}
			if c.Status != "subscribed" && c.Status != "unsubscribed" && c.Status != "nonSubscribed" {
				bad(f+".channels."+ch+".status", "invalid_value", "Must be subscribed, unsubscribed or nonSubscribed")
			}
			if c.StatusChangedAt != "" && !validTime(c.StatusChangedAt) {
				bad(f+".channels."+ch+".statusChangedAt", "invalid_format", "Must be RFC 3339")
			}
		}
		if id.Consent != nil && id.Consent.CreatedAt != "" && !validTime(id.Consent.CreatedAt) {
			bad(f+".consent.createdAt", "invalid_format", "Must be RFC 3339")
		}
	}
	if in.Gender != "" && in.Gender != "m" && in.Gender != "f" {
		bad("gender", "invalid_value", "Must be m or f")
	}
	if in.Birthdate != "" {
		if _, err := time.Parse(time.DateOnly, in.Birthdate); err != nil {
			bad("birthdate", "invalid_format", "Must be YYYY-MM-DD")
		}
	}
	if in.CreatedAt != "" && !validTime(in.CreatedAt) {
		bad("createdAt", "invalid_format", "Must be RFC 3339")
	}
	if len(in.Tags) > 100 {
		bad("tags", "too_many", "At most 100 tags")
	}
	for i, t := range in.Tags {
		if strings.TrimSpace(t) == "" {
			bad(fmt.Sprintf("tags.%d", i), "required", "A tag must not be empty")
		}
	}
	return errs
}

func validTime(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

func validPhone(p string) bool {
	d, ok := strings.CutPrefix(p, "+")
	if !ok || len(d) < 7 || len(d) > 15 || d[0] == '0' {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// byCreation returns the contacts by creation time and sequence, oldest
// first, sorting only after contacts were added.
func (s *Server) byCreation() []*contact {
	if len(s.created) != len(s.contacts) {
		s.created = slices.Collect(maps.Values(s.contacts))
		slices.SortFunc(s.created, func(a, b *contact) int {
			if c := a.created.Compare(b.created); c != 0 {
				return c
			}
			return a.seq - b.seq
		})
	}
	return s.created
}

// holder returns the id of the contact holding an identifier, "" when none.
func (s *Server) holder(typ, id string) string { return s.byKey[idKey(typ, id)] }

// newContact stores an empty contact.
func (s *Server) newContact() *contact {
	s.seq++
	now := s.Now().UTC()
	c := &contact{seq: s.seq, created: now, updated: now, Contact: wire.Contact{ID: fmt.Sprintf("%08x%016x", now.Unix(), s.seq),
		Fields: wire.Fields{CustomProperties: map[string]any{}}}}
	s.contacts[c.ID] = c
	return c
}

// apply writes in onto c. Identifiers held by another contact are
// ignored, or, when strict, refused with the offending identifier.
func (s *Server) apply(c *contact, in *wire.ContactRequest, strict bool) (conflict string) {
	now := s.Now().UTC()
	for _, id := range in.Identifiers {
		if h := s.holder(id.Type, id.ID); h != "" && h != c.ID {
			if strict {
				return id.ID
			}
		}
	}
	for _, id := range in.Identifiers {
		if h := s.holder(id.Type, id.ID); h != "" && h != c.ID {
			continue
		}
		s.byKey[idKey(id.Type, id.ID)] = c.ID
		i := slices.IndexFunc(c.Identifiers, func(x wire.Identifier) bool { return idKey(x.Type, x.ID) == idKey(id.Type, id.ID) })
		if i < 0 {
			c.Identifiers = append(c.Identifiers, wire.Identifier{Type: id.Type, ID: id.ID})
			i = len(c.Identifiers) - 1
		}
		ch := map[string]string{"email": "email", "phone": "sms"}[id.Type]
		for _, st := range id.Channels {
			at := st.StatusChangedAt
			if at == "" {
				at = now.Format(time.RFC3339)
			}
			c.Identifiers[i].Channels = map[string]wire.Channel{ch: {Status: st.Status, StatusChangedAt: at}}
			c.setStatus(ch, st.Status, at)
			if st.Status == "subscribed" {
				c.OptIns = append(c.OptIns, wire.OptIn{Channel: ch, OptInAt: at})
			}
		}
		if cs := id.Consent; cs != nil {
			at := cs.CreatedAt
			if at == "" {
				at = now.Format(time.RFC3339)
			}
			c.Consents = append(c.Consents, wire.Consent{Channel: ch, CreatedAt: at, IP: cs.IP, Source: cs.Source, UserAgent: cs.UserAgent})
		}
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{{&c.FirstName, in.FirstName}, {&c.LastName, in.LastName}, {&c.Address, in.Address}, {&c.City, in.City},
		{&c.State, in.State}, {&c.PostalCode, in.PostalCode}, {&c.Country, in.Country}, {&c.CountryCode, in.CountryCode},
		{&c.Birthdate, in.Birthdate}, {&c.Gender, in.Gender}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	for k, v := range in.CustomProperties {
		c.CustomProperties[k] = v
	}
	if in.CreatedAt != "" {
		c.CustomProperties["externalCreated"] = in.CreatedAt
	}
	for _, t := range in.Tags {
		if !slices.Contains(c.Tags, t) {
			c.Tags = append(c.Tags, t)
		}
	}
	c.updated = now
	c.derive()
	return ""
}

func (c *contact) setStatus(ch, status, at string) {
	i := slices.IndexFunc(c.Statuses, func(x wire.Status) bool { return x.Channel == ch })
	if i < 0 {
		c.Statuses = append(c.Statuses, wire.Status{Channel: ch})
		i = len(c.Statuses) - 1
	}
	c.Statuses[i].Status, c.Statuses[i].StatusChangedAt = status, at
}

// derive fills the read-only fields from the identifiers.
func (c *contact) derive() {
	c.Email, c.Status, c.Phone = "", "", []string{}
	for _, id := range c.Identifiers {
		switch {
		case id.Type == "email" && c.Email == "":
			c.Email = id.ID
			c.Status = id.Channels["email"].Status
		case id.Type == "phone":
			c.Phone = append(c.Phone, id.ID)
		}
	}
	c.CreatedAt, c.UpdatedAt = c.created.Format(time.RFC3339), c.updated.Format(time.RFC3339)
}

// view returns a copy safe to encode after the lock is released.
func (c *contact) view() contact {
	v := *c
	v.Tags = append([]string{}, c.Tags...)
	v.Identifiers = slices.Clone(c.Identifiers)
	v.CustomProperties = make(map[string]any, len(c.CustomProperties))
	for k, x := range c.CustomProperties {
		v.CustomProperties[k] = x
	}
	v.Segments = []string{}
	v.Statuses = append([]wire.Status{}, c.Statuses...)
	v.Consents = append([]wire.Consent{}, c.Consents...)
	v.OptIns = append([]wire.OptIn{}, c.OptIns...)
	return v
}

// upsert creates or updates a contact from a ContactRequest: the contact
// holding its email, else a new one. Identifiers another contact holds
// are ignored; a new contact left with none is not created. It returns
// the status and the body to answer.
func (s *Server) upsert(in *wire.ContactRequest) (int, any) {
	if errs := checkContact(in, true); len(errs) > 0 {
		return http.StatusBadRequest, validationBody("The contact is not valid", errs...)
	}
	var c *contact
	for _, id := range in.Identifiers {
		if id.Type == "email" {
			if h := s.holder("email", id.ID); h != "" {
				c = s.contacts[h]
				break
			}
		}
	}
	if c != nil {
		s.apply(c, in, false)
		return http.StatusOK, c.view()
	}
	free := 0
	for _, id := range in.Identifiers {
		if s.holder(id.Type, id.ID) == "" {
			free++
		}
	}
	if free == 0 {
		return http.StatusBadRequest, validationBody("Every identifier belongs to another contact; the contact was not created",
			fieldError{"identifiers", "already_exists", "Contact identifier already exists"})
	}
	c = s.newContact()
	s.apply(c, in, false)
	return http.StatusCreated, c.view()
}

func (s *Server) upsertContact(w *httptest.ResponseRecorder, body []byte) {
	var in wire.ContactRequest
	if !decode(w, body, &in) {
		return
	}
	status, out := s.upsert(&in)
	fake.WriteJSON(w, status, out)
}

func (s *Server) getContact(w *httptest.ResponseRecorder, id string) {
	c, ok := s.contacts[id]
	if !ok {
		problem(w, http.StatusNotFound, "Contact not found")
		return
	}
	fake.WriteJSON(w, http.StatusOK, c.view())
}

func (s *Server) updateContact(w *httptest.ResponseRecorder, r *http.Request, id, email string, body []byte) {
	var c *contact
	if id != "" {
		c = s.contacts[id]
	} else {
		if email == "" {
			validation(w, "email is required", fieldError{"email", "required", "is required"})
			return
		}
		c = s.contacts[s.holder("email", email)]
	}
	var in wire.ContactRequest
	if !decode(w, body, &in) {
		return
	}
	if errs := checkContact(&in, false); len(errs) > 0 {
		fake.WriteJSON(w, http.StatusBadRequest, validationBody("The contact is not valid", errs...))
		return
	}
	if c == nil {
		problem(w, http.StatusNotFound, "Contact not found")
		return
	}
	if conflict := s.apply(c, &in, true); conflict != "" {
		problem(w, http.StatusConflict, "Contact identifier already exists: "+conflict)
		return
	}
	fake.WriteJSON(w, http.StatusOK, c.view())
}

func validationBody(detail string, errs ...fieldError) map[string]any {
	return map[string]any{"type": "https://problems.omnisend.com/validation-error", "title": "Validation failed",
		"status": 400, "detail": detail, "instance": instance(), "errors": errs}
}

// listContacts serves GET /contacts with Omnisend's filters and cursors.
// A cursor is the sort key and sequence of the last contact served.
func (s *Server) listContacts(w *httptest.ResponseRecorder, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "limit", "after", "sort", "direction", "email", "phone", "status", "tag", "updatedAtFrom":
		case "before", "segmentID":
			problem(w, http.StatusBadRequest, "omnisendtest does not model the "+k+" parameter")
			return
		default:
			validation(w, "Unknown parameter "+k, fieldError{k, "unknown", "unknown parameter"})
			return
		}
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 250 {
			validation(w, "limit must be 1 to 250", fieldError{"limit", "invalid_value", "must be 1 to 250"})
			return
		}
		limit = n
	}
	switch st := q.Get("status"); st {
	case "", "subscribed", "unsubscribed", "nonSubscribed":
	default:
		validation(w, "status is not valid", fieldError{"status", "invalid_value", "must be subscribed, unsubscribed or nonSubscribed"})
		return
	}
	if q.Get("tag") != "" && q.Get("status") != "" {
		validation(w, "tag and status cannot be used together", fieldError{"tag", "invalid_combination", "cannot be combined with status"})
		return
	}
	var since time.Time
	if v := q.Get("updatedAtFrom"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			validation(w, "updatedAtFrom must be RFC 3339", fieldError{"updatedAtFrom", "invalid_format", "must be RFC 3339"})
			return
		}
		for _, k := range []string{"email", "phone", "status", "tag"} {
			if q.Get(k) != "" {
				validation(w, "updatedAtFrom cannot be combined with other filters", fieldError{"updatedAtFrom", "invalid_combination", "cannot be combined with " + k})
				return
			}
		}
		since = t
	}
	sortBy, dir := q.Get("sort"), q.Get("direction")
	if sortBy != "" && sortBy != "createdAt" && sortBy != "updatedAt" {
		validation(w, "sort must be createdAt or updatedAt", fieldError{"sort", "invalid_value", "must be createdAt or updatedAt"})
		return
	}
	if dir != "" && dir != "asc" && dir != "desc" {
		validation(w, "direction must be asc or desc", fieldError{"direction", "invalid_value", "must be asc or desc"})
		return
	}
	key := func(c *contact) int64 {
		if sortBy == "updatedAt" {
			return c.updated.UnixNano()
		}
		return c.created.UnixNano()
	}
	less := func(a, b [2]int64) bool { // a before b in the listing's order
		if dir == "asc" {
			return a[0] < b[0] || a[0] == b[0] && a[1] < b[1]
		}
		return a[0] > b[0] || a[0] == b[0] && a[1] > b[1]
	}
	var after *[2]int64
	if v := q.Get("after"); v != "" {
		k, ok := parseCursor(v)
		if !ok {
			validation(w, "after is not a cursor", fieldError{"after", "invalid_format", "not a cursor this listing gave"})
			return
		}
		after = &k
	}
	// Contacts ordered as listed; the creation order is kept sorted
	// between creations, so that paging a large store is cheap.
	var ordered []*contact
	if sortBy == "updatedAt" {
		ordered = slices.Collect(maps.Values(s.contacts))
	} else {
		ordered = s.byCreation()
	}
	ka := func(c *contact) [2]int64 { return [2]int64{key(c), int64(c.seq)} }
	if sortBy == "updatedAt" || dir == "asc" {
		slices.SortFunc(ordered, func(a, b *contact) int {
			switch {
			case less(ka(a), ka(b)):
				return -1
			case less(ka(b), ka(a)):
				return 1
			}
			return 0
		})
	} else {
		ordered = slices.Clone(ordered)
		slices.Reverse(ordered)
	}
	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(ordered, *after, func(c *contact, k [2]int64) int {
			if less(ka(c), k) || ka(c) == k {
				return -1
			}
			return 1
		})
	}
	var match []*contact
	for _, c := range ordered[start:] {
		if (q.Get("email") != "" && !strings.EqualFold(c.Email, q.Get("email"))) ||
			(q.Get("phone") != "" && !slices.Contains(c.Phone, q.Get("phone"))) ||
			(q.Get("status") != "" && c.Status != q.Get("status")) ||
			(q.Get("tag") != "" && !slices.Contains(c.Tags, q.Get("tag"))) ||
			(!since.IsZero() && c.updated.Before(since)) {
			continue
		}
		if match = append(match, c); len(match) > limit {
			break
		}
	}
	more := len(match) > limit
	match = match[:min(limit, len(match))]
	out := make([]contact, len(match))
	for i, c := range match {
		out[i] = c.view()
	}
	cursors := map[string]any{"after": nil, "before": nil}
	if more {
		last := match[len(match)-1]
		cursors["after"] = cursor(key(last), last.seq)
	}
	if after != nil && len(match) > 0 {
		cursors["before"] = cursor(key(match[0]), match[0].seq)
	}
	s.writeLater(w, http.StatusOK, map[string]any{"contacts": out,
		"paging": map[string]any{"limit": limit, "hasMore": more, "cursors": cursors}})
}

func cursor(key int64, seq int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(key, 10) + "." + strconv.Itoa(seq)))
}

func parseCursor(v string) ([2]int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return [2]int64{}, false
	}
	k, s, ok := strings.Cut(string(b), ".")
	ki, err1 := strconv.ParseInt(k, 10, 64)
	si, err2 := strconv.ParseInt(s, 10, 64)
	return [2]int64{ki, si}, ok && err1 == nil && err2 == nil
}

// tags serves POST and DELETE /contacts/tags. Omnisend tags
// asynchronously; the fake applies the change before it answers 202.
func (s *Server) tags(w *httptest.ResponseRecorder, remove bool, body []byte) {
	var in struct {
		ContactIDs []string `json:"contactIDs"`
		Emails     []string `json:"emails"`
		Phones     []string `json:"phones"`
		SegmentID  string   `json:"segmentID"`
		Tags       []string `json:"tags"`
	}
	if !decode(w, body, &in) {
		return
	}
	var errs []fieldError
	for _, l := range []struct {
		name string
		n    int
	}{{"contactIDs", len(in.ContactIDs)}, {"emails", len(in.Emails)}, {"phones", len(in.Phones)}} {
		if l.n > 250 {
			errs = append(errs, fieldError{l.name, "too_many", "At most 250 items"})
		}
	}
	if len(in.Tags) < 1 || len(in.Tags) > 100 {
		errs = append(errs, fieldError{"tags", "invalid_length", "Between 1 and 100 tags"})
	}
	for i, t := range in.Tags {
		if strings.TrimSpace(t) == "" {
			errs = append(errs, fieldError{fmt.Sprintf("tags.%d", i), "required", "A tag must not be empty"})
		}
	}
	if len(in.ContactIDs)+len(in.Emails)+len(in.Phones) == 0 && in.SegmentID == "" {
		errs = append(errs, fieldError{"contactIDs", "required", "At least one of contactIDs, emails, phones or segmentID is required"})
	}
	if len(errs) > 0 {
		validation(w, "The request is not valid", errs...)
		return
	}
	if in.SegmentID != "" {
		problem(w, http.StatusBadRequest, "omnisendtest does not model segments")
		return
	}
	targets := map[string]*contact{}
	for _, id := range in.ContactIDs {
		if c := s.contacts[id]; c != nil {
			targets[id] = c
		}
	}
	for _, e := range in.Emails {
		if c := s.contacts[s.holder("email", e)]; c != nil {
			targets[c.ID] = c
		}
	}
	for _, p := range in.Phones {
		if c := s.contacts[s.holder("phone", p)]; c != nil {
			targets[c.ID] = c
		}
	}
	job := tagJob{at: s.Now().Add(s.cfg.tagDelay), remove: remove, tags: in.Tags}
	for id := range targets {
		job.ids = append(job.ids, id)
	}
	s.tagJobs = append(s.tagJobs, job)
	s.settle()
	w.WriteHeader(http.StatusAccepted)
}

// tagJob is an accepted tag call waiting to take effect.
type tagJob struct {
	at     time.Time
	remove bool
	ids    []string
	tags   []string
}

// settle carries out the tag calls whose time has come, in the order
// they were accepted (s.mu held).
func (s *Server) settle() {
	now := s.Now()
	n := 0
	for _, job := range s.tagJobs {
		if job.at.After(now) {
			break
		}
		n++
		for _, id := range job.ids {
			c := s.contacts[id]
			before := len(c.Tags)
			if job.remove {
				c.Tags = slices.DeleteFunc(c.Tags, func(t string) bool { return slices.Contains(job.tags, t) })
			} else {
				for _, t := range job.tags {
					if !slices.Contains(c.Tags, t) {
						c.Tags = append(c.Tags, t)
					}
				}
			}
			if len(c.Tags) != before {
				c.updated = now.UTC()
				c.derive()
			}
		}
	}
	s.tagJobs = s.tagJobs[n:]
}

// AddContact stores a contact as a create would, for seeding, and returns
// its id. It panics on input Omnisend would refuse.
func (s *Server) AddContact(in omnisend.ContactInput) string {
	b, err := jsonOf(&in)
	if err != nil {
		panic("omnisendtest: AddContact: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, out := s.upsert(b)
	if status >= 300 {
		panic(fmt.Sprintf("omnisendtest: AddContact: %d %v", status, out))
	}
	return out.(contact).ID
}

// Contact returns the contact with an email identifier, as the API would.
func (s *Server) Contact(email string) (omnisend.Contact, bool) {
	s.mu.Lock()
	s.settle()
	c := s.contacts[s.holder("email", email)]
	var v contact
	if c != nil {
		v = c.view()
	}
	s.mu.Unlock()
	if c == nil {
		return omnisend.Contact{}, false
	}
	return toContact(v), true
}

// Contacts returns every contact, oldest first.
func (s *Server) Contacts() []omnisend.Contact {
	s.mu.Lock()
	s.settle()
	all := make([]contact, 0, len(s.contacts))
	for _, c := range s.contacts {
		all = append(all, c.view())
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b contact) int { return a.seq - b.seq })
	out := make([]omnisend.Contact, len(all))
	for i := range all {
		out[i] = toContact(all[i])
	}
	return out
}

// SetTags replaces a contact's tags, as if another app had changed them.
func (s *Server) SetTags(email string, tags ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.contacts[s.holder("email", email)]
	if c == nil {
		return false
	}
	c.Tags = append([]string{}, tags...)
	c.updated = s.Now().UTC()
	c.derive()
	return true
}
