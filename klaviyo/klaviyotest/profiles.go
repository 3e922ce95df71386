package klaviyotest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// profileJSON renders a profile resource; joined is set for list and
// segment members.
func (s *Server) profileJSON(r *http.Request, p *profile, subs bool, joined time.Time) map[string]any {
	a := map[string]any{
		"email": nullable(p.email), "phone_number": nullable(p.phone), "external_id": nullable(p.extID),
		"first_name": nullable(p.first), "last_name": nullable(p.last), "organization": nullable(p.org),
		"locale": nullable(p.locale), "title": nullable(p.title), "image": nullable(p.image),
		"created": timeStr(p.created), "updated": timeStr(p.updated), "last_event_date": timeStr(p.lastEvent),
		"location": p.location, "properties": copyMap(p.props),
	}
	if p.location == nil {
		a["location"] = map[string]any{}
	}
	if !joined.IsZero() {
		a["joined_group_at"] = timeStr(joined)
	}
	if subs {
		supp := []any{}
		for _, x := range p.suppressions {
			supp = append(supp, map[string]any{"reason": x.reason, "timestamp": timeStr(x.at)})
		}
		ls := []any{}
		for _, x := range p.listSuppressions {
			ls = append(ls, map[string]any{"list_id": x.listID, "reason": x.reason, "timestamp": timeStr(x.at)})
		}
		a["subscriptions"] = map[string]any{
			"email": map[string]any{"marketing": map[string]any{
				"can_receive_email_marketing": p.email != "" && p.emailConsent == "SUBSCRIBED" && !p.suppressed(),
				"consent":                     p.emailConsent, "consent_timestamp": timeStr(p.emailConsentAt),
				"method": nullable(p.emailMethod), "suppression": supp, "list_suppressions": ls,
			}},
			"sms": map[string]any{"marketing": map[string]any{
				"can_receive_sms_marketing": p.phone != "" && p.smsConsent == "SUBSCRIBED",
				"consent":                   p.smsConsent, "consent_timestamp": timeStr(p.smsConsentAt),
			}},
		}
	}
	return map[string]any{"type": "profile", "id": p.id, "attributes": a,
		"links": map[string]any{"self": baseURL(r) + "/api/profiles/" + p.id + "/"}}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

var (
	emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	phoneRE = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

// locationKeys are the fields of ProfileLocation (SPEC).
var locationKeys = map[string]bool{"address1": true, "address2": true, "city": true, "country": true, "latitude": true,
	"longitude": true, "region": true, "zip": true, "timezone": true, "ip": true}

// profileAttrs are the attributes a profile write may carry.
var profileAttrs = map[string]bool{"email": true, "phone_number": true, "external_id": true, "first_name": true,
	"last_name": true, "organization": true, "locale": true, "title": true, "image": true, "location": true,
	"properties": true}

// profileWrite is a decoded, validated profile write.
type profileWrite struct {
	who   identity
	strs  map[string]string // other string attributes set
	nulls []string          // attributes set to null
	loc   map[string]any
	props map[string]any
	patch *patch
}

type patch struct {
	Append   map[string]any  `json:"append"`
	Unappend map[string]any  `json:"unappend"`
	Unset    json.RawMessage `json:"unset"`
}

// readProfile validates profile attributes (at pointer) and an optional
// meta.patch_properties. It returns an error message and its pointer.
func readProfile(attrs map[string]json.RawMessage, meta json.RawMessage, id string, pointer string, extra ...string) (*profileWrite, string, string) {
	pw := &profileWrite{strs: map[string]string{}, who: identity{id: id}}
	allowed := func(k string) bool {
		if profileAttrs[k] {
			return true
		}
		for _, e := range extra {
			if e == k {
				return true
			}
		}
		return false
	}
	for k, raw := range attrs {
		p := pointer + "/" + k
		if !allowed(k) {
			return nil, "'" + k + "' is not a valid field for the resource 'profile'.", p
		}
		switch k {
		case "location":
			if string(raw) == "null" {
				pw.nulls = append(pw.nulls, k)
				continue
			}
			if err := json.Unmarshal(raw, &pw.loc); err != nil {
				return nil, "location must be an object.", p
			}
			for lk := range pw.loc {
				if !locationKeys[lk] {
					return nil, "'" + lk + "' is not a valid field for a profile location.", p + "/" + lk
				}
			}
			continue
		case "properties":
			if string(raw) == "null" {
				pw.nulls = append(pw.nulls, k)
				continue
			}
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&pw.props); err != nil {
				return nil, "properties must be an object.", p
			}
			continue
		case "meta":
			meta = raw
			continue
		}
		v, null, err := str(raw)
		if err != nil {
			return nil, k + " must be a string.", p
		}
		switch {
		case null:
			pw.nulls = append(pw.nulls, k)
		case k == "email":
			if !emailRE.MatchString(v) {
				return nil, "Invalid email address.", p
			}
			pw.who.email = v
		case k == "phone_number":
			if !phoneRE.MatchString(v) {
				return nil, "Invalid phone number format (Example of a valid format: +13239169023).", p
			}
			pw.who.phone = v
		case k == "external_id":
			pw.who.extID = v
		default:
			pw.strs[k] = v
		}
	}
	if len(meta) > 0 && string(meta) != "null" {
		var m struct {
			PatchProperties *patch `json:"patch_properties"`
		}
		// Strict: patch_identifiers and unknown patch operations are not
		// modelled, and are refused rather than ignored.
		dec := json.NewDecoder(bytes.NewReader(meta))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return nil, "meta must be an object with patch_properties (append, unappend, unset) only: " + err.Error(), pointer
		}
		pw.patch = m.PatchProperties
	}
	return pw, "", ""
}

// apply writes pw onto p; nulls clear fields only when clears is true
// (bulk imports ignore them).
func (st *state) apply(p *profile, pw *profileWrite, clears bool, now time.Time) {
	st.setIdentity(p, pw.who)
	for k, v := range pw.strs {
		setStr(p, k, v)
	}
	if pw.loc != nil {
		if p.location == nil {
			p.location = map[string]any{}
		}
		for k, v := range pw.loc {
			p.location[k] = v
		}
	}
	for k, v := range pw.props {
		p.props[k] = v
	}
	if clears {
		for _, k := range pw.nulls {
			switch k {
			case "email", "phone_number", "external_id":
				st.clearIdentity(p, k)
			case "location":
				p.location = nil
			case "properties":
				p.props = map[string]any{}
			default:
				setStr(p, k, "")
			}
		}
	}
	applyPatch(p, pw.patch)
	p.updated = now
}

func setStr(p *profile, k, v string) {
	switch k {
	case "first_name":
		p.first = v
	case "last_name":
		p.last = v
	case "organization":
		p.org = v
	case "locale":
		p.locale = v
	case "title":
		p.title = v
	case "image":
		p.image = v
	}
}

func applyPatch(p *profile, pt *patch) {
	if pt == nil {
		return
	}
	for k, v := range pt.Append {
		cur, _ := p.props[k].([]any)
		p.props[k] = append(cur, flatten(v)...)
	}
	for k, v := range pt.Unappend {
		cur, _ := p.props[k].([]any)
		drop := flatten(v)
		var keep []any
		for _, x := range cur {
			gone := false
			for _, d := range drop {
				if x == d {
					gone = true
				}
			}
			if !gone {
				keep = append(keep, x)
			}
		}
		p.props[k] = keep
	}
	var unset []string
	if json.Unmarshal(pt.Unset, &unset) != nil {
		var one string
		if json.Unmarshal(pt.Unset, &one) == nil && one != "" {
			unset = []string{one}
		}
	}
	for _, k := range unset {
		delete(p.props, k)
	}
}

func flatten(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

var profileRules = rules{"id": eqAny, "email": eqAny, "phone_number": eqAny, "external_id": eqAny,
	"created": {"greater-than", "less-than"}, "updated": {"greater-than", "less-than"},
	"subscriptions.email.marketing.suppression.reason":    {"equals"},
	"subscriptions.email.marketing.suppression.timestamp": cmp,
}

// profileField is the value of a filter or sort field of a profile.
func profileField(p *profile, field string) any {
	switch field {
	case "id":
		return p.id
	case "email":
		return p.email
	case "phone_number":
		return p.phone
	case "external_id":
		return p.extID
	case "created":
		return p.created
	case "updated":
		return p.updated
	}
	return nil
}

// matchProfile applies terms to p.
func matchProfile(p *profile, terms []term) bool {
	for _, t := range terms {
		switch t.field {
		case "subscriptions.email.marketing.suppression.reason", "subscriptions.email.marketing.suppression.timestamp":
			hit := false
			for _, x := range p.suppressions {
				v := any(x.reason)
				if strings.HasSuffix(t.field, "timestamp") {
					v = x.at
				}
				hit = hit || t.match(v)
			}
			if !hit {
				return false
			}
		default:
			if !t.match(profileField(p, t.field)) {
				return false
			}
		}
	}
	return true
}

func (s *Server) listProfiles(w http.ResponseWriter, r *http.Request, q url.Values) {
	if !checkQuery(w, q, "filter", "page[size]", "page[cursor]", "sort", "additional-fields[profile]") {
		return
	}
	subs, ok := additional(w, q)
	if !ok {
		return
	}
	terms, ok := filterOf(w, r, profileRules)
	if !ok {
		return
	}
	var out []*profile
	for _, id := range s.st.order {
		if p := s.st.profiles[id]; p != nil && matchProfile(p, terms) {
			out = append(out, p)
		}
	}
	if srt := q.Get("sort"); srt != "" {
		f := strings.TrimPrefix(srt, "-")
		if f != "created" && f != "updated" && f != "email" && f != "id" {
			invalidParam(w, "sort", "The fake does not model sorting by %q.", srt)
			return
		}
		sortBy(out, func(p *profile) any { return profileField(p, f) }, strings.HasPrefix(srt, "-"))
	}
	page(w, r, out, 20, 100, func(p *profile) any { return s.profileJSON(r, p, subs, time.Time{}) })
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request, id string, q url.Values) {
	if !checkQuery(w, q, "additional-fields[profile]") {
		return
	}
	subs, ok := additional(w, q)
	if !ok {
		return
	}
	p := s.st.profiles[id]
	if p == nil {
		notFound(w, "Profile")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": s.profileJSON(r, p, subs, time.Time{})})
}

func (s *Server) createProfile(w http.ResponseWriter, r *http.Request, body []byte) {
	res, ok := decode(w, body, "profile")
	if !ok {
		return
	}
	if res.ID != nil || res.Meta != nil {
		invalidAt(w, "/data", "create_profile takes no id and no meta.")
		return
	}
	pw, msg, ptr := readProfile(res.Attributes, nil, "", "/data/attributes")
	if pw == nil {
		invalidAt(w, ptr, "%s", msg)
		return
	}
	if pw.who.email == "" && pw.who.phone == "" && pw.who.extID == "" {
		invalidAt(w, "/data/attributes", "One of email, phone_number or external_id is required.")
		return
	}
	if p, _, _ := s.st.find(pw.who); p != nil {
		writeError(w, http.StatusConflict, duplicateError(p))
		return
	}
	now := s.base.Now()
	p := s.st.create(pw.who, now)
	s.st.apply(p, pw, true, now)
	writeJSON(w, http.StatusCreated, map[string]any{"data": s.profileJSON(r, p, false, time.Time{})})
}

func (s *Server) updateProfile(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	res, ok := decode(w, body, "profile")
	if !ok {
		return
	}
	if res.id() != id {
		writeError(w, http.StatusConflict, apiErr{Code: "conflict", Title: "Conflict.", Detail: "The id in the body must match the id in the URL.", Pointer: "/data/id"})
		return
	}
	p := s.st.profiles[id]
	if p == nil {
		notFound(w, "Profile")
		return
	}
	pw, msg, ptr := readProfile(res.Attributes, nil, id, "/data/attributes")
	if pw == nil {
		invalidAt(w, ptr, "%s", msg)
		return
	}
	if pw.patch, msg = readPatch(res.Meta); msg != "" {
		invalidAt(w, "/data/meta", "%s", msg)
		return
	}
	if other := s.conflict(p, pw.who); other != nil {
		writeError(w, http.StatusConflict, duplicateError(other))
		return
	}
	s.st.apply(p, pw, true, s.base.Now())
	writeJSON(w, http.StatusOK, map[string]any{"data": s.profileJSON(r, p, false, time.Time{})})
}

// readPatch reads meta.patch_properties of a resource.
// readPatch reads a resource's meta.patch_properties; it returns an error
// message for anything else in meta (patch_identifiers is not modelled)
// or a patch it cannot read, which is refused rather than ignored.
func readPatch(meta map[string]json.RawMessage) (*patch, string) {
	for k := range meta {
		if k != "patch_properties" {
			return nil, "The fake does not model meta." + k + "."
		}
	}
	raw, ok := meta["patch_properties"]
	if !ok || string(raw) == "null" {
		return nil, ""
	}
	var pt patch
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pt); err != nil {
		return nil, "patch_properties takes append, unappend and unset only: " + err.Error()
	}
	return &pt, ""
}

// conflict returns another profile already holding one of who's
// identifiers.
func (s *Server) conflict(p *profile, who identity) *profile {
	for _, id := range []string{lookup(s.st.byEmail, strings.ToLower(who.email)), lookup(s.st.byPhone, who.phone), lookup(s.st.byExtID, who.extID)} {
		if id != "" && id != p.id {
			return s.st.profiles[id]
		}
	}
	return nil
}

func lookup(m map[string]string, k string) string {
	if k == "" {
		return ""
	}
	return m[k]
}

func (s *Server) upsertProfile(w http.ResponseWriter, r *http.Request, body []byte) {
	res, ok := decode(w, body, "profile")
	if !ok {
		return
	}
	pw, msg, ptr := readProfile(res.Attributes, nil, res.id(), "/data/attributes")
	if pw == nil {
		invalidAt(w, ptr, "%s", msg)
		return
	}
	if pw.patch, msg = readPatch(res.Meta); msg != "" {
		invalidAt(w, "/data/meta", "%s", msg)
		return
	}
	p, other, unknown := s.st.find(pw.who)
	switch {
	case unknown:
		notFound(w, "Profile")
		return
	case other != nil:
		writeError(w, http.StatusConflict, duplicateError(other))
		return
	case p == nil && pw.who.email == "" && pw.who.phone == "" && pw.who.extID == "":
		invalidAt(w, "/data/attributes", "One of email, phone_number or external_id is required.")
		return
	}
	now := s.base.Now()
	status := http.StatusOK
	if p == nil {
		p = s.st.create(pw.who, now)
		status = http.StatusCreated
	}
	s.st.apply(p, pw, true, now)
	writeJSON(w, status, map[string]any{"data": s.profileJSON(r, p, false, time.Time{})})
}
