package klaviyotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

func listJSON(r *http.Request, l *list, kind string) map[string]any {
	a := map[string]any{"name": l.name, "created": timeStr(l.created), "updated": timeStr(l.updated)}
	if kind == "list" {
		a["opt_in_process"] = nullable(l.optIn)
	} else {
		a["is_active"], a["is_processing"], a["is_starred"] = true, false, false
	}
	return map[string]any{"type": kind, "id": l.id, "attributes": a,
		"links": map[string]any{"self": baseURL(r) + "/api/" + kind + "s/" + l.id + "/"}}
}

var (
	listRules = rules{"name": eqAny, "id": eqAny, "created": {"greater-than"}, "updated": {"greater-than"}}
	// Segments also filter on is_active and is_starred (SPEC); the fake's
	// segments are all active and none is starred.
	segmentRules = rules{"name": eqAny, "id": eqAny, "created": {"greater-than"}, "updated": {"greater-than"},
		"is_active": eqAny, "is_starred": {"equals"}}
)

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, q url.Values, ids []string, m map[string]*list, kind string) {
	if !checkQuery(w, q, "filter", "page[size]", "page[cursor]") {
		return
	}
	allowed := listRules
	if kind == "segment" {
		allowed = segmentRules
	}
	terms, ok := filterOf(w, r, allowed)
	if !ok {
		return
	}
	all := make([]*list, len(ids))
	for i, id := range ids {
		all[i] = m[id]
	}
	out := filterItems(all, terms, func(l *list, field string) any {
		switch field {
		case "name":
			return l.name
		case "id":
			return l.id
		case "created":
			return l.created
		case "is_active":
			return true
		case "is_starred":
			return false
		}
		return l.updated
	})
	page(w, r, out, 10, 10, func(l *list) any { return listJSON(r, l, kind) })
}

func (s *Server) listLists(w http.ResponseWriter, r *http.Request, q url.Values) {
	s.listGroups(w, r, q, s.st.listIDs, s.st.lists, "list")
}

func (s *Server) listSegments(w http.ResponseWriter, r *http.Request, q url.Values) {
	s.listGroups(w, r, q, s.st.segIDs, s.st.segments, "segment")
}

func (s *Server) createList(w http.ResponseWriter, r *http.Request, body []byte) {
	res, ok := decode(w, body, "list")
	if !ok {
		return
	}
	var name, optIn string
	for k, raw := range res.Attributes {
		switch k {
		case "name":
			name, _, _ = str(raw)
		case "opt_in_process":
			optIn, _, _ = str(raw)
			if optIn != "" && optIn != "single_opt_in" && optIn != "double_opt_in" {
				invalidAt(w, "/data/attributes/opt_in_process", "Must be single_opt_in or double_opt_in.")
				return
			}
		default:
			invalidAt(w, "/data/attributes/"+k, "'%s' is not a valid field for the resource 'list'.", k)
			return
		}
	}
	if name == "" {
		invalidAt(w, "/data/attributes/name", "This field is required.")
		return
	}
	l := s.addList(name, optIn)
	writeJSON(w, http.StatusCreated, map[string]any{"data": listJSON(r, l, "list")})
}

func (s *Server) addList(name, optIn string) *list {
	now := s.base.Now()
	if optIn == "" {
		optIn = "single_opt_in"
	}
	l := &list{id: s.st.shortID('L'), name: name, optIn: optIn, created: now, updated: now, members: map[string]time.Time{}}
	s.st.lists[l.id] = l
	s.st.listIDs = append(s.st.listIDs, l.id)
	return l
}

func (s *Server) getList(w http.ResponseWriter, r *http.Request, id string) {
	l := s.st.lists[id]
	if l == nil {
		notFound(w, "List")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": listJSON(r, l, "list")})
}

var memberRules = rules{"email": eqAny, "phone_number": eqAny, "joined_group_at": cmp}

func (s *Server) members(w http.ResponseWriter, r *http.Request, l *list, q url.Values, extra rules) {
	if !checkQuery(w, q, "filter", "page[size]", "page[cursor]", "sort", "additional-fields[profile]") {
		return
	}
	subs, ok := additional(w, q)
	if !ok {
		return
	}
	allowed := rules{}
	for k, v := range memberRules {
		allowed[k] = v
	}
	for k, v := range extra {
		allowed[k] = v
	}
	terms, ok := filterOf(w, r, allowed)
	if !ok {
		return
	}
	ids := l.memberIDs()
	switch srt := q.Get("sort"); srt {
	case "", "joined_group_at":
	case "-joined_group_at":
		for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
			ids[i], ids[j] = ids[j], ids[i]
		}
	default:
		invalidParam(w, "sort", "Invalid sort %q.", srt)
		return
	}
	var all []*profile
	for _, id := range ids {
		if p := s.st.profiles[id]; p != nil {
			all = append(all, p)
		}
	}
	out := filterItems(all, terms, func(p *profile, field string) any {
		switch field {
		case "joined_group_at":
			return l.members[p.id]
		case "profile_id":
			return p.id
		}
		return profileField(p, field)
	})
	page(w, r, out, 20, 100, func(p *profile) any { return s.profileJSON(r, p, subs, l.members[p.id]) })
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, id string, q url.Values) {
	l := s.st.lists[id]
	if l == nil {
		notFound(w, "List")
		return
	}
	s.members(w, r, l, q, nil)
}

func (s *Server) segmentMembers(w http.ResponseWriter, r *http.Request, id string, q url.Values) {
	l := s.st.segments[id]
	if l == nil {
		notFound(w, "Segment")
		return
	}
	s.members(w, r, l, q, rules{"profile_id": eqAny})
}

// MaxListChange is how many profiles one add or remove request carries.
const MaxListChange = 1000

func (s *Server) changeMembers(w http.ResponseWriter, id string, body []byte, add bool) {
	l := s.st.lists[id]
	if l == nil {
		notFound(w, "List")
		return
	}
	var d struct {
		Data []struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &d); err != nil || d.Data == nil {
		invalidAt(w, "/data", "data must be an array of profile identifiers.")
		return
	}
	if len(d.Data) > MaxListChange {
		invalidAt(w, "/data", "At most %d profiles per request, not %d.", MaxListChange, len(d.Data))
		return
	}
	for i, x := range d.Data {
		if x.Type != "profile" || s.st.profiles[x.ID] == nil {
			invalidAt(w, fmt.Sprintf("/data/%d/id", i), "Profile %s not found.", strings.TrimSpace(x.ID))
			return
		}
	}
	now := s.base.Now()
	for _, x := range d.Data {
		if add {
			if _, ok := l.members[x.ID]; !ok {
				l.members[x.ID] = now
			}
		} else {
			delete(l.members, x.ID)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
