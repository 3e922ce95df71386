package line

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// RawRequest is a call to an endpoint that has no typed method yet.
type RawRequest struct {
	Method string     // GET, POST, PUT or DELETE
	Path   string     // from the root, e.g. "/v2/bot/info"
	Data   bool       // send to the api-data host instead of api
	Query  url.Values // optional
	Body   any        // JSON-encoded when not nil
	// RetryKey, when set, is sent as X-Line-Retry-Key and makes the call
	// safe to retry. GET requests are retried anyway; others without a key
	// are sent once. A key LINE already accepted is answered 409: Do
	// returns it as an *APIError with AcceptedRequestID set.
	RetryKey string
}

// Do sends r through the client's gates, retries and error handling, and
// decodes a JSON answer into out (nil to discard it). Errors are the same
// as the typed methods'.
func (c *Client) Do(ctx context.Context, r *RawRequest, out any) (*Response, error) {
	if r == nil {
		return nil, invalid("RawRequest", "nil")
	}
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete:
	default:
		return nil, invalid("Method", "%q is not GET, POST, PUT or DELETE", r.Method)
	}
	if !strings.HasPrefix(r.Path, "/") || strings.Contains(r.Path, "?") {
		return nil, invalid("Path", "%q must start with / and carry no query", r.Path)
	}
	cl := &call{class: EndpointOther, method: r.Method, data: r.Data, path: r.Path, query: r.Query, body: r.Body, out: out}
	switch {
	case r.RetryKey != "":
		if !ValidRetryKey(r.RetryKey) {
			return nil, invalid("RetryKey", "%q is not a hyphenated hex UUID", r.RetryKey)
		}
		cl.retry, cl.retryKey = transport.RetryKeyed, r.RetryKey
	case r.Method == http.MethodGet:
		cl.retry = idempotent
	}
	return c.do(ctx, cl)
}
