package tagging

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Shopify's limits on tags, the defaults of every [Schema]. Override them
// with [WithMaxLength] and [WithMaxTags].
const (
	MaxLength = 255 // characters (runes) in one tag
	MaxTags   = 250 // tags on one customer or order
)

// Check reports whether tag can be written to Shopify as it is, under the
// default limits: it is not empty, has no surrounding whitespace (Shopify
// would trim it, so the stored tag would differ), has no comma (Shopify splits
// tags on commas), is valid UTF-8 and has at most [MaxLength] characters.
// The error is a [*TagError].
func Check(tag string) error { return checkTag(tag, MaxLength) }

func checkTag(tag string, maxLen int) error {
	if tag == "" {
		return &TagError{Tag: tag, Err: ErrEmpty}
	}
	if trimTag(tag) != tag {
		return &TagError{Tag: tag, Err: ErrSpace}
	}
	if strings.IndexByte(tag, ',') >= 0 {
		return &TagError{Tag: tag, Err: ErrComma}
	}
	if !utf8.ValidString(tag) {
		return &TagError{Tag: tag, Err: ErrEncoding}
	}
	if tooLong(tag, maxLen) {
		return &TagError{Tag: tag, Err: ErrTooLong, Max: maxLen}
	}
	return nil
}

// tooLong counts runes only when the byte length could exceed the limit.
func tooLong(tag string, maxLen int) bool {
	return len(tag) > maxLen && utf8.RuneCountInString(tag) > maxLen
}

// checkText validates the free text of a tag (plan and product names, rank,
// status, delivery time). It returns -1 when s is fine, or the offset of the
// first bad byte and what was expected there. Free text is byte-exact, so it
// must survive Shopify unchanged: not empty, no surrounding whitespace, no
// comma, no control characters, valid UTF-8.
func checkText(s string) (int, string) {
	if textOK(s) {
		return -1, ""
	}
	if s == "" {
		return 0, wantText
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == ',':
				return i, wantNoComma
			case c < ' ' || c == 0x7f:
				return i, wantNoControl
			case c == ' ' && (i == 0 || i == len(s)-1):
				return i, wantNoSpace
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return i, wantUTF8
		case unicode.IsControl(r):
			return i, wantNoControl
		case unicode.IsSpace(r) && (i == 0 || i+n == len(s)):
			return i, wantNoSpace
		}
		i += n
	}
	return -1, ""
}

// textOK is the fast path of checkText: one pass over the bytes, then the
// UTF-8 check, then the two end runes. It accepts exactly what checkText
// accepts.
func textOK(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		// 0xC2 0x80-0x9F is U+0080-U+009F, the C1 controls.
		if c < ' ' || c == ',' || c == 0x7f || c == 0xC2 && i+1 < len(s) && s[i+1] < 0xA0 {
			return false
		}
	}
	if !utf8.ValidString(s) {
		return false
	}
	if c := s[0]; c < utf8.RuneSelf {
		if c == ' ' {
			return false
		}
	} else if r, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(r) {
		return false
	}
	if c := s[len(s)-1]; c < utf8.RuneSelf {
		return c != ' '
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return !unicode.IsSpace(r)
}

const (
	wantText      = "text"
	wantNoComma   = "text without a comma"
	wantNoControl = "text without control characters"
	wantNoSpace   = "text without surrounding whitespace"
	wantUTF8      = "valid UTF-8"
)
