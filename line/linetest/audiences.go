package linetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/internal/fake"
	"github.com/shopcrm/shopcrm/line"
)

// Audience jobs. An upload (a create with ids, an add, JSON or file) is a
// job: QUEUED, then WORKING, then FINISHED (or FAILED), moved by reads of its
// group (WithProgressPolls per state) or by the server's clock (half of
// WithAudienceJobDuration per state), whichever is first. Its ids join the
// group's members when it finishes, so a narrowcast reaches only users of
// finished jobs. A group is IN_PROGRESS until the job of its creation
// finished (READY) or failed (FAILED).

// DefaultAudienceJobs is how many upload jobs may be QUEUED or WORKING at
// once for one audience before LINE answers 429. LINE documents a limit on
// concurrent operations per audience; the copies of its reference read
// here lack the number, and 10 is the figure a published review of that
// reference gives, hence overridable with WithAudienceJobs.
const DefaultAudienceJobs = 10

// DefaultAudienceJobDuration is how long an upload job takes by the
// server's clock when its group is not read (LINE does not document it).
const DefaultAudienceJobDuration = time.Minute

// maxListedJobs is how many jobs LINE lists with an audience group.
const maxListedJobs = 50

// msgAudienceConcurrency is the 429 message for an upload to an audience
// with too many jobs in progress. LINE's wording is not documented.
const msgAudienceConcurrency = "The number of concurrent operations on this audience has exceeded the limit."

// WithAudienceJobs sets how many upload jobs may be QUEUED or WORKING at
// once for one audience (default [DefaultAudienceJobs]); another upload is
// answered 429. n ≤ 0 removes the limit.
func WithAudienceJobs(n int) Option { return func(c *config) { c.audienceJobs = max(n, 0) } }

// WithAudienceJobDuration sets how long an upload job takes by the
// server's clock (default [DefaultAudienceJobDuration]): QUEUED for the
// first half, WORKING for the second. d ≤ 0 leaves jobs to reads alone.
func WithAudienceJobDuration(d time.Duration) Option {
	return func(c *config) { c.jobDuration = max(d, 0) }
}

type audience struct {
	group   line.AudienceGroup
	created time.Time
	polls   int             // reads of the group
	members map[string]bool // users of finished jobs
	jobs    []*job
}

type job struct {
	line.AudienceJob
	ids     []string
	created time.Time
	polls   int
	fail    string // failed type it ends with, when scripted
}

// FailNextAudienceJob makes the next upload job (a create with ids or an
// add) end FAILED with failedType (INTERNAL_ERROR or
// AUDIENCE_GROUP_AUDIENCE_INSUFFICIENT); a failed creation fails its group.
func (s *Server) FailNextAudienceJob(failedType string) {
	s.mu.Lock()
	s.jobFail = append(s.jobFail, failedType)
	s.mu.Unlock()
}

// stage is how far something started at created and read polls times has
// gone: 0 queued (or waiting), 1 working (or sending), 2 done.
func (s *Server) stage(created time.Time, polls int) int {
	st := 2
	if p := s.cfg.polls; p > 0 {
		st = min(max(polls-1, 0)/p, 2)
	}
	if d := s.cfg.jobDuration; d > 0 && st < 2 {
		st = max(st, min(int(2*s.now().Sub(created)/d), 2))
	}
	return st
}

// refresh moves the jobs and the group on to where reads and the clock
// have taken them.
func (s *Server) refresh(a *audience) {
	for _, j := range a.jobs {
		if j.JobStatus == line.JobFinished || j.JobStatus == line.JobFailed {
			continue
		}
		switch s.stage(j.created, j.polls) {
		case 0:
			j.JobStatus = line.JobQueued
		case 1:
			j.JobStatus = line.JobWorking
		default:
			if j.fail != "" {
				j.JobStatus, j.FailedType = line.JobFailed, j.fail
				continue
			}
			j.JobStatus = line.JobFinished
			for _, id := range j.ids {
				a.members[id] = true
			}
		}
	}
	if a.group.Status == line.AudienceInProgress {
		switch {
		case len(a.jobs) > 0 && a.jobs[0].JobStatus == line.JobFinished:
			a.group.Status = line.AudienceReady
		case len(a.jobs) > 0 && a.jobs[0].JobStatus == line.JobFailed:
			a.group.Status, a.group.FailedType = line.AudienceFailed, a.jobs[0].FailedType
		case len(a.jobs) == 0 && s.stage(a.created, a.polls) == 2:
			a.group.Status = line.AudienceReady
		}
	}
	a.group.AudienceCount = int64(len(a.members))
}

// running counts the jobs QUEUED or WORKING.
func (a *audience) running() int {
	n := 0
	for _, j := range a.jobs {
		if j.JobStatus == line.JobQueued || j.JobStatus == line.JobWorking {
			n++
		}
	}
	return n
}

// upload starts a job adding ids to a, or answers 429 when a has as many
// jobs in progress as allowed; it reports whether the job started.
func (s *Server) upload(w http.ResponseWriter, a *audience, ids []string) bool {
	s.refresh(a)
	if n := s.cfg.audienceJobs; n > 0 && a.running() >= n {
		s.base.Throttled(string(line.EndpointAudience))
		writeError(w, http.StatusTooManyRequests, msgAudienceConcurrency)
		return false
	}
	s.startJob(a, ids)
	return true
}

// startJob starts a job adding ids to a.
func (s *Server) startJob(a *audience, ids []string) {
	now := s.now()
	j := &job{AudienceJob: line.AudienceJob{AudienceGroupJobID: s.nextSeq(), AudienceGroupID: a.group.AudienceGroupID,
		Type: "DIFF_ADD", JobStatus: line.JobQueued, AudienceCount: int64(len(ids)), Created: now.Truncate(time.Second)},
		ids: ids, created: now}
	if len(s.jobFail) > 0 {
		j.fail, s.jobFail = s.jobFail[0], s.jobFail[1:]
	}
	a.jobs = append(a.jobs, j)
}

func notFoundAudience(w http.ResponseWriter) {
	writeError(w, http.StatusBadRequest, "audience group not found", errorDetail{Message: "AUDIENCE_GROUP_NOT_FOUND"})
}

// invalidAudienceID answers the first id of an upload that is not a user id
// and reports whether there was one. IFA audiences are not checked.
func invalidAudienceID(w http.ResponseWriter, ids []string, ifa bool, prop func(i int) string) bool {
	if ifa {
		return false
	}
	for i, id := range ids {
		if !line.ValidUserID(id) {
			invalidProperty(w, prop(i))
			return true
		}
	}
	return false
}

func audienceProp(i int) string { return fmt.Sprintf("audiences[%d].id", i) }

func fileProp(int) string { return "file" }

type audienceIDs []struct {
	ID string `json:"id"`
}

func (a audienceIDs) ids() []string {
	out := make([]string, len(a))
	for i, x := range a {
		out[i] = x.ID
	}
	return out
}

func (s *Server) audienceRoute(w http.ResponseWriter, r *http.Request, body []byte) {
	p := strings.TrimPrefix(r.URL.Path, "/v2/bot/audienceGroup/")
	switch {
	case p == "upload" && r.Method == http.MethodPost:
		var req struct {
			Description       string      `json:"description"`
			UploadDescription string      `json:"uploadDescription"`
			IsIfaAudience     bool        `json:"isIfaAudience"`
			Audiences         audienceIDs `json:"audiences"`
		}
		if json.Unmarshal(body, &req) != nil {
			writeError(w, http.StatusBadRequest, "The request body is not valid JSON")
			return
		}
		s.createAudience(w, req.Description, req.Audiences.ids(), req.IsIfaAudience, 10000, audienceProp)
	case p == "upload" && r.Method == http.MethodPut:
		var req struct {
			AudienceGroupID int64       `json:"audienceGroupId"`
			Audiences       audienceIDs `json:"audiences"`
		}
		if json.Unmarshal(body, &req) != nil {
			writeError(w, http.StatusBadRequest, "The request body is not valid JSON")
			return
		}
		if len(req.Audiences) > 10000 {
			badBody(w, errorDetail{"Size must be between 0 and 10000", "audiences"})
			return
		}
		s.addToAudience(w, req.AudienceGroupID, req.Audiences.ids(), audienceProp)
	case p == "upload/byFile" && (r.Method == http.MethodPost || r.Method == http.MethodPut):
		s.audienceFile(w, r, body)
	case p == "list" && r.Method == http.MethodGet:
		s.listAudiences(w, r)
	case strings.HasSuffix(p, "/updateDescription") && r.Method == http.MethodPut:
		id, _ := strconv.ParseInt(strings.TrimSuffix(p, "/updateDescription"), 10, 64)
		a, ok := s.audiences[id]
		if !ok {
			notFoundAudience(w)
			return
		}
		var req struct {
			Description string `json:"description"`
		}
		if json.Unmarshal(body, &req) != nil || req.Description == "" || len([]rune(req.Description)) > 120 {
			badBody(w, errorDetail{"Length must be between 1 and 120", "description"})
			return
		}
		if s.descriptionTaken(w, req.Description, id) {
			return
		}
		a.group.Description = req.Description
		fake.WriteJSON(w, 200, map[string]any{})
	default:
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			writeError(w, http.StatusNotFound, "Not found")
			return
		}
		a, ok := s.audiences[id]
		if !ok {
			notFoundAudience(w)
			return
		}
		switch r.Method {
		case http.MethodGet:
			a.polls++
			for _, j := range a.jobs {
				j.polls++
			}
			s.refresh(a)
			jobs := make([]line.AudienceJob, 0, len(a.jobs))
			for _, j := range a.jobs[max(0, len(a.jobs)-maxListedJobs):] {
				jobs = append(jobs, j.AudienceJob)
			}
			fake.WriteJSON(w, 200, map[string]any{"audienceGroup": a.group, "jobs": jobs})
		case http.MethodDelete:
			delete(s.audiences, id)
			fake.WriteJSON(w, 200, map[string]any{})
		default:
			writeError(w, http.StatusMethodNotAllowed, "Method not allowed")
		}
	}
}

// descriptionTaken answers 400 when another group than except has the
// description: LINE compares names case-insensitively ("AUDIENCE and
// audience are considered identical", manage-audience.yml), on creation
// and on renaming alike.
func (s *Server) descriptionTaken(w http.ResponseWriter, description string, except int64) bool {
	for id, a := range s.audiences {
		if id != except && strings.EqualFold(a.group.Description, description) {
			writeError(w, http.StatusBadRequest, "An audience group with the same description already exists")
			return true
		}
	}
	return false
}

func (s *Server) createAudience(w http.ResponseWriter, description string, ids []string, ifa bool, maxIDs int, prop func(int) string) {
	if description == "" || len([]rune(description)) > 120 {
		badBody(w, errorDetail{"Length must be between 1 and 120", "description"})
		return
	}
	if len(ids) > maxIDs {
		badBody(w, errorDetail{fmt.Sprintf("Size must be between 0 and %d", maxIDs), "audiences"})
		return
	}
	if invalidAudienceID(w, ids, ifa, prop) {
		return
	}
	if s.descriptionTaken(w, description, 0) {
		return
	}
	id := s.nextSeq()
	now := s.now()
	a := &audience{members: map[string]bool{}, created: now, group: line.AudienceGroup{AudienceGroupID: id, Type: "UPLOAD",
		Description: description, Status: line.AudienceInProgress, Created: now.Truncate(time.Second), IsIfaAudience: ifa,
		Permission: "READ_WRITE", CreateRoute: "MESSAGING_API"}}
	if len(ids) > 0 {
		s.startJob(a, ids)
	}
	s.audiences[id] = a
	created := now.Unix()
	fake.WriteJSON(w, http.StatusAccepted, map[string]any{"audienceGroupId": id, "createRoute": "MESSAGING_API", "type": "UPLOAD",
		"description": description, "created": created, "permission": "READ_WRITE", "expireTimestamp": created + 180*24*3600, "isIfaAudience": ifa})
}

// addToAudience starts a job adding ids to the group id.
func (s *Server) addToAudience(w http.ResponseWriter, id int64, ids []string, prop func(int) string) {
	a, ok := s.audiences[id]
	if !ok {
		notFoundAudience(w)
		return
	}
	if invalidAudienceID(w, ids, a.group.IsIfaAudience, prop) || !s.upload(w, a, ids) {
		return
	}
	fake.WriteJSON(w, http.StatusAccepted, map[string]any{})
}

func (s *Server) audienceFile(w http.ResponseWriter, r *http.Request, body []byte) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be multipart/form-data")
		return
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	fields := map[string]string{}
	var ids []string
	files := 0
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(part)
		if part.FormName() != "file" {
			fields[part.FormName()] = buf.String()
			continue
		}
		files++
		if ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct != "text/plain" {
			badBody(w, errorDetail{"The file part must be text/plain", "file"})
			return
		}
		for _, l := range strings.Split(buf.String(), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				ids = append(ids, l)
			}
		}
	}
	if files != 1 {
		badBody(w, errorDetail{"Exactly one file is required", "file"})
		return
	}
	if len(ids) > 1_500_000 {
		badBody(w, errorDetail{"At most 1500000 ids", "file"})
		return
	}
	if r.Method == http.MethodPost {
		s.createAudience(w, fields["description"], ids, fields["isIfaAudience"] == "true", 1_500_000, fileProp)
		return
	}
	id, err := strconv.ParseInt(fields["audienceGroupId"], 10, 64)
	if err != nil {
		badBody(w, errorDetail{"Must be a number", "audienceGroupId"})
		return
	}
	s.addToAudience(w, id, ids, fileProp)
}

// audienceStatuses are the values of AudienceGroupStatus
// (manage-audience.yml).
var audienceStatuses = map[string]bool{"IN_PROGRESS": true, "READY": true, "FAILED": true, "EXPIRED": true, "INACTIVE": true, "ACTIVATING": true}

func (s *Server) listAudiences(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "page", "size", "description", "status":
		default:
			// includesExternalPublicGroups and createRoute are LINE's too,
			// but every group here is the channel's own, made by the API:
			// answering as if they matched would hide a wrong filter.
			writeError(w, http.StatusBadRequest, "linetest does not model the query parameter "+k, errorDetail{"not modelled", k})
			return
		}
	}
	if st := q.Get("status"); st != "" && !audienceStatuses[st] {
		writeError(w, http.StatusBadRequest, "Invalid status", errorDetail{"Must be one of the following values: [IN_PROGRESS, READY, FAILED, EXPIRED, INACTIVE, ACTIVATING]", "status"})
		return
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		writeError(w, http.StatusBadRequest, "Invalid page", errorDetail{"Must be greater than or equal to 1", "page"})
		return
	}
	size := 20
	if v := q.Get("size"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > 40 {
			writeError(w, http.StatusBadRequest, "Invalid size", errorDetail{"Must be between 1 and 40", "size"})
			return
		}
	}
	var all []line.AudienceGroup
	for _, a := range s.audiences {
		s.refresh(a)
		g := a.group
		if d := q.Get("description"); d != "" && !strings.Contains(strings.ToLower(g.Description), strings.ToLower(d)) {
			continue
		}
		if st := q.Get("status"); st != "" && string(g.Status) != st {
			continue
		}
		all = append(all, g)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].AudienceGroupID < all[j].AudienceGroupID })
	lo := min((page-1)*size, len(all))
	hi := min(lo+size, len(all))
	fake.WriteJSON(w, 200, map[string]any{"audienceGroups": append([]line.AudienceGroup{}, all[lo:hi]...), "hasNextPage": hi < len(all),
		"totalCount": len(all), "readWriteAudienceGroupTotalCount": len(all), "page": page, "size": size})
}
