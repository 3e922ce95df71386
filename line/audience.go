package line

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/pager"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// Audience limits.
const (
	MaxAudienceIDsPerCall  = 10000     // user ids per JSON create or add call
	MaxAudienceIDsPerFile  = 1_500_000 // user ids per file upload
	MaxAudienceDescription = 120       // characters of a description
)

const audiencePageSize = 40 // the largest page LINE serves

// AudienceStatus is the state of an audience group.
type AudienceStatus string

// Audience group states.
const (
	AudienceInProgress AudienceStatus = "IN_PROGRESS"
	AudienceReady      AudienceStatus = "READY"
	AudienceFailed     AudienceStatus = "FAILED"
	AudienceExpired    AudienceStatus = "EXPIRED"
	AudienceInactive   AudienceStatus = "INACTIVE"
	AudienceActivating AudienceStatus = "ACTIVATING"
)

// AudienceJobStatus is the state of an audience upload job.
type AudienceJobStatus string

// Audience job states.
const (
	JobQueued   AudienceJobStatus = "QUEUED"
	JobWorking  AudienceJobStatus = "WORKING"
	JobFinished AudienceJobStatus = "FINISHED"
	JobFailed   AudienceJobStatus = "FAILED"
)

// AudienceGroup describes an audience group.
type AudienceGroup struct {
	AudienceGroupID int64
	Type            string // UPLOAD, CLICK, IMP, ...
	Description     string
	Status          AudienceStatus
	FailedType      string // why it failed, when Status is AudienceFailed
	AudienceCount   int64
	Created         time.Time
	IsIfaAudience   bool
	Permission      string // READ or READ_WRITE
	CreateRoute     string // OA_MANAGER, MESSAGING_API, ...
}

// wireAudienceGroup is LINE's JSON form: Created in unix seconds.
type wireAudienceGroup struct {
	AudienceGroupID int64          `json:"audienceGroupId"`
	Type            string         `json:"type,omitempty"`
	Description     string         `json:"description,omitempty"`
	Status          AudienceStatus `json:"status,omitempty"`
	FailedType      string         `json:"failedType,omitempty"`
	AudienceCount   int64          `json:"audienceCount,omitempty"`
	Created         int64          `json:"created,omitempty"`
	IsIfaAudience   bool           `json:"isIfaAudience,omitempty"`
	Permission      string         `json:"permission,omitempty"`
	CreateRoute     string         `json:"createRoute,omitempty"`
}

// MarshalJSON encodes the group in LINE's form.
func (g AudienceGroup) MarshalJSON() ([]byte, error) {
	return json.Marshal(g.wire())
}

func (g AudienceGroup) wire() wireAudienceGroup {
	return wireAudienceGroup{g.AudienceGroupID, g.Type, g.Description, g.Status, g.FailedType, g.AudienceCount, unixSeconds(g.Created), g.IsIfaAudience, g.Permission, g.CreateRoute}
}

// UnmarshalJSON decodes LINE's form.
func (g *AudienceGroup) UnmarshalJSON(b []byte) error {
	var w wireAudienceGroup
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*g = AudienceGroup{w.AudienceGroupID, w.Type, w.Description, w.Status, w.FailedType, w.AudienceCount, fromUnix(w.Created), w.IsIfaAudience, w.Permission, w.CreateRoute}
	return nil
}

// AudienceJob is an upload job of an audience group.
type AudienceJob struct {
	AudienceGroupJobID int64
	AudienceGroupID    int64
	Description        string
	Type               string // DIFF_ADD
	JobStatus          AudienceJobStatus
	FailedType         string
	AudienceCount      int64
	Created            time.Time
}

type wireAudienceJob struct {
	AudienceGroupJobID int64             `json:"audienceGroupJobId"`
	AudienceGroupID    int64             `json:"audienceGroupId"`
	Description        string            `json:"description,omitempty"`
	Type               string            `json:"type,omitempty"`
	JobStatus          AudienceJobStatus `json:"jobStatus,omitempty"`
	FailedType         string            `json:"failedType,omitempty"`
	AudienceCount      int64             `json:"audienceCount,omitempty"`
	Created            int64             `json:"created,omitempty"`
}

// MarshalJSON encodes the job in LINE's form.
func (j AudienceJob) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireAudienceJob{j.AudienceGroupJobID, j.AudienceGroupID, j.Description, j.Type, j.JobStatus, j.FailedType, j.AudienceCount, unixSeconds(j.Created)})
}

// UnmarshalJSON decodes LINE's form.
func (j *AudienceJob) UnmarshalJSON(b []byte) error {
	var w wireAudienceJob
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*j = AudienceJob{w.AudienceGroupJobID, w.AudienceGroupID, w.Description, w.Type, w.JobStatus, w.FailedType, w.AudienceCount, fromUnix(w.Created)}
	return nil
}

func unixSeconds(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// AudienceDetail is an audience group with its jobs.
type AudienceDetail struct {
	AudienceGroup AudienceGroup `json:"audienceGroup"`
	Jobs          []AudienceJob `json:"jobs,omitempty"` // LINE lists at most 50
}

// Ready reports whether the group is READY and none of its upload jobs is
// QUEUED or WORKING: a narrowcast to it then reaches every user uploaded by
// a finished job.
func (d *AudienceDetail) Ready() bool {
	if d.AudienceGroup.Status != AudienceReady {
		return false
	}
	for _, j := range d.Jobs {
		if j.JobStatus == JobQueued || j.JobStatus == JobWorking {
			return false
		}
	}
	return true
}

// Err returns an *AudienceError when the group or one of its listed jobs
// failed, else nil.
func (d *AudienceDetail) Err() error {
	g := &d.AudienceGroup
	if g.Status == AudienceFailed {
		return &AudienceError{AudienceGroupID: g.AudienceGroupID, FailedType: g.FailedType}
	}
	for _, j := range d.Jobs {
		if j.JobStatus == JobFailed {
			return &AudienceError{AudienceGroupID: g.AudienceGroupID, JobID: j.AudienceGroupJobID, FailedType: j.FailedType}
		}
	}
	return nil
}

type audienceID struct {
	ID string `json:"id"`
}

func audienceIDs(ids []string) ([]audienceID, error) {
	if len(ids) > MaxAudienceIDsPerCall {
		return nil, invalid("UserIDs", "%d ids, at most %d per call (use AddToAudience for more)", len(ids), MaxAudienceIDsPerCall)
	}
	out := make([]audienceID, len(ids))
	for i, id := range ids {
		if id == "" {
			return nil, invalid(fmt.Sprintf("UserIDs[%d]", i), "empty")
		}
		out[i] = audienceID{id}
	}
	return out, nil
}

func checkDescription(field, d string, required bool) error {
	if d == "" && required {
		return invalid(field, "empty")
	}
	if n := utf8.RuneCountInString(d); n > MaxAudienceDescription {
		return invalid(field, "%d characters, at most %d", n, MaxAudienceDescription)
	}
	return nil
}

// AudiencesService manages audience groups, the recipients of
// narrowcasts. Audience writes share one gate (EndpointAudience) and reads
// another (EndpointAudienceRead), each at LINE's 60 requests a minute.
//
// Every upload (a Create with ids, each Add call, CreateFromFile,
// AddFromFile) is a job that LINE runs asynchronously: QUEUED, WORKING,
// then FINISHED or FAILED. Its users are in the audience only once it has
// finished, so wait with WaitReady before a narrowcast. LINE also limits how
// many jobs may run at once for one audience and answers more with 429
// (ErrRateLimited); an Add of many ids is better done with AddFromFile, one
// job for up to 1,500,000 ids, than with a long series of 10,000-id calls.
type AudiencesService struct{ c *Client }

// Create creates an audience group from at most 10,000 user ids (more can
// be added with Add). It is not retried: a lost answer could leave a
// second group behind.
func (s *AudiencesService) Create(ctx context.Context, description string, userIDs []string) (*AudienceGroup, *Response, error) {
	if err := checkDescription("description", description, true); err != nil {
		return nil, nil, err
	}
	ids, err := audienceIDs(userIDs)
	if err != nil {
		return nil, nil, err
	}
	var g AudienceGroup
	resp, err := s.c.do(ctx, &call{class: EndpointAudience, method: http.MethodPost, path: "/v2/bot/audienceGroup/upload",
		body: map[string]any{"description": description, "audiences": ids}, out: &g})
	if err != nil {
		return nil, resp, err
	}
	return &g, resp, nil
}

// Add adds user ids to an audience group, in calls of 10,000. Adding an
// id twice is harmless, so the calls are retried.
func (s *AudiencesService) Add(ctx context.Context, audienceGroupID int64, userIDs []string) error {
	if audienceGroupID <= 0 {
		return invalid("audienceGroupID", "must be positive")
	}
	if len(userIDs) == 0 {
		return invalid("UserIDs", "empty")
	}
	for lo := 0; lo < len(userIDs); lo += MaxAudienceIDsPerCall {
		ids, err := audienceIDs(userIDs[lo:min(lo+MaxAudienceIDsPerCall, len(userIDs))])
		if err != nil {
			return err
		}
		_, err = s.c.do(ctx, &call{class: EndpointAudience, method: http.MethodPut, path: "/v2/bot/audienceGroup/upload",
			body: map[string]any{"audienceGroupId": audienceGroupID, "audiences": ids}, retry: idempotent})
		if err != nil {
			return err
		}
	}
	return nil
}

// CreateFromFile creates an audience group from user ids read from r, one
// per line (at most 1,500,000). The file is streamed as a multipart part of
// type text/plain and the request is never retried.
func (s *AudiencesService) CreateFromFile(ctx context.Context, description string, r io.Reader) (*AudienceGroup, *Response, error) {
	if err := checkDescription("description", description, true); err != nil {
		return nil, nil, err
	}
	var g AudienceGroup
	resp, err := s.c.uploadFile(ctx, http.MethodPost, [][2]string{{"description", description}}, r, &g)
	if err != nil {
		return nil, resp, err
	}
	return &g, resp, nil
}

// AddFromFile adds user ids read from r, one per line (at most 1,500,000),
// to an audience group, streamed like CreateFromFile and never retried.
func (s *AudiencesService) AddFromFile(ctx context.Context, audienceGroupID int64, r io.Reader) (*Response, error) {
	if audienceGroupID <= 0 {
		return nil, invalid("audienceGroupID", "must be positive")
	}
	return s.c.uploadFile(ctx, http.MethodPut, [][2]string{{"audienceGroupId", strconv.FormatInt(audienceGroupID, 10)}}, r, nil)
}

func (c *Client) uploadFile(ctx context.Context, method string, fields [][2]string, r io.Reader, out any) (*Response, error) {
	if r == nil {
		return nil, invalid("r", "nil reader")
	}
	h, err := c.authHeader(ctx)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	h.Set("Content-Type", mw.FormDataContentType())
	go func() { pw.CloseWithError(writeAudienceForm(mw, fields, r)) }()
	// The HTTP transport waits for the body it is writing, and the body
	// waits for the caller's reader: end both when ctx ends, however long
	// that reader stalls. (The goroutine above stays blocked in r.Read
	// until the reader returns; it owns nothing else.)
	stop := context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })
	defer stop()
	resp, err := c.tr.DoStream(ctx, &transport.StreamRequest{
		Method: method,
		URL:    c.endpointURL(true, "/v2/bot/audienceGroup/upload/byFile", nil),
		Header: h,
		Body:   pr,
		Op:     string(EndpointAudience),
		Gate:   c.gates[EndpointAudience],
	})
	pr.Close()
	if err != nil {
		// The transport may report the closed body rather than the
		// context that closed it.
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w: %w", cerr, err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	meta := &Response{Status: resp.StatusCode, RequestID: resp.Header.Get(headerRequestID)}
	if out == nil {
		transport.Drain(resp.Body)
		return meta, nil
	}
	// Through the cap, and refused unless a JSON object: an empty or
	// null answer is no audience group.
	b, err := transport.ReadAll(resp, true)
	if err != nil {
		return meta, &shopcrm.ResponseError{Op: "audience upload", Reason: "reading the body", Err: err}
	}
	return meta, transport.DecodeObject("audience upload", b, out, false)
}

func writeAudienceForm(mw *multipart.Writer, fields [][2]string, r io.Reader) error {
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return err
		}
	}
	ph := textproto.MIMEHeader{}
	ph.Set("Content-Disposition", `form-data; name="file"; filename="audience.txt"`)
	ph.Set("Content-Type", "text/plain")
	w, err := mw.CreatePart(ph)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if n++; n > MaxAudienceIDsPerFile {
			return invalid("r", "more than %d ids", MaxAudienceIDsPerFile)
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
		if _, err := w.Write([]byte{'\n'}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return mw.Close()
}

// Get reads an audience group and its jobs. An unknown id is ErrNotFound.
func (s *AudiencesService) Get(ctx context.Context, audienceGroupID int64) (*AudienceDetail, *Response, error) {
	if audienceGroupID <= 0 {
		return nil, nil, invalid("audienceGroupID", "must be positive")
	}
	var d AudienceDetail
	resp, err := s.c.do(ctx, &call{class: EndpointAudienceRead, method: http.MethodGet,
		path: "/v2/bot/audienceGroup/" + strconv.FormatInt(audienceGroupID, 10), retry: idempotent, out: &d})
	if err != nil {
		return nil, resp, err
	}
	return &d, resp, nil
}

// AudienceFilter narrows List; zero fields are not sent.
type AudienceFilter struct {
	Description string // case-insensitive substring match
	Status      AudienceStatus
}

// List lists audience groups, fetching pages of 40 as the loop goes.
func (s *AudiencesService) List(ctx context.Context, f AudienceFilter) iter.Seq2[AudienceGroup, error] {
	return pager.From(ctx, f, 1, func(ctx context.Context, f AudienceFilter, page int) ([]AudienceGroup, int, bool, error) {
		switch f.Status {
		case "", AudienceInProgress, AudienceReady, AudienceFailed, AudienceExpired, AudienceInactive, AudienceActivating:
		default:
			return nil, 0, false, invalid("Status", "%q is not an audience group status", f.Status)
		}
		q := url.Values{"page": {strconv.Itoa(page)}, "size": {strconv.Itoa(audiencePageSize)}}
		if f.Description != "" {
			q.Set("description", f.Description)
		}
		if f.Status != "" {
			q.Set("status", string(f.Status))
		}
		var out struct {
			AudienceGroups []AudienceGroup `json:"audienceGroups"`
			HasNextPage    bool            `json:"hasNextPage"`
		}
		_, err := s.c.do(ctx, &call{class: EndpointAudienceRead, method: http.MethodGet, path: "/v2/bot/audienceGroup/list",
			query: q, retry: idempotent, out: &out})
		return out.AudienceGroups, page + 1, out.HasNextPage && len(out.AudienceGroups) > 0, err
	})
}

// Rename changes an audience group's description.
func (s *AudiencesService) Rename(ctx context.Context, audienceGroupID int64, description string) (*Response, error) {
	if audienceGroupID <= 0 {
		return nil, invalid("audienceGroupID", "must be positive")
	}
	if err := checkDescription("description", description, true); err != nil {
		return nil, err
	}
	return s.c.do(ctx, &call{class: EndpointAudience, method: http.MethodPut,
		path: "/v2/bot/audienceGroup/" + strconv.FormatInt(audienceGroupID, 10) + "/updateDescription",
		body: map[string]string{"description": description}, retry: idempotent})
}

// Delete deletes an audience group.
func (s *AudiencesService) Delete(ctx context.Context, audienceGroupID int64) (*Response, error) {
	if audienceGroupID <= 0 {
		return nil, invalid("audienceGroupID", "must be positive")
	}
	return s.c.do(ctx, &call{class: EndpointAudience, method: http.MethodDelete,
		path: "/v2/bot/audienceGroup/" + strconv.FormatInt(audienceGroupID, 10)})
}

// WaitReady polls every interval (1 s when ≤ 0, within LINE's 60 reads a
// minute) until the group is READY and none of its upload jobs is QUEUED or
// WORKING (see AudienceDetail.Ready), so that a narrowcast reaches every
// uploaded user. A FAILED group, or a FAILED job among those LINE lists (the
// last 50), returns the group as last read and an *AudienceError.
func (s *AudiencesService) WaitReady(ctx context.Context, audienceGroupID int64, interval time.Duration) (*AudienceGroup, error) {
	if interval <= 0 {
		interval = time.Second
	}
	for {
		d, _, err := s.Get(ctx, audienceGroupID)
		if err != nil {
			return nil, err
		}
		if err := d.Err(); err != nil {
			return &d.AudienceGroup, err
		}
		if d.Ready() {
			return &d.AudienceGroup, nil
		}
		if err := transport.Sleep(ctx, interval); err != nil {
			return &d.AudienceGroup, err
		}
	}
}

// Replacement is a new audience group standing in for an old one. Audiences
// are add-only, so removing users means creating a new group, switching the
// narrowcasts to it, then deleting the old one with Commit.
type Replacement struct {
	OldID, NewID int64
	New          *AudienceGroup
	s            *AudiencesService
}

// Replace creates a new group holding exactly userIDs (any number; created
// with the first 10,000 and completed with adds) and returns it with the
// old id. The old group is left untouched until Commit.
func (s *AudiencesService) Replace(ctx context.Context, oldID int64, description string, userIDs []string) (*Replacement, error) {
	if oldID <= 0 {
		return nil, invalid("oldID", "must be positive")
	}
	first := userIDs[:min(len(userIDs), MaxAudienceIDsPerCall)]
	g, _, err := s.Create(ctx, description, first)
	if err != nil {
		return nil, err
	}
	r := &Replacement{OldID: oldID, NewID: g.AudienceGroupID, New: g, s: s}
	if rest := userIDs[len(first):]; len(rest) > 0 {
		if err := s.Add(ctx, g.AudienceGroupID, rest); err != nil {
			return r, err
		}
	}
	return r, nil
}

// Commit deletes the old group, once the caller has switched to NewID. An
// old group already gone counts as deleted.
func (r *Replacement) Commit(ctx context.Context) error {
	_, err := r.s.Delete(ctx, r.OldID)
	if err != nil && isNotFound(err) {
		return nil
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
