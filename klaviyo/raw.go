package klaviyo

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// RawRequest is a call to an endpoint that has no typed method yet.
type RawRequest struct {
	Method string     // GET, POST, PATCH or DELETE
	Path   string     // from the host root, e.g. "/api/accounts"
	Query  url.Values // optional
	Body   any        // JSON-encoded when not nil (a JSON:API document)
	// Endpoint is the operation's rate-limit class; empty uses
	// [EndpointRaw] (tier M). Any endpoint of [DefaultLimits] may be named
	// to share its gate.
	Endpoint Endpoint
	// Idempotent marks a write that is safe to repeat, so it is retried
	// like a GET. Other writes are retried only when refused with a 429.
	Idempotent bool
}

// Do sends r through the client's credentials, revision, gates, retries
// and error handling, and decodes a JSON answer into out (nil to discard
// it). Errors are the same as the typed methods'.
func (c *Client) Do(ctx context.Context, r *RawRequest, out any) (*Response, error) {
	if r == nil {
		return nil, invalid("RawRequest", "", "nil")
	}
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete:
	default:
		return nil, invalid("Method", r.Method, "not GET, POST, PATCH or DELETE")
	}
	if !strings.HasPrefix(r.Path, "/") || strings.Contains(r.Path, "?") {
		return nil, invalid("Path", r.Path, "must start with / and carry no query")
	}
	ep := r.Endpoint
	if ep == "" {
		ep = EndpointRaw
	}
	if c.limits.get(ep) == nil && ep != EndpointRaw {
		if _, ok := DefaultLimits()[ep]; !ok {
			return nil, invalid("Endpoint", string(ep), "unknown endpoint")
		}
	}
	cl := &call{ep: ep, method: r.Method, path: r.Path, query: r.Query, body: r.Body, out: out, retry: transport.RetryIfRefused}
	if r.Method == http.MethodGet || r.Idempotent {
		cl.retry = transport.RetryIdempotent
	}
	return c.do(ctx, cl)
}
