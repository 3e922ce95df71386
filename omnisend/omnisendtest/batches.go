package omnisendtest

import (
	"encoding/json"
	"fmt"
	"github.com/shopcrm/shopcrm/omnisend/internal/wire"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"time"

	"github.com/shopcrm/shopcrm/internal/fake"
)

type batchItem struct {
	ItemID       string          `json:"itemID"`
	Request      json.RawMessage `json:"request"`
	Response     any             `json:"response,omitempty"`
	ResponseCode int             `json:"responseCode"`
	Status       string          `json:"status"`
}

type batch struct {
	id, method, endpoint, origin string
	items                        []json.RawMessage
	reads                        int
	status                       string
	created, started, ended      time.Time
	results                      []batchItem
}

// createBatch serves POST /batches. Only POST batches of contacts and
// events are modelled; others are refused with a problem saying so.
func (s *Server) createBatch(w *httptest.ResponseRecorder, body []byte) {
	var in struct {
		Method   string            `json:"method"`
		Endpoint string            `json:"endpoint"`
		Origin   string            `json:"origin"`
		Items    []json.RawMessage `json:"items"`
	}
	if !decode(w, body, &in) {
		return
	}
	var errs []fieldError
	if in.Method != "POST" && in.Method != "PUT" {
		errs = append(errs, fieldError{"method", "invalid_value", "Must be POST or PUT"})
	}
	switch in.Endpoint {
	case "products", "contacts", "events", "categories":
	default:
		errs = append(errs, fieldError{"endpoint", "invalid_value", "Must be products, contacts, events or categories"})
	}
	if len(in.Items) < 1 || len(in.Items) > s.cfg.maxBatch {
		errs = append(errs, fieldError{"items", "invalid_length", fmt.Sprintf("Between 1 and %d items", s.cfg.maxBatch)})
	}
	if len(errs) > 0 {
		validation(w, "The batch is not valid", errs...)
		return
	}
	if in.Method != "POST" || (in.Endpoint != "contacts" && in.Endpoint != "events") {
		problem(w, http.StatusBadRequest, "omnisendtest models POST batches of contacts and events only")
		return
	}
	s.seq++
	b := &batch{id: fmt.Sprintf("%08x%016x", s.Now().Unix(), s.seq), method: in.Method, endpoint: in.Endpoint,
		origin: in.Origin, items: in.Items, status: "pending", created: s.Now().UTC()}
	s.batches[b.id] = b
	s.order = append(s.order, b.id)
	s.advance(b, false)
	fake.WriteJSON(w, http.StatusCreated, map[string]any{"batchID": b.id, "totalCount": len(b.items)})
}

// advance moves a batch on by one read: WithBatchPolls reads pending,
// as many in progress, then it is processed and finished.
func (s *Server) advance(b *batch, read bool) {
	if read {
		b.reads++
	}
	p := s.cfg.polls
	if b.status == "pending" && b.reads >= p {
		b.status, b.started = "inProgress", s.Now().UTC()
	}
	if b.status == "inProgress" && b.reads >= 2*p {
		s.process(b)
	}
}

// process runs a batch's items, each as its endpoint alone would, and
// finishes it.
func (s *Server) process(b *batch) {
	for i, raw := range b.items {
		it := batchItem{ItemID: fmt.Sprintf("%s-%d", b.id, i), Request: raw, Status: "finished"}
		switch b.endpoint {
		case "contacts":
			var in wire.ContactRequest
			if err := strictJSON(raw, &in); err != nil {
				it.ResponseCode, it.Response = 400, validationBody(err.Error(), fieldError{"body", "invalid_format", err.Error()})
			} else {
				it.ResponseCode, it.Response = s.upsert(&in)
			}
		case "events":
			var in wire.Event
			if err := strictJSON(raw, &in); err != nil {
				it.ResponseCode, it.Response = 400, validationBody(err.Error(), fieldError{"body", "invalid_format", err.Error()})
			} else if errs := s.record(&in); len(errs) > 0 {
				it.ResponseCode, it.Response = 400, validationBody("The event is not valid", errs...)
			} else {
				it.ResponseCode = 202
			}
		}
		b.results = append(b.results, it)
	}
	b.status, b.ended = "finished", s.Now().UTC()
}

func (b *batch) wire(items bool) map[string]any {
	errs := 0
	var ok, bad []batchItem
	for _, r := range b.results {
		if r.ResponseCode >= 400 {
			errs++
			bad = append(bad, r)
		} else {
			ok = append(ok, r)
		}
	}
	out := map[string]any{"batchID": b.id, "method": b.method, "endpoint": b.endpoint, "status": b.status,
		"totalCount": len(b.items), "finishedCount": len(b.results), "errorsCount": errs,
		"createdAt": b.created.Format(time.RFC3339)}
	if b.origin != "" {
		out["origin"] = b.origin
	}
	if !b.started.IsZero() {
		out["startedAt"] = b.started.Format(time.RFC3339)
	}
	if !b.ended.IsZero() {
		out["endedAt"] = b.ended.Format(time.RFC3339)
	}
	if items {
		out["responses"], out["errors"] = nonNil(ok), nonNil(bad)
	}
	return out
}

func nonNil(s []batchItem) []batchItem {
	if s == nil {
		return []batchItem{}
	}
	return s
}

func (s *Server) getBatch(w *httptest.ResponseRecorder, id string, items bool) {
	b := s.batches[id]
	if b == nil {
		problem(w, http.StatusNotFound, "Batch not found")
		return
	}
	s.advance(b, true)
	s.writeLater(w, http.StatusOK, b.wire(items))
}

// listBatches serves GET /batches, newest first, by offset.
func (s *Server) listBatches(w *httptest.ResponseRecorder, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "endpoint", "status", "offset", "limit", "dateFrom", "dateTo":
		default:
			validation(w, "Unknown parameter "+k, fieldError{k, "unknown", "unknown parameter"})
			return
		}
	}
	ep := q.Get("endpoint")
	if ep != "products" && ep != "contacts" && ep != "events" {
		validation(w, "endpoint is required", fieldError{"endpoint", "required", "products, contacts or events"})
		return
	}
	offset, err1 := strconv.Atoi(orDefault(q.Get("offset"), "0"))
	limit, err2 := strconv.Atoi(orDefault(q.Get("limit"), "100"))
	if err1 != nil || err2 != nil || offset < 0 || limit < 1 || limit > 250 {
		validation(w, "offset or limit out of range", fieldError{"limit", "invalid_value", "offset ≥ 0, limit 1 to 250"})
		return
	}
	switch st := q.Get("status"); st {
	case "", "pending", "inProgress", "finished", "stopped":
	default:
		validation(w, "status is not valid", fieldError{"status", "invalid_value", "pending, inProgress, finished or stopped"})
		return
	}
	// dateFrom and dateTo are dates (yyyy-mm-dd, SPEC batches), read as
	// UTC days, both inclusive: the fake's reading.
	var from, to time.Time
	for _, d := range []struct {
		k string
		t *time.Time
	}{{"dateFrom", &from}, {"dateTo", &to}} {
		if v := q.Get(d.k); v != "" {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				validation(w, d.k+" must be yyyy-mm-dd", fieldError{d.k, "invalid_format", "must be yyyy-mm-dd"})
				return
			}
			*d.t = t
		}
	}
	var match []*batch
	for i := len(s.order) - 1; i >= 0; i-- {
		b := s.batches[s.order[i]]
		if b.endpoint != ep || (q.Get("status") != "" && b.status != q.Get("status")) ||
			(!from.IsZero() && b.created.Before(from)) || (!to.IsZero() && !b.created.Before(to.AddDate(0, 0, 1))) {
			continue
		}
		match = append(match, b)
	}
	page := match[min(offset, len(match)):min(offset+limit, len(match))]
	out := make([]map[string]any, len(page))
	for i, b := range page {
		out[i] = b.wire(false)
	}
	paging := map[string]any{"limit": limit, "offset": offset}
	next := url.Values{"endpoint": {ep}, "limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset + limit)}}
	if offset+limit < len(match) {
		paging["next"] = "/api/batches?" + next.Encode()
	}
	fake.WriteJSON(w, http.StatusOK, map[string]any{"batches": out, "paging": paging})
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func strictJSON(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytesReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
