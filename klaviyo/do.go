package klaviyo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// Response describes one answer of the API: every typed method that makes
// a single request returns it beside its result, and so does [Client.Do].
type Response struct {
	Status    int    // HTTP status
	RequestID string // the request id header, when Klaviyo sends one
	// RateLimit is the endpoint's steady window as the answer reported it.
	RateLimit RateLimitState
}

// call is one API call.
type call struct {
	ep     Endpoint
	method string
	path   string // from the host root, "/api/profiles"; or a full URL (links.next)
	query  url.Values
	body   any // JSON-encoded when not nil
	raw    []byte
	retry  transport.RetryClass
	out    any // decoded from a 2xx body when not nil
}

func (c *Client) url(cl *call) (string, error) {
	if strings.HasPrefix(cl.path, "http://") || strings.HasPrefix(cl.path, "https://") {
		// A links.next URL: only on the client's own host, so the
		// credential never travels elsewhere.
		u, err := url.Parse(cl.path)
		b, _ := url.Parse(c.base)
		if err != nil || b == nil || u.Scheme != b.Scheme || u.Host != b.Host {
			return "", &shopcrm.ResponseError{Op: string(cl.ep), Reason: "links.next points at another host"}
		}
		return cl.path, nil
	}
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	return u, nil
}

func (c *Client) do(ctx context.Context, cl *call) (*Response, error) {
	h, err := c.authHeader(ctx)
	if err != nil {
		return nil, err
	}
	u, err := c.url(cl)
	if err != nil {
		return nil, err
	}
	body := cl.raw
	if cl.body != nil {
		if body, err = json.Marshal(cl.body); err != nil {
			return nil, fmt.Errorf("klaviyo: encode request: %w", err)
		}
	}
	if body != nil {
		h.Set("Content-Type", mediaType)
	}
	op := cl.method + " " + strings.SplitN(cl.path, "?", 2)[0]
	// The body is read before Do returns, so that one cut off or not JSON
	// is retried like a 5xx when the call is safe to repeat (a read, an
	// upsert, a keyed write).
	var b []byte
	read := transport.ReadObject(op, &b, emptyBody)
	handle := func(resp *http.Response) error {
		c.limits.observe(cl.ep, resp.Header)
		c.limits.succeeded(cl.ep)
		if cl.out == nil {
			return nil
		}
		return read(resp)
	}
	resp, err := c.tr.Do(ctx, &transport.Request{
		Method: cl.method, URL: u, Header: h, Body: body,
		Op: string(cl.ep), Retry: cl.retry, Gate: c.limits.get(cl.ep), Handle: handle,
	})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	r := &Response{Status: resp.StatusCode, RequestID: resp.Header.Get(headerRequestID), RateLimit: rateLimitState(resp.Header)}
	if cl.out == nil {
		transport.Drain(resp.Body)
		return r, nil
	}
	if err := transport.DecodeObject(op, b, cl.out, emptyBody(r.Status)); err != nil {
		return r, err
	}
	return r, nil
}

// emptyBody reports whether an answer with status may come without a
// body: 202 and 204 may.
func emptyBody(status int) bool {
	return status == http.StatusAccepted || status == http.StatusNoContent
}

// maybeApplied reports whether err leaves a write's outcome unknown: see
// [transport.MaybeApplied]; a 5xx is a server error.
func maybeApplied(ctx context.Context, err error) bool {
	return transport.MaybeApplied(ctx, err, func(err error) bool {
		var ae *APIError
		return errors.As(err, &ae) && ae.Status >= 500
	})
}
