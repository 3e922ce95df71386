package klaviyotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The caps of the bulk consent jobs.
const (
	MaxSubscribe   = 1000
	MaxUnsubscribe = 100
	MaxSuppress    = 100
)

type consentIn struct {
	Consent     string `json:"consent"`
	ConsentedAt string `json:"consented_at"`
}

type subProfile struct {
	Type       string  `json:"type"`
	ID         *string `json:"id"`
	Attributes struct {
		Email         string `json:"email"`
		PhoneNumber   string `json:"phone_number"`
		Subscriptions struct {
			Email *struct {
				Marketing *consentIn `json:"marketing"`
			} `json:"email"`
			SMS *struct {
				Marketing     *consentIn `json:"marketing"`
				Transactional *consentIn `json:"transactional"`
			} `json:"sms"`
		} `json:"subscriptions"`
	} `json:"attributes"`
}

// readJob decodes a consent job: its profiles (at most maxN) and its list.
// Job attributes beyond attrs, and profile fields or channels the fake
// does not model (whatsapp, push, email open tracking, an age-gated date
// of birth), are refused, never ignored.
func (s *Server) readJob(w http.ResponseWriter, body []byte, typ string, maxN int, attrs ...string) ([]subProfile, resourceIn, *list, bool) {
	res, ok := decode(w, body, typ)
	if !ok {
		return nil, res, nil, false
	}
	for k := range res.Attributes {
		if k != "profiles" && !slices.Contains(attrs, k) {
			invalidAt(w, "/data/attributes/"+k, "'%s' is not a valid field for the resource '%s'.", k, typ)
			return nil, res, nil, false
		}
	}
	var ps struct {
		Data []subProfile `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(res.Attributes["profiles"]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ps); err != nil && strings.Contains(err.Error(), "unknown field") {
		invalidAt(w, "/data/attributes/profiles", "The fake does not model this profile field or channel: %v.", err)
		return nil, res, nil, false
	} else if err != nil || len(ps.Data) == 0 {
		invalidAt(w, "/data/attributes/profiles", "At least one profile is required.")
		return nil, res, nil, false
	}
	if len(ps.Data) > maxN {
		invalidAt(w, "/data/attributes/profiles/data", "At most %d profiles per request, not %d.", maxN, len(ps.Data))
		return nil, res, nil, false
	}
	var l *list
	if rel, ok := res.Relationships["list"]; ok {
		var ref struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		if json.Unmarshal(rel.Data, &ref) != nil || ref.Type != "list" || s.st.lists[ref.ID] == nil {
			notFound(w, "List")
			return nil, res, nil, false
		}
		l = s.st.lists[ref.ID]
	}
	for i, p := range ps.Data {
		a := p.Attributes
		ptr := fmt.Sprintf("/data/attributes/profiles/data/%d", i)
		if p.Type != "profile" {
			invalidAt(w, ptr+"/type", "Expected type profile.")
			return nil, res, nil, false
		}
		if a.Email != "" && !emailRE.MatchString(a.Email) {
			invalidAt(w, ptr+"/attributes/email", "Invalid email address.")
			return nil, res, nil, false
		}
		if a.PhoneNumber != "" && !phoneRE.MatchString(a.PhoneNumber) {
			invalidAt(w, ptr+"/attributes/phone_number", "Invalid phone number format.")
			return nil, res, nil, false
		}
		if a.Subscriptions.Email != nil && a.Email == "" {
			invalidAt(w, ptr+"/attributes/email", "An email address is required for the email channel.")
			return nil, res, nil, false
		}
		if a.Subscriptions.SMS != nil && a.PhoneNumber == "" {
			invalidAt(w, ptr+"/attributes/phone_number", "A phone number is required for the SMS channel.")
			return nil, res, nil, false
		}
	}
	return ps.Data, res, l, true
}

// profileFor finds or creates the profile of a consent job entry.
func (s *Server) profileFor(p subProfile, now time.Time) *profile {
	in := identity{email: p.Attributes.Email, phone: p.Attributes.PhoneNumber}
	if p.ID != nil {
		in.id = *p.ID
	}
	found, _, unknown := s.st.find(in)
	if unknown {
		return nil
	}
	if found == nil {
		found = s.st.create(in, now)
	}
	return found
}

func (s *Server) subscribe(w http.ResponseWriter, body []byte) {
	ps, res, l, ok := s.readJob(w, body, "profile-subscription-bulk-create-job", MaxSubscribe, "historical_import", "custom_source")
	if !ok {
		return
	}
	historical := false
	if raw, ok := res.Attributes["historical_import"]; ok {
		_ = json.Unmarshal(raw, &historical)
	}
	now := s.base.Now()
	for i, p := range ps {
		for _, c := range consents(p) {
			ptr := fmt.Sprintf("/data/attributes/profiles/data/%d/attributes/subscriptions", i)
			if c.Consent != "SUBSCRIBED" {
				invalidAt(w, ptr, "consent must be SUBSCRIBED.")
				return
			}
			switch {
			case historical && c.ConsentedAt == "":
				invalidAt(w, ptr, "consented_at is required with historical_import.")
				return
			case !historical && c.ConsentedAt != "":
				invalidAt(w, ptr, "consented_at is only allowed with historical_import.")
				return
			}
		}
	}
	// Double opt-in lists send a confirmation first: the fake models the
	// pending confirmation as no change at all.
	if l != nil && l.optIn == "double_opt_in" && !historical {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	for _, in := range ps {
		p := s.profileFor(in, now)
		if p == nil {
			continue
		}
		subs := in.Attributes.Subscriptions
		if subs.Email != nil && subs.Email.Marketing != nil {
			p.emailConsent, p.emailConsentAt, p.emailMethod = "SUBSCRIBED", now, "API"
			p.suppressions = slices.DeleteFunc(p.suppressions, func(x suppression) bool {
				return x.reason == "UNSUBSCRIBE" || x.reason == "SPAM_COMPLAINT" || x.reason == "USER_SUPPRESSED"
			})
			if l != nil {
				p.listSuppressions = slices.DeleteFunc(p.listSuppressions, func(x listSuppression) bool { return x.listID == l.id })
			}
		}
		if subs.SMS != nil && subs.SMS.Marketing != nil {
			p.smsConsent, p.smsConsentAt = "SUBSCRIBED", now
		}
		if l != nil {
			if _, ok := l.members[p.id]; !ok {
				l.members[p.id] = now
			}
		}
		p.updated = now
	}
	w.WriteHeader(http.StatusAccepted)
}

func consents(p subProfile) []*consentIn {
	var out []*consentIn
	if e := p.Attributes.Subscriptions.Email; e != nil && e.Marketing != nil {
		out = append(out, e.Marketing)
	}
	if m := p.Attributes.Subscriptions.SMS; m != nil {
		for _, c := range []*consentIn{m.Marketing, m.Transactional} {
			if c != nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// unsubscribe models Klaviyo's two cases: with a list, a member leaves the
// list and gets a list suppression, keeping its global consent; a profile
// not in the list, and every profile of a request without a list, is
// unsubscribed globally.
func (s *Server) unsubscribe(w http.ResponseWriter, body []byte) {
	ps, _, l, ok := s.readJob(w, body, "profile-subscription-bulk-delete-job", MaxUnsubscribe)
	if !ok {
		return
	}
	for i, p := range ps {
		for _, c := range consents(p) {
			if c.Consent != "UNSUBSCRIBED" {
				invalidAt(w, fmt.Sprintf("/data/attributes/profiles/data/%d/attributes/subscriptions", i), "consent must be UNSUBSCRIBED.")
				return
			}
		}
	}
	now := s.base.Now()
	for _, in := range ps {
		p := s.profileFor(in, now)
		if p == nil {
			continue
		}
		subs := in.Attributes.Subscriptions
		if subs.Email != nil && subs.Email.Marketing != nil {
			if _, member := l.membersOf()[p.id]; l != nil && member {
				delete(l.members, p.id)
				p.listSuppressions = append(p.listSuppressions, listSuppression{listID: l.id, reason: "UNSUBSCRIBE", at: now})
			} else {
				p.emailConsent, p.emailConsentAt = "UNSUBSCRIBED", now
				if !hasReason(p.suppressions, "UNSUBSCRIBE") {
					p.suppressions = append(p.suppressions, suppression{reason: "UNSUBSCRIBE", at: now})
				}
			}
		}
		if subs.SMS != nil && subs.SMS.Marketing != nil {
			p.smsConsent, p.smsConsentAt = "UNSUBSCRIBED", now
		}
		p.updated = now
	}
	w.WriteHeader(http.StatusAccepted)
}

func (l *list) membersOf() map[string]time.Time {
	if l == nil {
		return nil
	}
	return l.members
}

func hasReason(ss []suppression, reason string) bool {
	for _, x := range ss {
		if x.reason == reason {
			return true
		}
	}
	return false
}

// suppress adds or lifts USER_SUPPRESSED suppressions by email; lifting
// leaves every other reason.
func (s *Server) suppress(w http.ResponseWriter, r *http.Request, body []byte, add bool) {
	typ := "profile-suppression-bulk-create-job"
	if !add {
		typ = "profile-suppression-bulk-delete-job"
	}
	res, ok := decode(w, body, typ)
	if !ok {
		return
	}
	if len(res.Relationships) > 0 {
		invalidAt(w, "/data/relationships", "The fake does not model suppressing a whole list or segment.")
		return
	}
	var ps struct {
		Data []struct {
			Type       string `json:"type"`
			Attributes struct {
				Email string `json:"email"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(res.Attributes["profiles"], &ps); err != nil || len(ps.Data) == 0 {
		invalidAt(w, "/data/attributes/profiles", "At least one profile is required.")
		return
	}
	if len(ps.Data) > MaxSuppress {
		invalidAt(w, "/data/attributes/profiles/data", "At most %d emails per request, not %d.", MaxSuppress, len(ps.Data))
		return
	}
	for i, p := range ps.Data {
		if !emailRE.MatchString(p.Attributes.Email) {
			invalidAt(w, fmt.Sprintf("/data/attributes/profiles/data/%d/attributes/email", i), "Invalid email address.")
			return
		}
	}
	now := s.base.Now()
	for _, x := range ps.Data {
		p, _, _ := s.st.find(identity{email: x.Attributes.Email})
		if p == nil {
			if !add {
				continue
			}
			p = s.st.create(identity{email: x.Attributes.Email}, now)
		}
		if add && !hasReason(p.suppressions, "USER_SUPPRESSED") {
			p.suppressions = append(p.suppressions, suppression{reason: "USER_SUPPRESSED", at: now})
		}
		if !add {
			p.suppressions = slices.DeleteFunc(p.suppressions, func(x suppression) bool { return x.reason == "USER_SUPPRESSED" })
		}
		p.updated = now
	}
	id := newUUID()
	writeJSON(w, http.StatusAccepted, map[string]any{"data": map[string]any{"type": typ, "id": id,
		"attributes": map[string]any{"status": "complete", "created_at": timeStr(now), "total_count": len(ps.Data),
			"completed_count": len(ps.Data), "completed_at": timeStr(now)},
		"links": map[string]any{"self": baseURL(r) + "/api/" + strings.TrimSuffix(typ, "-job") + "-jobs/" + id + "/"}}})
}
