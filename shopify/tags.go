package shopify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/tagging"
)

// TagsService adds and removes tags on customers and orders.
type TagsService struct{ c *Client }

// MaxTagsPerCall is the most tags one tagsAdd or tagsRemove takes (Shopify's
// input array limit); longer lists are split into several calls.
const MaxTagsPerCall = 250

// DefaultOrderTagMaxLength is the most characters an order tag may have
// unless [WithOrderTagMaxLength] says otherwise. Shopify's Order resource
// documentation limits each order tag to 40 characters, and a widely used
// Shopify automation found longer order tags not written at all; customer
// tags take up to 255 ([tagging.MaxLength], the Customer.tags description
// of the Admin GraphQL schema).
const DefaultOrderTagMaxLength = 40

// tagTypes are the resources whose tags this package edits.
var tagTypes = []string{"Customer", "Order"}

// tagMax is the longest tag the resource id takes: orders have their own,
// shorter limit.
func (c *Client) tagMax(id string) int {
	if g, err := gid.Parse(id); err == nil && g.Type.String() == "Order" {
		return c.orderTagMax
	}
	return tagging.MaxLength
}

// checkTags validates tags the way Shopify would accept them unchanged: no
// empty tag, no comma, no surrounding whitespace, at most maxLen
// characters. An empty list passes: there is nothing to send.
func checkTags(field string, tags []string, maxLen int) error {
	for i, t := range tags {
		err := tagging.Check(t)
		if err == nil && maxLen < tagging.MaxLength && utf8.RuneCountInString(t) > maxLen {
			err = &tagging.TagError{Tag: t, Err: tagging.ErrTooLong, Max: maxLen}
		}
		if err != nil {
			return &InputError{Field: field + "[" + strconv.Itoa(i) + "]", Value: short(t), Reason: tagReason(err), Err: err}
		}
	}
	return nil
}

// tagReason says why Shopify would not store a tag as given.
func tagReason(err error) string {
	switch {
	case errors.Is(err, tagging.ErrEmpty):
		return "empty tag"
	case errors.Is(err, tagging.ErrSpace):
		return "surrounding whitespace (Shopify would trim it)"
	case errors.Is(err, tagging.ErrComma):
		return "contains a comma (Shopify splits tags on commas)"
	case errors.Is(err, tagging.ErrEncoding):
		return "not valid UTF-8"
	case errors.Is(err, tagging.ErrControl):
		return "contains a control character"
	case errors.Is(err, tagging.ErrBidi):
		return "contains a bidirectional override or isolate"
	case errors.Is(err, tagging.ErrInvisible):
		return "made only of invisible characters"
	case errors.Is(err, tagging.ErrTooLong):
		limit := tagging.MaxLength
		var te *tagging.TagError
		if errors.As(err, &te) && te.Max > 0 {
			limit = te.Max
		}
		return fmt.Sprintf("longer than %d characters", limit)
	}
	return err.Error()
}

func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Add adds tags to the customer or order id (a GID). Tags already there
// are left as they are; Shopify compares them case-insensitively. A refusal
// is a *UserErrors. More than 250 tags take several calls; the Response is
// the last one's. No tags is a no-op: no request, a nil Response and a nil
// error.
//
//spec:graphql mutation tagsAdd
func (s *TagsService) Add(ctx context.Context, id string, tags []string) (*Response, error) {
	return s.edit(ctx, "tagsAdd", id, tags)
}

// Remove removes tags from the customer or order id (a GID). No tags is a
// no-op, as for Add.
//
//spec:graphql mutation tagsRemove
func (s *TagsService) Remove(ctx context.Context, id string, tags []string) (*Response, error) {
	return s.edit(ctx, "tagsRemove", id, tags)
}

func (s *TagsService) edit(ctx context.Context, op, id string, tags []string) (*Response, error) {
	if err := checkID("id", id, tagTypes...); err != nil {
		return nil, err
	}
	if err := checkTags("tags", tags, s.c.tagMax(id)); err != nil {
		return nil, err
	}
	q := `mutation ` + op + `($id: ID!, $tags: [String!]!) { ` + op + `(id: $id, tags: $tags) { userErrors { field message } } }`
	var resp *Response
	for len(tags) > 0 {
		n := min(len(tags), MaxTagsPerCall)
		var out map[string]*struct {
			UserErrors userErrorList `json:"userErrors"`
		}
		var err error
		if resp, err = s.c.do(ctx, &call{query: q, vars: map[string]any{"id": id, "tags": tags[:n]}, cost: mutationCost, retry: idempotent}, &out); err != nil {
			return resp, err
		}
		if out[op] == nil {
			// An answer that does not say the change was made is not a
			// success; the edit is safe to send again.
			return resp, &shopcrm.ResponseError{Op: op, Reason: "no payload in the answer"}
		}
		if err := s.c.mutationErrors(op, out[op].UserErrors); err != nil {
			return resp, err
		}
		tags = tags[n:]
	}
	return resp, nil
}

// mutationCost is what Shopify charges for one mutation field.
const mutationCost = 10
