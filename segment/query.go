package segment

import (
	"errors"
	"strings"

	"github.com/shopcrm/shopcrm/tagging"
)

// ErrQueryQuote is the reason [Query] refuses a tag holding ' or \, carried
// by a [*tagging.TagError].
var ErrQueryQuote = errors.New(`segment: tag contains ' or \, whose quoting in segment queries is unconfirmed`)

// Query returns the Shopify customer segment query that selects customers
// carrying tag: customer_tags CONTAINS 'ecp-first'. It is what
// segmentCreate takes to keep a Shopify segment in step with the tag.
//
// The tag must pass [tagging.Check]; the error is then that check's
// [*tagging.TagError]. How Shopify's segment query language escapes quotes
// inside a string is not documented where this package could confirm it,
// so rather than guess, Query also rejects a tag containing ' or \, with a
// *tagging.TagError whose Err is [ErrQueryQuote].
func Query(tag string) (string, error) {
	if err := tagging.Check(tag); err != nil {
		return "", err
	}
	if strings.ContainsAny(tag, `'\`) {
		return "", &tagging.TagError{Tag: tag, Err: ErrQueryQuote}
	}
	return "customer_tags CONTAINS '" + tag + "'", nil
}
