package klaviyotest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// deletionJob is an accepted data-privacy deletion request, carried out
// when its time is up: Klaviyo deletes asynchronously.
type deletionJob struct {
	who identity // exactly one of id, email, phone
	seq int
	due time.Time
}

// DeletedProfile is a profile a deletion job removed, as the account's
// Deleted Profiles page records it.
type DeletedProfile struct {
	ID          string
	Email       string
	PhoneNumber string
	ExternalID  string
	DeletedAt   time.Time
}

// requestDeletion accepts a deletion job for one identifier. A profile
// that does not exist is accepted too, as a deletion of nothing: the job
// is asynchronous, and a deletion request must not tell whether the
// person was ever known.
func (s *Server) requestDeletion(w http.ResponseWriter, body []byte) {
	res, ok := decode(w, body, "data-privacy-deletion-job")
	if !ok {
		return
	}
	const ptr = "/data/attributes/profile/data"
	var prof struct {
		Data *struct {
			Type       string                     `json:"type"`
			ID         *string                    `json:"id"`
			Attributes map[string]json.RawMessage `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(res.Attributes["profile"], &prof); err != nil || prof.Data == nil {
		invalidAt(w, "/data/attributes/profile", "A profile is required.")
		return
	}
	p := prof.Data
	if p.Type != "profile" {
		invalidAt(w, ptr+"/type", "Expected type profile.")
		return
	}
	if p.Attributes == nil {
		invalidAt(w, ptr+"/attributes", "This field is required.")
		return
	}
	var who identity
	n := 0
	if p.ID != nil && *p.ID != "" {
		who.id, n = *p.ID, n+1
	}
	for k, raw := range p.Attributes {
		v, null, err := str(raw)
		switch {
		case k != "email" && k != "phone_number":
			invalidAt(w, ptr+"/attributes/"+k, "The fake does not model %q here: a deletion takes email or phone_number.", k)
			return
		case err != nil:
			invalidAt(w, ptr+"/attributes/"+k, "Expected a string.")
			return
		case null || v == "":
			continue
		case k == "email" && !emailRE.MatchString(v):
			invalidAt(w, ptr+"/attributes/email", "Invalid email address.")
			return
		case k == "phone_number" && !phoneRE.MatchString(v):
			invalidAt(w, ptr+"/attributes/phone_number", "Invalid phone number format.")
			return
		case k == "email":
			who.email = v
		default:
			who.phone = v
		}
		n++
	}
	if n != 1 {
		invalidAt(w, ptr, "Exactly one of id, email or phone_number is required.")
		return
	}
	now := s.base.Now()
	s.st.jobSeq++
	s.st.deletions = append(s.st.deletions, &deletionJob{who: who, seq: s.st.jobSeq, due: now.Add(s.cfg.jobDuration)})
	s.settleJobs()
	w.WriteHeader(http.StatusAccepted)
}

// erase deletes the profile who names, as Klaviyo documents it: the
// profile goes, with its identifiers and its list and segment
// memberships; its events stay for reporting, unlinked from it, with
// string properties equal to its email, phone number or external id
// replaced by "redacted". No such profile: nothing happens.
func (st *state) erase(who identity, now time.Time) {
	p, _, _ := st.find(who)
	if p == nil {
		return
	}
	gone := DeletedProfile{ID: p.id, Email: p.email, PhoneNumber: p.phone, ExternalID: p.extID, DeletedAt: now}
	anon := newUUID()
	for _, e := range st.events {
		if e.profileID == p.id {
			e.profileID, e.anon = "", anon
			e.props = redact(e.props, gone).(map[string]any)
		}
	}
	delete(st.profiles, p.id)
	st.order = slices.DeleteFunc(st.order, func(id string) bool { return id == p.id })
	for _, f := range []string{"email", "phone_number", "external_id"} {
		st.clearIdentity(p, f)
	}
	for _, l := range st.lists {
		delete(l.members, p.id)
	}
	for _, l := range st.segments {
		delete(l.members, p.id)
	}
	st.deleted = append(st.deleted, gone)
}

// redact returns v with every string that is one of the deleted profile's
// identifiers replaced by "redacted", at any depth. It copies what it
// changes: earlier readers of the events may still hold the old values.
func redact(v any, p DeletedProfile) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, y := range x {
			out[k] = redact(y, p)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = redact(y, p)
		}
		return out
	case string:
		if (p.Email != "" && strings.EqualFold(x, p.Email)) || (p.PhoneNumber != "" && x == p.PhoneNumber) || (p.ExternalID != "" && x == p.ExternalID) {
			return "redacted"
		}
	}
	return v
}

// DeletedProfiles returns the profiles deletion jobs have removed so far,
// oldest first, after carrying out the jobs whose time is up.
func (s *Server) DeletedProfiles() []DeletedProfile {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleJobs()
	return slices.Clone(s.st.deleted)
}

// PendingDeletions is how many accepted deletion jobs have not run yet.
func (s *Server) PendingDeletions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleJobs()
	return len(s.st.deletions)
}
