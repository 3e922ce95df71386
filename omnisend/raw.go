package omnisend

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// RawRequest is a call to an endpoint of API version 2026-03-15 that has
// no typed method (products, segments, ...).
type RawRequest struct {
	Method string     // GET, POST, PUT, PATCH or DELETE
	Path   string     // below the base URL, e.g. "/products"
	Query  url.Values // optional
	Body   any        // JSON-encoded when not nil
	// Idempotent marks a write that is safe to repeat (a PUT of a whole
	// resource); GET requests are retried anyway, other writes only when
	// refused with a 429.
	Idempotent bool
	// Class is the endpoint's rate-limit class (default EndpointDefault).
	Class Endpoint
}

// Do sends r through the client's gates, retries and error handling, and
// decodes a JSON answer into out (nil to discard it). Errors are the same
// as the typed methods'.
func (c *Client) Do(ctx context.Context, r *RawRequest, out any) (*Response, error) {
	if r == nil {
		return nil, invalid("RawRequest", "nil")
	}
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return nil, &InputError{Field: "RawRequest.Method", Value: r.Method, Reason: "must be GET, POST, PUT, PATCH or DELETE"}
	}
	if !strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, "?#") {
		return nil, &InputError{Field: "RawRequest.Path", Value: r.Path, Reason: "must start with / and carry no query"}
	}
	class := r.Class
	if class == "" {
		class = EndpointDefault
	}
	if _, ok := c.gates[class]; !ok {
		return nil, &InputError{Field: "RawRequest.Class", Value: string(class), Reason: "unknown endpoint class"}
	}
	retry := transport.RetryIfRefused
	if r.Method == http.MethodGet || r.Idempotent {
		retry = transport.RetryIdempotent
	}
	return c.do(ctx, &call{class: class, op: r.Method + " " + r.Path, method: r.Method, path: r.Path, query: r.Query, body: r.Body, retry: retry, out: out})
}
