package klaviyotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// MaxImportProfiles is how many profiles one bulk import job carries.
const MaxImportProfiles = 10000

// importJob is a bulk profile import: validated when created, applied
// when its time is up.
type importJob struct {
	id       string
	seq      int
	created  time.Time
	due      time.Time
	items    []*profileWrite
	raw      []json.RawMessage
	lists    []string
	done     bool
	finished time.Time
	failed   int
	errs     []importError
}

type importError struct {
	id, code, title, detail, pointer string
	payload                          json.RawMessage
}

// importParsed is an import request decoded and validated before the
// server's lock is taken.
type importParsed struct {
	job          *importJob
	lists        []string
	pointer, msg string // the first error, if any
}

// parseImport decodes and validates an import job request; it touches no
// state, so it runs outside the lock.
func parseImport(body []byte) *importParsed {
	fail := func(ptr, format string, args ...any) *importParsed {
		return &importParsed{pointer: ptr, msg: fmt.Sprintf(format, args...)}
	}
	var d doc
	if err := json.Unmarshal(body, &d); err != nil || d.Data.Type != "profile-bulk-import-job" || d.Data.Attributes == nil {
		return fail("/data", "Expected a profile-bulk-import-job resource.")
	}
	var ps struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(d.Data.Attributes["profiles"], &ps); err != nil || len(ps.Data) == 0 {
		return fail("/data/attributes/profiles", "At least one profile is required.")
	}
	if len(ps.Data) > MaxImportProfiles {
		return fail("/data/attributes/profiles/data", "At most %d profiles per job, not %d.", MaxImportProfiles, len(ps.Data))
	}
	job := &importJob{raw: ps.Data}
	for i, raw := range ps.Data {
		ptr := fmt.Sprintf("/data/attributes/profiles/data/%d", i)
		var p resourceIn
		if err := json.Unmarshal(raw, &p); err != nil || p.Type != "profile" || p.Attributes == nil {
			return fail(ptr, "Expected a profile resource.")
		}
		if len(raw) > 100<<10 {
			return fail(ptr, "A profile may not exceed 100KB.")
		}
		pw, msg, pp := readProfile(p.Attributes, nil, p.id(), ptr+"/attributes", "_kx")
		if pw == nil {
			return fail(pp, "%s", msg)
		}
		if pw.patch, msg = readPatch(p.Meta); msg != "" {
			return fail(ptr+"/meta", "%s", msg)
		}
		if pw.who.id == "" && pw.who.email == "" && pw.who.phone == "" && pw.who.extID == "" {
			return fail(ptr+"/attributes", "One of id, email, phone_number or external_id is required.")
		}
		job.items = append(job.items, pw)
	}
	out := &importParsed{job: job}
	if rel, ok := d.Data.Relationships["lists"]; ok {
		var refs []struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		if err := json.Unmarshal(rel.Data, &refs); err != nil {
			return fail("/data/relationships/lists", "Expected list identifiers.")
		}
		for _, x := range refs {
			if x.Type != "list" {
				return fail("/data/relationships/lists", "Expected list identifiers.")
			}
			out.lists = append(out.lists, x.ID)
		}
	}
	return out
}

func (s *Server) createImportJob(w http.ResponseWriter, r *http.Request, p *importParsed) {
	if p.msg != "" {
		invalidAt(w, p.pointer, "%s", p.msg)
		return
	}
	for _, id := range p.lists {
		if s.st.lists[id] == nil {
			notFound(w, "List")
			return
		}
	}
	job := &importJob{raw: p.job.raw, items: p.job.items, lists: p.lists}
	now := s.base.Now()
	s.st.jobSeq++
	job.id, job.seq, job.created, job.due = newUUID(), s.st.jobSeq, now, now.Add(s.cfg.jobDuration)
	s.st.jobs[job.id] = job
	s.st.jobIDs = append(s.st.jobIDs, job.id)
	s.settleJobs()
	writeJSON(w, http.StatusAccepted, map[string]any{"data": s.jobJSON(r, job)})
}

// settleJobs carries out the import and deletion jobs whose time is up,
// in the order they were accepted (s.mu held).
func (s *Server) settleJobs() {
	now := s.base.Now()
	type ready struct {
		seq int
		run func()
	}
	var due []ready
	for _, id := range s.st.jobIDs {
		if j := s.st.jobs[id]; !j.done && !now.Before(j.due) {
			due = append(due, ready{j.seq, func() { s.runJob(j, now) }})
		}
	}
	pending := s.st.deletions[:0]
	for _, d := range s.st.deletions {
		if now.Before(d.due) {
			pending = append(pending, d)
			continue
		}
		due = append(due, ready{d.seq, func() { s.st.erase(d.who, now) }})
	}
	clear(s.st.deletions[len(pending):])
	s.st.deletions = pending
	slices.SortFunc(due, func(a, b ready) int { return a.seq - b.seq })
	for _, r := range due {
		r.run()
	}
}

// runJob imports each profile like Klaviyo: found by id or identifiers and
// updated, or created; nulls are ignored. A profile whose id does not
// exist, or whose identifiers name two profiles, fails alone.
func (s *Server) runJob(j *importJob, now time.Time) {
	for i, pw := range j.items {
		p, other, unknown := s.st.find(pw.who)
		ptr := fmt.Sprintf("/data/attributes/profiles/data/%d", i)
		switch {
		case unknown:
			j.errs = append(j.errs, importError{id: newUUID(), code: "not_found", title: "Profile not found.",
				detail: "No profile with id " + pw.who.id + ".", pointer: ptr + "/id", payload: j.raw[i]})
			continue
		case other != nil:
			j.errs = append(j.errs, importError{id: newUUID(), code: "duplicate_profile", title: "Conflict.",
				detail: "The identifiers name two profiles: " + p.id + " and " + other.id + ".", pointer: ptr + "/attributes", payload: j.raw[i]})
			continue
		case p == nil:
			p = s.st.create(pw.who, now)
		}
		s.st.apply(p, pw, false, now)
		for _, lid := range j.lists {
			if l := s.st.lists[lid]; l != nil {
				if _, ok := l.members[p.id]; !ok {
					l.members[p.id] = now
				}
			}
		}
	}
	j.failed = len(j.errs)
	j.done, j.finished = true, now
}

// jobJSON renders a job with the status its age gives it: queued for the
// first fifth of the job duration, then processing, complete once run.
func (s *Server) jobJSON(r *http.Request, j *importJob) map[string]any {
	now := s.base.Now()
	total := len(j.items)
	a := map[string]any{"created_at": timeStr(j.created), "total_count": total, "expires_at": timeStr(j.created.Add(7 * 24 * time.Hour))}
	span := j.due.Sub(j.created)
	switch {
	case j.done:
		a["status"], a["completed_count"], a["failed_count"] = "complete", total-j.failed, j.failed
		a["started_at"], a["completed_at"] = timeStr(j.created), timeStr(j.finished)
	case now.Sub(j.created) < span/5:
		a["status"], a["completed_count"], a["failed_count"] = "queued", 0, 0
	default:
		a["status"], a["started_at"], a["failed_count"] = "processing", timeStr(j.created.Add(span/5)), 0
		a["completed_count"] = int(float64(total) * float64(now.Sub(j.created)) / float64(span))
	}
	out := map[string]any{"type": "profile-bulk-import-job", "id": j.id, "attributes": a,
		"links": map[string]any{"self": baseURL(r) + "/api/profile-bulk-import-jobs/" + j.id + "/"}}
	if len(j.lists) > 0 {
		refs := make([]any, len(j.lists))
		for i, id := range j.lists {
			refs[i] = map[string]any{"type": "list", "id": id}
		}
		out["relationships"] = map[string]any{"lists": map[string]any{"data": refs}}
	}
	return out
}

func (s *Server) getImportJob(w http.ResponseWriter, r *http.Request, id string) {
	j := s.st.jobs[id]
	if j == nil {
		notFound(w, "Job")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": s.jobJSON(r, j)})
}

func (s *Server) getImportErrors(w http.ResponseWriter, r *http.Request, id string, q url.Values) {
	if !checkQuery(w, q, "page[size]", "page[cursor]") {
		return
	}
	j := s.st.jobs[id]
	if j == nil {
		notFound(w, "Job")
		return
	}
	page(w, r, j.errs, 20, 100, func(e importError) any {
		return map[string]any{"type": "import-error", "id": e.id, "attributes": map[string]any{
			"code": e.code, "title": e.title, "detail": e.detail, "source": map[string]any{"pointer": e.pointer},
			"original_payload": e.payload}}
	})
}
