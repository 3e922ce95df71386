package segment

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopcrm/shopcrm/tagging"
)

// MaxTagLength is the longest tag, in characters, this package writes:
// tagging's default Shopify limit, so the two packages never disagree.
const MaxTagLength = tagging.MaxLength

// CheckTag reports, as a [*TagError], why tag cannot be a segment tag: empty,
// surrounding spaces, a comma, a control character, invalid UTF-8, or more
// than [MaxTagLength] characters.
func CheckTag(tag string) error { return checkTag(tag) }

// checkTag reports why tag cannot be written to Shopify as a segment tag,
// as a [*TagError], or nil.
func checkTag(tag string) error {
	reason := ""
	switch {
	case tag == "":
		reason = "empty"
	case !utf8.ValidString(tag):
		reason = "not valid UTF-8"
	case strings.TrimSpace(tag) != tag:
		reason = "surrounding spaces"
	case strings.Contains(tag, ","):
		// Shopify splits tag lists on commas, so a comma can never be part
		// of a tag.
		reason = "contains a comma"
	case utf8.RuneCountInString(tag) > MaxTagLength:
		reason = fmt.Sprintf("longer than %d characters", MaxTagLength)
	case strings.IndexFunc(tag, unicode.IsControl) >= 0:
		reason = "contains a control character"
	}
	if reason != "" {
		return &TagError{Tag: tag, Reason: reason}
	}
	return nil
}

// Query returns the Shopify customer segment query that selects customers
// carrying tag: customer_tags CONTAINS 'ecp-first'. It is what
// segmentCreate takes to keep a Shopify segment in step with the tag.
//
// How Shopify's segment query language escapes quotes inside a string is not
// documented where this package could confirm it, so rather than guess,
// Query rejects a tag containing ' or \ with a [*TagError]; so does every
// tag that could not be written (empty, a comma, surrounding spaces, over
// [MaxTagLength]).
func Query(tag string) (string, error) {
	if err := checkTag(tag); err != nil {
		return "", err
	}
	if strings.ContainsAny(tag, `'\`) {
		return "", &TagError{Tag: tag, Reason: `contains ' or \, whose quoting in segment queries is unconfirmed`}
	}
	return "customer_tags CONTAINS '" + tag + "'", nil
}
