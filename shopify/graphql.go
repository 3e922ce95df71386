package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math"
	"net/http"
	"slices"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/pager"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// Response describes one GraphQL call: what it cost and who answered.
type Response struct {
	Cost       Cost
	RequestID  string // X-Request-Id
	APIVersion string // X-Shopify-API-Version: the version that answered
}

// Cost is a response's extensions.cost.
type Cost struct {
	// RequestedQueryCost is the estimate charged before execution.
	RequestedQueryCost int
	// ActualQueryCost is what the call really cost (the difference is
	// refunded); -1 when the server sent null, as for THROTTLED.
	ActualQueryCost int
	ThrottleStatus  ThrottleStatus
}

// ThrottleStatus is the state of the shop's cost bucket after a call.
type ThrottleStatus struct {
	MaximumAvailable   float64
	CurrentlyAvailable float64
	RestoreRate        float64 // points per second
}

type wireCost struct {
	RequestedQueryCost *float64 `json:"requestedQueryCost"`
	ActualQueryCost    *float64 `json:"actualQueryCost"`
	ThrottleStatus     *struct {
		MaximumAvailable   float64 `json:"maximumAvailable"`
		CurrentlyAvailable float64 `json:"currentlyAvailable"`
		RestoreRate        float64 `json:"restoreRate"`
	} `json:"throttleStatus"`
}

type envelope struct {
	Data       json.RawMessage `json:"data"`
	Errors     []*GraphQLError `json:"errors"`
	Extensions struct {
		Cost *wireCost `json:"cost"`
	} `json:"extensions"`
}

func (w *wireCost) cost() Cost {
	c := Cost{ActualQueryCost: -1}
	if w == nil {
		return c
	}
	if w.RequestedQueryCost != nil {
		c.RequestedQueryCost = costInt(*w.RequestedQueryCost)
	}
	if w.ActualQueryCost != nil {
		c.ActualQueryCost = costInt(*w.ActualQueryCost)
	}
	if t := w.ThrottleStatus; t != nil {
		c.ThrottleStatus = ThrottleStatus{t.MaximumAvailable, t.CurrentlyAvailable, t.RestoreRate}
	}
	return c
}

// costInt reads a cost the server sent as a JSON number: converting a
// float beyond the int range is undefined, so it saturates, and a negative
// cost is none.
func costInt(f float64) int {
	return int(max(0, min(f, math.MaxInt32)))
}

// Do sends any GraphQL document with its variables and decodes the
// response's data into out (a pointer, or nil to discard it). Top-level
// errors[] come back as a *GraphQLErrors (data, when partial, is still
// decoded). The returned Response carries the call's cost even on error,
// when the server sent one.
//
// Do treats the document as a query: it is retried on network errors, 5xx
// and throttling. For a mutation that is not idempotent use [Client.Mutate].
func (c *Client) Do(ctx context.Context, query string, variables map[string]any, out any) (*Response, error) {
	return c.do(ctx, &call{query: query, vars: variables, retry: transport.RetryIdempotent}, out)
}

// Mutate is Do for a mutation that must not run twice: it is retried only on
// throttling (THROTTLED or 429), which means it did not run.
func (c *Client) Mutate(ctx context.Context, query string, variables map[string]any, out any) (*Response, error) {
	return c.do(ctx, &call{query: query, vars: variables, retry: transport.RetryIfRefused}, out)
}

// call is one logical request.
type call struct {
	query string
	vars  map[string]any
	cost  int // requested cost estimate; 0: learned from earlier answers
	retry transport.RetryClass
}

func (c *Client) do(ctx context.Context, cl *call, out any) (*Response, error) {
	if cl.query == "" {
		return nil, &InputError{Field: "query", Reason: "must not be empty"}
	}
	tok, err := c.token.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("shopify: access token: %w", c.tr.Redactor().Error(err))
	}
	if tok.IsZero() {
		return nil, &InputError{Field: "token", Reason: "token source returned an empty token"}
	}
	c.tr.Redactor().AddSecret(tok)
	body, err := json.Marshal(struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables,omitempty"`
	}{cl.query, cl.vars})
	if err != nil {
		return nil, &InputError{Field: "variables", Reason: "cannot be encoded as JSON", Err: err}
	}
	estimate := cl.cost
	if estimate <= 0 {
		estimate = c.costs.get(cl.query)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	h.Set("X-Shopify-Access-Token", tok.Reveal())

	var env envelope
	handle := func(resp *http.Response) error {
		b, err := transport.ReadAll(resp, true)
		resp.Body.Close()
		resp.Body = http.NoBody
		if err != nil {
			return c.badAnswer("reading the body", err)
		}
		env = envelope{}
		if err := json.Unmarshal(b, &env); err != nil {
			return c.badAnswer("", err)
		}
		// A null entry of errors[] says nothing: dropped, not dereferenced.
		env.Errors = slices.DeleteFunc(env.Errors, func(e *GraphQLError) bool { return e == nil })
		// A GraphQL answer has data or errors; anything else (null, {},
		// another service's JSON) is no answer, not an empty result.
		if (len(env.Data) == 0 || string(env.Data) == "null") && len(env.Errors) == 0 {
			return c.badAnswer("neither data nor errors in the answer", nil)
		}
		cost := env.Extensions.Cost.cost()
		throttled := false
		for _, e := range env.Errors {
			e.fill(c.tr.Redactor())
			throttled = throttled || e.Code == "THROTTLED"
		}
		// Shopify charges the requested cost up front and gives back
		// what the call did not use; so does the gate, or a query whose
		// pages cost far less than their estimate would be paced by the
		// estimate. Reconcile in observe still keeps the gate no fuller
		// than the server says.
		if !throttled && cost.ActualQueryCost >= 0 && cost.ActualQueryCost < estimate {
			c.gate.Refund(min(estimate, c.gate.Burst()) - cost.ActualQueryCost)
		}
		c.observe(cost.ThrottleStatus, throttled)
		if throttled {
			te := c.throttled(cost, env.Errors, resp)
			if ts := cost.ThrottleStatus; ts.MaximumAvailable > 0 && float64(cost.RequestedQueryCost) > ts.MaximumAvailable {
				return &overBucketError{te} // waiting cannot help: not retried
			}
			return te
		}
		return nil
	}
	resp, err := c.tr.Do(ctx, &transport.Request{
		Method: http.MethodPost,
		URL:    c.endpoint,
		Header: h,
		Body:   body,
		Retry:  cl.retry,
		Cost:   estimate,
		Handle: handle,
	})
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	r := &Response{
		Cost:       env.Extensions.Cost.cost(),
		RequestID:  resp.Header.Get("X-Request-Id"),
		APIVersion: resp.Header.Get("X-Shopify-API-Version"),
	}
	if r.APIVersion != "" && r.APIVersion != c.version && c.log != nil && c.versionWarn.CompareAndSwap(false, true) {
		c.log.LogAttrs(ctx, slog.LevelWarn, "shopify: server answered with another API version",
			slog.String("requested", c.version), slog.String("served", r.APIVersion))
	}
	if r.Cost.RequestedQueryCost > 0 {
		c.costs.put(cl.query, r.Cost.RequestedQueryCost)
	}
	if out != nil && len(env.Data) > 0 && !bytes.Equal(env.Data, []byte("null")) {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return r, &shopcrm.ResponseError{Op: "graphql", Reason: "decoding data", Err: err}
		}
	}
	if len(env.Errors) > 0 {
		return r, &GraphQLErrors{Errors: env.Errors, RequestID: r.RequestID, Response: r}
	}
	return r, nil
}

// fill copies extensions.code into Code and redacts the message, which
// may quote the document's variables.
func (e *GraphQLError) fill(red *transport.Redactor) {
	if code, ok := e.Extensions["code"].(string); ok {
		e.Code = code
	}
	e.Message = red.String(e.Message)
}

// badAnswer is the error for a 2xx answer cut off or not JSON: worth
// another attempt when running the document twice is harmless (see
// [transport.Damaged]).
func (c *Client) badAnswer(reason string, err error) error {
	return transport.Damaged(&shopcrm.ResponseError{Op: "graphql", Reason: reason, Err: err})
}

// nonNil checks a connection's nodes: a null node, which GraphQL sends
// only for a field that failed (and then with errors[]), is a malformed
// answer rather than an item to hand out.
func nonNil[T any](op string, nodes []*T) error {
	if slices.Contains(nodes, nil) {
		return &shopcrm.ResponseError{Op: op, Reason: "a null node in the list"}
	}
	return nil
}

// page is the pageInfo of a connection.
type pageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

// paginate walks a connection page by page. fetch returns one page's items
// for the cursor after ("" first).
func paginate[T any](ctx context.Context, fetch func(ctx context.Context, after string) ([]T, pageInfo, error)) iter.Seq2[T, error] {
	return pager.Seq(ctx, struct{}{}, func(ctx context.Context, _ struct{}, after string) ([]T, string, bool, error) {
		items, pi, err := fetch(ctx, after)
		return items, pi.EndCursor, pi.HasNextPage && pi.EndCursor != "", err
	})
}

// Retry classes of the documents this package sends: reads and tag edits
// are safe to repeat; other mutations only when Shopify refused them.
const (
	idempotent = transport.RetryIdempotent
	ifRefused  = transport.RetryIfRefused
)
