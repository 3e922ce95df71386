package tagging

import (
	"unicode"
	"unicode/utf8"
)

// Shopify's limits on customer tags, the defaults of every [Schema], as the
// Admin GraphQL schema describes Customer.tags (up to 250 tags of up to 255
// characters). Order tags are shorter: see shopify.DefaultOrderTagMaxLength.
// Override them with [WithMaxLength] and [WithMaxTags].
const (
	MaxLength = 255 // characters (runes) in one tag
	MaxTags   = 250 // tags on one customer or order
)

// Check reports whether tag can be written to Shopify as it is, under the
// default limits. It is the SDK's one check of a tag; package segment and
// the Shopify client use it too. A tag must:
//
//   - not be empty ([ErrEmpty]);
//   - have no surrounding whitespace, which Shopify would trim, so the
//     stored tag would differ ([ErrSpace]);
//   - have no comma, on which Shopify splits tags ([ErrComma]);
//   - be valid UTF-8 ([ErrEncoding]);
//   - hold no control character: C0, DEL or C1, newlines and NUL included
//     ([ErrControl]);
//   - hold no bidirectional embedding, override or isolate (U+202A to
//     U+202E, U+2066 to U+2069), which make a tag display as something
//     other than it is ([ErrBidi]);
//   - show something: a tag of zero-width, format and blank characters
//     only (U+200B, U+FEFF, U+3164, ...) is invisible in every list
//     ([ErrInvisible]);
//   - have at most [MaxLength] characters ([ErrTooLong]).
//
// The error is a [*TagError] whose Err is the sentinel named above.
func Check(tag string) error { return checkTag(tag, MaxLength) }

func checkTag(tag string, maxLen int) error {
	if tag == "" {
		return &TagError{Tag: tag, Err: ErrEmpty}
	}
	if trimTag(tag) != tag {
		return &TagError{Tag: tag, Err: ErrSpace}
	}
	if _, err := scanText(tag); err != nil {
		return &TagError{Tag: tag, Err: err}
	}
	if tooLong(tag, maxLen) {
		return &TagError{Tag: tag, Err: ErrTooLong, Max: maxLen}
	}
	return nil
}

// scanText returns the offset of the first character s cannot hold and
// the sentinel saying why, or -1 and nil: a comma, a control or bidi
// formatting character, invalid UTF-8, whitespace at either end, or (at
// offset 0) nothing visible at all. s is not empty.
func scanText(s string) (int, error) {
	visible := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == ',':
				return i, ErrComma
			case c < ' ' || c == 0x7f:
				return i, ErrControl
			case c == ' ' && (i == 0 || i == len(s)-1):
				return i, ErrSpace
			case c != ' ':
				visible = true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return i, ErrEncoding
		case unicode.IsControl(r):
			return i, ErrControl
		case isBidiControl(r):
			return i, ErrBidi
		case unicode.IsSpace(r) && (i == 0 || i+n == len(s)):
			return i, ErrSpace
		case !isInvisible(r):
			visible = true
		}
		i += n
	}
	if !visible {
		return 0, ErrInvisible
	}
	return -1, nil
}

// isBidiControl reports whether r is a bidirectional embedding, override,
// pop or isolate: U+202A-U+202E and U+2066-U+2069. The marks (LRM, RLM,
// ALM) only nudge neutral characters and are allowed, though invisible.
func isBidiControl(r rune) bool {
	return 0x202A <= r && r <= 0x202E || 0x2066 <= r && r <= 0x2069
}

// isInvisible reports whether r draws nothing: whitespace, format
// characters (zero-width space and joiners, word joiner, BOM, soft hyphen,
// bidi marks, tag characters), variation selectors, the combining grapheme
// joiner, the Hangul fillers and the blank Braille pattern.
func isInvisible(r rune) bool {
	switch r {
	case 0x034F, 0x115F, 0x1160, 0x2800, 0x3164, 0xFFA0:
		return true
	}
	return unicode.IsSpace(r) || unicode.In(r, unicode.Cf, unicode.Variation_Selector)
}

// tooLong counts runes only when the byte length could exceed the limit.
func tooLong(tag string, maxLen int) bool {
	return len(tag) > maxLen && utf8.RuneCountInString(tag) > maxLen
}

// checkText validates the free text of a tag (plan and product names, rank,
// status, delivery time) and the prefixes. It returns -1 when s is fine, or
// the offset of the first bad byte and what was expected there. Free text
// is byte-exact, so it must survive Shopify unchanged and read as what it
// is: not empty, no surrounding whitespace, no comma, valid UTF-8, no
// control or bidi formatting character ([Check]'s rules), and something
// visible.
func checkText(s string) (int, string) {
	if textOK(s) {
		return -1, ""
	}
	if s == "" {
		return 0, wantText
	}
	pos, err := scanText(s)
	switch err {
	case nil:
		return -1, ""
	case ErrComma:
		return pos, wantNoComma
	case ErrControl:
		return pos, wantNoControl
	case ErrBidi:
		return pos, wantNoBidi
	case ErrSpace:
		return pos, wantNoSpace
	case ErrInvisible:
		return pos, wantVisible
	}
	return pos, wantUTF8
}

// textOK is the fast path of checkText for the usual text: one pass over
// the bytes, then the UTF-8 check, then the two end runes. When it returns
// true, checkText accepts s; when it returns false, checkText looks
// closer. Bytes that may begin a bidi control (0xE2 0x80, 0xE2 0x81) send s
// to the slow path, and so does text with no character that is certainly
// visible: a printable ASCII letter or sign, a kana or a CJK ideograph.
func textOK(s string) bool {
	if s == "" {
		return false
	}
	visible := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < utf8.RuneSelf:
			if c < ' ' || c == ',' || c == 0x7f {
				return false
			}
			visible = visible || c != ' '
		case c == 0xC2:
			// 0xC2 0x80-0x9F is U+0080-U+009F, the C1 controls.
			if i+1 < len(s) && s[i+1] < 0xA0 {
				return false
			}
		case c == 0xE2:
			// U+2000-U+207F: spaces, zero widths, bidi controls.
			if i+1 < len(s) && (s[i+1] == 0x80 || s[i+1] == 0x81) {
				return false
			}
		case c == 0xE3:
			// U+3040-U+30FF: hiragana and katakana.
			visible = visible || i+1 < len(s) && 0x81 <= s[i+1] && s[i+1] <= 0x83
		case 0xE4 <= c && c <= 0xE9:
			// U+4000-U+9FFF: CJK ideographs.
			visible = true
		}
	}
	if !visible || !utf8.ValidString(s) {
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
	wantNoBidi    = "text without bidirectional formatting characters"
	wantNoSpace   = "text without surrounding whitespace"
	wantVisible   = "text with a visible character"
	wantUTF8      = "valid UTF-8"
)
