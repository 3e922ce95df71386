package klaviyotest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// doc is a request document with one resource.
type doc struct {
	Data resourceIn `json:"data"`
}

type resourceIn struct {
	Type          string                     `json:"type"`
	ID            *string                    `json:"id"`
	Attributes    map[string]json.RawMessage `json:"attributes"`
	Meta          map[string]json.RawMessage `json:"meta"`
	Relationships map[string]struct {
		Data json.RawMessage `json:"data"`
	} `json:"relationships"`
}

func (r resourceIn) id() string {
	if r.ID == nil {
		return ""
	}
	return *r.ID
}

// decode reads a one-resource document of type typ, answering 400 itself
// when it cannot.
func decode(w http.ResponseWriter, body []byte, typ string) (resourceIn, bool) {
	var d doc
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		invalidAt(w, "/data", "The request body is not a valid JSON:API document: %v", err)
		return d.Data, false
	}
	if d.Data.Type != typ {
		invalidAt(w, "/data/type", "Expected type %q, got %q.", typ, d.Data.Type)
		return d.Data, false
	}
	if d.Data.Attributes == nil {
		invalidAt(w, "/data/attributes", "This field is required.")
		return d.Data, false
	}
	return d.Data, true
}

// str reads a string attribute; null and absent give "", with null
// reported.
func str(raw json.RawMessage) (s string, null bool, err error) {
	if string(raw) == "null" {
		return "", true, nil
	}
	err = json.Unmarshal(raw, &s)
	return s, false, err
}

func timeStr(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05+00:00")
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// baseURL is the address the client reached the server at, for links.
func baseURL(r *http.Request) string { return "http://" + r.Host }

// page answers one page of items (already filtered and sorted) as a
// collection, with links.next while more remain. The cursor is the offset,
// opaque to the client.
func page[T any](w http.ResponseWriter, r *http.Request, items []T, def, maxSize int, render func(T) any) {
	q := r.URL.Query()
	size := def
	if v := q.Get("page[size]"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSize {
			invalidParam(w, "page[size]", "page[size] must be between 1 and %d.", maxSize)
			return
		}
		size = n
	}
	off := 0
	if c := q.Get("page[cursor]"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "o:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(b), "o:") || n < 0 || n > len(items) {
			invalidParam(w, "page[cursor]", "Invalid page cursor.")
			return
		}
		off = n
	}
	end := min(off+size, len(items))
	data := make([]any, 0, end-off)
	for _, it := range items[off:end] {
		data = append(data, render(it))
	}
	links := map[string]any{"self": baseURL(r) + r.URL.RequestURI()}
	if end < len(items) {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("page[cursor]", base64.RawURLEncoding.EncodeToString([]byte("o:"+strconv.Itoa(end))))
		links["next"] = baseURL(r) + r.URL.Path + "?" + nq.Encode()
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": links})
}

// checkQuery refuses query parameters the fake does not model for an
// operation.
func checkQuery(w http.ResponseWriter, q url.Values, allowed ...string) bool {
	for k := range q {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
			}
		}
		if !ok {
			invalidParam(w, k, "The fake does not model the query parameter %q here.", k)
			return false
		}
	}
	return true
}

// additional reads additional-fields[profile]: subscriptions is modelled,
// predictive_analytics is refused.
func additional(w http.ResponseWriter, q url.Values) (subs, ok bool) {
	v := q.Get("additional-fields[profile]")
	if v == "" {
		return false, true
	}
	for _, f := range strings.Split(v, ",") {
		if f != "subscriptions" {
			invalidParam(w, "additional-fields[profile]", "The fake does not model %q.", f)
			return false, false
		}
	}
	return true, true
}

func fmtErr(format string, args ...any) error { return fmt.Errorf(format, args...) }
