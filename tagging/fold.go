package tagging

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Shopify matches tags case-insensitively. Membership here follows
// strings.EqualFold (Unicode simple folding); the grammar's own literals
// (prefixes, keywords) are matched ASCII-case-insensitively, which is all
// they need.

// isPlain reports whether s is ASCII without upper-case letters. A plain
// string is its own fold key, so two plain strings are equal under folding
// exactly when they are equal byte for byte.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

// sameTag reports whether a and b are the same tag to Shopify.
func sameTag(a string, aPlain bool, b string, bPlain bool) bool {
	if aPlain && bPlain {
		return a == b
	}
	return strings.EqualFold(a, b)
}

// foldKey returns a canonical form of s such that foldKey(a) == foldKey(b)
// exactly when strings.EqualFold(a, b).
func foldKey(s string) string {
	if isPlain(s) {
		return s
	}
	return string(appendFoldKey(make([]byte, 0, len(s)), s))
}

// appendFoldKey appends foldKey(s) to b.
func appendFoldKey(b []byte, s string) []byte {
	if isPlain(s) {
		return append(b, s...)
	}
	for _, r := range s { // invalid bytes come out as RuneError, as in EqualFold
		b = utf8.AppendRune(b, foldRune(r))
	}
	return b
}

// foldRune picks one representative of r's simple-folding orbit: the ASCII
// lower-case letter when the orbit has one (so plain strings stay as they
// are), otherwise the smallest rune of the orbit.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		return lowerASCII(r)
	}
	c := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return lowerASCII(f)
		}
		c = min(c, f)
	}
	return c
}

func lowerASCII(r rune) rune {
	if 'A' <= r && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}

// lowerLiteral lower-cases the ASCII letters of a grammar literal; other
// bytes are kept.
func lowerLiteral(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// hasPrefixFold reports whether s begins with lit, ASCII letters matched
// without regard to case. lit must have gone through lowerLiteral.
func hasPrefixFold(s, lit string) bool {
	if len(s) < len(lit) {
		return false
	}
	if s[:len(lit)] == lit { // the usual spelling: one memory compare
		return true
	}
	for i := 0; i < len(lit); i++ {
		c, l := s[i], lit[i]
		if c != l && (c+'a'-'A' != l || c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// matchFold returns how many leading bytes of s match lit as hasPrefixFold
// does; a result below len(lit) is where the mismatch is.
func matchFold(s, lit string) int {
	if len(s) >= len(lit) && s[:len(lit)] == lit {
		return len(lit)
	}
	for i := 0; i < len(lit); i++ {
		if i >= len(s) {
			return i
		}
		c, l := s[i], lit[i]
		if c != l && (c+'a'-'A' != l || c < 'A' || c > 'Z') {
			return i
		}
	}
	return len(lit)
}

// trimTag is strings.TrimSpace with a fast path for the usual tag that has
// nothing to trim.
func trimTag(s string) string {
	if s == "" {
		return s
	}
	if c, d := s[0], s[len(s)-1]; c > ' ' && c < utf8.RuneSelf && d > ' ' && d < utf8.RuneSelf {
		return s
	}
	return strings.TrimSpace(s)
}
