package klaviyo

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
	"strconv"
	"time"

	"github.com/shopcrm/shopcrm/internal/pager"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// The JSON:API documents on the wire. Public types are built from these and
// never expose them.

// resource is a JSON:API resource object with attributes A.
type resource[A any] struct {
	Type          string                  `json:"type"`
	ID            string                  `json:"id,omitempty"`
	Attributes    A                       `json:"attributes"`
	Relationships map[string]relationship `json:"relationships,omitempty"`
	Meta          map[string]any          `json:"meta,omitempty"`
}

// ref is a resource identifier.
type ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// relationship holds one identifier or several; the wire shape decides.
type relationship struct {
	Data json.RawMessage `json:"data"`
}

func relOne(typ, id string) relationship {
	b, _ := json.Marshal(ref{typ, id})
	return relationship{Data: b}
}

func relMany(typ string, ids ...string) relationship {
	refs := make([]ref, len(ids))
	for i, id := range ids {
		refs[i] = ref{typ, id}
	}
	b, _ := json.Marshal(refs)
	return relationship{Data: b}
}

// ids returns the identifiers of a relationship, one or many.
func (r relationship) ids() []string {
	var many []ref
	if json.Unmarshal(r.Data, &many) == nil {
		out := make([]string, len(many))
		for i, x := range many {
			out[i] = x.ID
		}
		return out
	}
	var one ref
	if json.Unmarshal(r.Data, &one) == nil && one.ID != "" {
		return []string{one.ID}
	}
	return nil
}

type document[T any] struct {
	Data T `json:"data"`
}

type collection[T any] struct {
	Data  []T `json:"data"`
	Links struct {
		Next string `json:"next"`
	} `json:"links"`
}

// jtime reads Klaviyo's date-times (RFC 3339, with or without a zone) and
// null.
type jtime struct{ time.Time }

func (t *jtime) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil || s == nil || *s == "" {
		return err
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if v, err := time.Parse(layout, *s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return &time.ParseError{Layout: time.RFC3339, Value: *s, Message: ": not a date-time"}
}

func (t jtime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339))
}

// formatTime writes a time the way Klaviyo's examples do, in UTC to the
// second.
func formatTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// pages returns an iterator over every item of a paginated GET, following
// links.next until it is absent; convert turns each wire item into the
// public type.
func pages[W, T any](c *Client, ctx context.Context, ep Endpoint, path string, q url.Values, convert func(W) T) iter.Seq2[T, error] {
	q = cloneValues(q)
	fetch := func(ctx context.Context, _ struct{}, cursor string) ([]T, string, bool, error) {
		cl := &call{ep: ep, method: "GET", path: path, query: q, retry: transport.RetryIdempotent}
		if cursor != "" {
			cl.path, cl.query = cursor, nil
		}
		var page collection[W]
		cl.out = &page
		if _, err := c.do(ctx, cl); err != nil {
			return nil, "", false, err
		}
		out := make([]T, len(page.Data))
		for i, w := range page.Data {
			out[i] = convert(w)
		}
		return out, page.Links.Next, page.Links.Next != "", nil
	}
	return pager.Seq(ctx, struct{}{}, fetch)
}

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// pageSize sets page[size] after checking it against the endpoint's range
// (0 keeps Klaviyo's default).
func pageSize(q url.Values, n, maxN int) error {
	if n == 0 {
		return nil
	}
	if n < 1 || n > maxN {
		return invalid("PageSize", strconv.Itoa(n), "must be between 1 and %d", maxN)
	}
	q.Set("page[size]", strconv.Itoa(n))
	return nil
}

// failSeq is an iterator yielding err alone.
func failSeq[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}
