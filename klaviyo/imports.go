package klaviyo

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/bulk"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// The limits of a bulk profile import job, from the spec.
const (
	MaxImportProfiles     = 10000
	MaxImportProfileBytes = 100 << 10
)

// ImportOptions shape a bulk profile import.
type ImportOptions struct {
	// ListID adds every imported profile to this list.
	ListID string
	// UpdateOnly never creates a profile: each input is looked up first
	// (by id, email, external id or phone number) and only the ones found
	// are imported, by id; the others fail with ErrProfileNotFound without
	// being sent. Property values that are nil are left out, and patches
	// that unset properties are refused, so that a property dropped from
	// the caller's configuration is left alone in Klaviyo, never removed.
	UpdateOnly bool
}

// ImportError is the error of one profile a bulk import job failed, as
// Klaviyo reported it.
type ImportError struct {
	Code    string
	Title   string
	Detail  string
	Pointer string
}

// Error describes the error.
func (e *ImportError) Error() string {
	s := "klaviyo: import failed: " + e.Code
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is matches ErrProfileNotFound for a profile the job could not find and
// ErrDuplicateProfile for identifiers naming two profiles.
func (e *ImportError) Is(target error) bool {
	return (target == ErrProfileNotFound && e.Code == "not_found") || (target == ErrDuplicateProfile && e.Code == "duplicate_profile")
}

// importItem is one prepared profile of an import.
type importItem struct {
	idx    int
	in     ProfileInput
	body   json.RawMessage
	append bool // patches arrays: not safe to send twice
}

// Import creates or updates profiles through bulk import jobs: at most
// 10,000 profiles and 5 MB per job, several jobs in flight, each polled
// until Klaviyo has processed it. It returns one result per profile, in
// input order: Applied once its job completed without an error for it,
// Failed with an *ImportError when the job reported one, and for a job
// Klaviyo cancelled an error matching ErrImportCancelled. Bulk imports
// ignore nulls, so ProfileInput.Clear is refused. The error is the one
// that stopped the run early, if any.
func (s *ProfilesService) Import(ctx context.Context, profiles []ProfileInput, opts ImportOptions) ([]ItemResult, error) {
	if opts.ListID != "" {
		if err := checkID("ImportOptions.ListID", opts.ListID); err != nil {
			return nil, err
		}
	}
	w := bulk.Writer[importItem]{
		Max:      bulk.Limits{Items: MaxImportProfiles, Weight: MaxPayloadBytes - envelopeBytes},
		Weight:   func(it importItem) int { return len(it.body) + 1 },
		InFlight: s.c.inFlight,
		Send: func(ctx context.Context, ch *bulk.Chunk[importItem]) error {
			return s.runJob(ctx, ch, opts.ListID)
		},
	}
	prepare := func(i int) (importItem, error) {
		it, err := prepareImport(fmt.Sprintf("profiles[%d]", i), profiles[i], opts.UpdateOnly)
		it.idx = i
		return it, err
	}
	if !opts.UpdateOnly {
		return runBulk(ctx, &w, len(profiles), prepare, func(it importItem) int { return it.idx })
	}
	out := make([]ItemResult, len(profiles))
	var ready []importItem
	for i := range profiles {
		out[i] = ItemResult{Index: i}
		it, err := prepare(i)
		if err != nil {
			out[i].Outcome, out[i].Err = Failed, err
			continue
		}
		ready = append(ready, it)
	}
	ready, err := s.existing(ctx, ready, out)
	if err != nil {
		return notSent(out, err), err
	}
	return runItems(ctx, &w, ready, func(it importItem) int { return it.idx }, out)
}

func prepareImport(field string, in ProfileInput, updateOnly bool) (importItem, error) {
	if err := needIdentifier(field, &in); err != nil {
		return importItem{}, err
	}
	if len(in.Clear) > 0 {
		return importItem{}, invalid(field+".Clear", "", "bulk imports ignore nulls; use Update to clear attributes")
	}
	if updateOnly {
		if in.Patch != nil && len(in.Patch.Unset) > 0 {
			return importItem{}, invalid(field+".Patch.Unset", strings.Join(in.Patch.Unset, ","), "an update-only import never removes properties")
		}
		props := map[string]any{}
		for k, v := range in.Properties {
			if v != nil {
				props[k] = v
			}
		}
		in.Properties = props
	}
	it := importItem{in: in, append: in.Patch.appends()}
	return it, it.encode(field)
}

func (it *importItem) encode(field string) error {
	attrs, err := it.in.attributes(field, false)
	if err != nil {
		return err
	}
	b, err := json.Marshal(resource[map[string]any]{Type: "profile", ID: it.in.ID, Attributes: attrs, Meta: it.in.meta()})
	if err != nil {
		return invalid(field+".Properties", "", "%v", err)
	}
	if len(b) > MaxImportProfileBytes {
		return invalid(field, it.in.describe(), "%d bytes encoded, at most %d per profile", len(b), MaxImportProfileBytes)
	}
	it.body = b
	return nil
}

// existing looks the items up and returns those that name a profile,
// each now carrying its id; the others get ErrProfileNotFound in out.
func (s *ProfilesService) existing(ctx context.Context, items []importItem, out []ItemResult) ([]importItem, error) {
	type key struct{ field, value string }
	keyOf := func(in ProfileInput) key {
		switch {
		case in.ID != "":
			return key{"id", in.ID}
		case in.Email != "":
			return key{"email", strings.ToLower(in.Email)}
		case in.ExternalID != "":
			return key{"external_id", in.ExternalID}
		}
		return key{"phone_number", in.PhoneNumber}
	}
	found := map[key]string{}
	byField := map[string][]string{}
	for _, it := range items {
		k := keyOf(it.in)
		byField[k.field] = append(byField[k.field], k.value)
	}
	for _, field := range []string{"id", "email", "external_id", "phone_number"} {
		vals := byField[field]
		for start := 0; start < len(vals); start += 100 {
			chunk := vals[start:min(start+100, len(vals))]
			for p, err := range s.List(ctx, ProfileListOptions{Filter: Filter{Any(field, chunk...)}, PageSize: 100}) {
				if err != nil {
					return nil, err
				}
				v := map[string]string{"id": p.ID, "email": strings.ToLower(p.Email), "external_id": p.ExternalID, "phone_number": p.PhoneNumber}[field]
				found[key{field, v}] = p.ID
			}
		}
	}
	var keep []importItem
	for _, it := range items {
		id, ok := found[keyOf(it.in)]
		if !ok {
			out[it.idx] = ItemResult{Index: it.idx, Outcome: Failed, Err: fmt.Errorf("%w: %s", ErrProfileNotFound, it.in.describe())}
			continue
		}
		it.in.ID = id
		if err := it.encode(fmt.Sprintf("profiles[%d]", it.idx)); err != nil {
			out[it.idx] = ItemResult{Index: it.idx, Outcome: Failed, Err: err}
			continue
		}
		keep = append(keep, it)
	}
	return keep, nil
}

// ImportJob is the state of a bulk profile import job.
type ImportJob struct {
	ID             string
	Status         string // queued, processing, complete or cancelled
	Total          int
	CompletedCount int
	FailedCount    int
	Created        time.Time
	Completed      time.Time
}

type jobWire struct {
	Status         string `json:"status"`
	TotalCount     int    `json:"total_count"`
	CompletedCount int    `json:"completed_count"`
	FailedCount    int    `json:"failed_count"`
	CreatedAt      jtime  `json:"created_at"`
	CompletedAt    jtime  `json:"completed_at"`
}

// runJob sends one chunk as a job, waits for it and records per-profile
// outcomes in the chunk.
func (s *ProfilesService) runJob(ctx context.Context, ch *bulk.Chunk[importItem], listID string) error {
	retry := transport.RetryIdempotent // an import is an upsert: sending it twice writes the same
	for _, it := range ch.Items {
		if it.append {
			retry = transport.RetryIfRefused
		}
	}
	tail := `]}}}}`
	if listID != "" {
		rel, _ := json.Marshal(map[string]relationship{"lists": relMany("list", listID)})
		tail = `]}},"relationships":` + string(rel) + `}}`
	}
	body := joinRaw(`{"data":{"type":"profile-bulk-import-job","attributes":{"profiles":{"data":[`, ch.Items,
		func(it importItem) []byte { return it.body }, tail)
	var doc document[resource[jobWire]]
	if _, err := s.c.do(ctx, &call{ep: EndpointImportProfiles, method: http.MethodPost, path: "/api/profile-bulk-import-jobs",
		raw: body, retry: retry, out: &doc}); err != nil {
		return err
	}
	// From here on the job was accepted and may import the profiles, so
	// whatever goes wrong leaves them Unknown (a 401 still stops the run).
	unknown := func(err error) error {
		for i := range ch.Results {
			if ch.Results[i].Err == nil {
				ch.Results[i] = bulk.ItemResult{Outcome: Unknown, Err: err}
			}
		}
		return nil
	}
	if doc.Data.ID == "" {
		return unknown(&shopcrm.ResponseError{Op: "POST /api/profile-bulk-import-jobs", Reason: "the job was accepted without an id to follow it by"})
	}
	job, err := s.WaitImportJob(ctx, doc.Data.ID)
	if err != nil {
		return unknown(err)
	}
	cancelled := job.Status == "cancelled"
	if job.FailedCount == 0 && !cancelled {
		return nil
	}
	mapped := 0
	if job.FailedCount > 0 {
		for e, err := range s.ImportErrors(ctx, job.ID) {
			if err != nil {
				return unknown(err)
			}
			if i, ok := profileIndex(e.Pointer); ok && i < len(ch.Results) && ch.Results[i].Err == nil {
				ch.Results[i] = bulk.ItemResult{Outcome: Failed, Err: e}
				mapped++
			}
		}
	}
	if cancelled {
		// Klaviyo does not say which profiles a cancelled job imported
		// before it stopped: once it had imported any, each profile
		// without an error of its own may have been.
		o := Failed
		if job.CompletedCount > 0 {
			o = Unknown
		}
		for i := range ch.Results {
			if ch.Results[i].Err == nil {
				ch.Results[i] = bulk.ItemResult{Outcome: o, Err: fmt.Errorf("%w: job %s", ErrImportCancelled, job.ID)}
			}
		}
		return nil
	}
	if mapped < job.FailedCount {
		// Klaviyo failed profiles it did not point at: the ones not
		// marked may or may not have been imported.
		for i := range ch.Results {
			if ch.Results[i].Err == nil {
				ch.Results[i] = bulk.ItemResult{Outcome: Unknown, Err: fmt.Errorf("klaviyo: import job %s failed %d profiles, %d of them unnamed", job.ID, job.FailedCount, job.FailedCount-mapped)}
			}
		}
	}
	return nil
}

// profileIndex reads i from "/data/attributes/profiles/data/i/...".
func profileIndex(pointer string) (int, bool) {
	rest, ok := strings.CutPrefix(pointer, "/data/attributes/profiles/data/")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.SplitN(rest, "/", 2)[0])
	return n, err == nil && n >= 0
}

// ImportJob reads a bulk import job's state.
func (s *ProfilesService) ImportJob(ctx context.Context, id string) (*ImportJob, *Response, error) {
	if err := checkID("id", id); err != nil {
		return nil, nil, err
	}
	var doc document[resource[jobWire]]
	r, err := s.c.do(ctx, &call{ep: EndpointGetImportJob, method: http.MethodGet, path: "/api/profile-bulk-import-jobs/" + url.PathEscape(id),
		retry: transport.RetryIdempotent, out: &doc})
	if err != nil {
		return nil, r, err
	}
	a := doc.Data.Attributes
	switch a.Status {
	case "queued", "processing", "complete", "cancelled":
	case "":
		// Not a job still running: a poll loop would wait on it forever.
		return nil, r, &shopcrm.ResponseError{Op: "GET /api/profile-bulk-import-jobs", Reason: "no job status in the answer"}
	default:
		// A status the revision does not list: neither running nor done,
		// so WaitImportJob could only poll it until the deadline.
		return nil, r, &shopcrm.ResponseError{Op: "GET /api/profile-bulk-import-jobs", Reason: fmt.Sprintf("unknown job status %q", a.Status)}
	}
	return &ImportJob{ID: doc.Data.ID, Status: a.Status, Total: a.TotalCount, CompletedCount: a.CompletedCount,
		FailedCount: a.FailedCount, Created: a.CreatedAt.Time, Completed: a.CompletedAt.Time}, r, nil
}

// WaitImportJob polls a job until it is complete or cancelled. Once the
// job reports progress, the next poll waits for the time the rest should
// take at the pace so far, so a long job is read a few times, not every
// interval; never sooner than the poll interval (WithPollInterval), at
// most a minute, and within the endpoint's rate limit.
func (s *ProfilesService) WaitImportJob(ctx context.Context, id string) (*ImportJob, error) {
	start := time.Now()
	for {
		job, _, err := s.ImportJob(ctx, id)
		if err != nil {
			return nil, err
		}
		if job.Status == "complete" || job.Status == "cancelled" {
			return job, nil
		}
		wait := s.c.pollMin
		if done := job.CompletedCount + job.FailedCount; done > 0 && done < job.Total {
			est := time.Duration(float64(time.Since(start)) * float64(job.Total-done) / float64(done))
			wait = min(max(wait, est), time.Minute)
		}
		if err := transport.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// ImportErrors returns the per-profile errors of a job.
func (s *ProfilesService) ImportErrors(ctx context.Context, jobID string) iter.Seq2[*ImportError, error] {
	if err := checkID("jobID", jobID); err != nil {
		return failSeq[*ImportError](err)
	}
	type wire struct {
		Code   string `json:"code"`
		Title  string `json:"title"`
		Detail string `json:"detail"`
		Source struct {
			Pointer string `json:"pointer"`
		} `json:"source"`
	}
	q := url.Values{"page[size]": {"100"}}
	return pages(s.c, ctx, EndpointGetImportErrors, "/api/profile-bulk-import-jobs/"+url.PathEscape(jobID)+"/import-errors", q,
		func(r resource[wire]) *ImportError {
			a := r.Attributes
			return &ImportError{Code: a.Code, Title: a.Title, Detail: a.Detail, Pointer: a.Source.Pointer}
		})
}
