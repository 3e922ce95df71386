package tagging

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Parse reads tag as a tag of the default schema; see [Schema.Parse].
func Parse(tag string) (Tag, error) { return defaultSchema.Parse(tag) }

// Parse reads tag as one of the schema's kinds. Literal parts (prefixes,
// keywords, template text) match without regard to ASCII case, as Shopify
// matches tags; contract ids, names and time slots come back byte for byte,
// as substrings of tag, so a successful Parse allocates nothing.
//
// The input must be a tag as Shopify stores it: no surrounding whitespace.
// Any other input returns a [*ParseError] saying where it stopped matching
// and what was expected there. Parse never panics.
func (s *Schema) Parse(tag string) (Tag, error) {
	var t Tag
	if s.parseInto(tag, &t, nil) {
		return t, nil
	}
	// Parse again, this time recording why: failures are the slow path.
	var fs failures
	s.parseInto(tag, &t, &fs)
	return Tag{}, fs.err(tag)
}

// parse tries the fixed layouts first, then the templates in kind order; the
// first that matches wins. Construction checks that every kind's tags read
// back as that kind, and Format checks it for each templated tag.
func (s *Schema) parse(tag string, fs *failures) (Tag, bool) {
	var t Tag
	ok := s.parseInto(tag, &t, fs)
	return t, ok
}

// parseInto is parse writing into *t, which saves copying a Tag out of every
// layer; on failure *t is zero.
func (s *Schema) parseInto(tag string, t *Tag, fs *failures) bool {
	if tag == "" || !s.first[tag[0]] {
		fs.add(0, KindUnknown, s.wantStart)
		return false
	}
	if s.parseSub(tag, t, fs) || s.parseDelivery(tag, t, fs) {
		return true
	}
	for i := range s.tmpl {
		*t = Tag{}
		if s.tmpl[i].match(tag, t, fs) {
			return true
		}
	}
	*t = Tag{}
	return false
}

// parseSub reads the tags under the subscription prefix:
//
//	{prefix}-{id}-plan:TEXT       {prefix}-count:N
//	{prefix}-{id}-product:TEXT    {prefix}-id:NNNNNNNNNN
//	{prefix}-{id}-cancel:DATE
//	{prefix}-{id}-skip-count:N
func (s *Schema) parseSub(tag string, t *Tag, fs *failures) bool {
	i := matchFold(tag, s.subLit)
	if i < len(s.subLit) {
		fs.addLiteral(0, KindUnknown, s.subRaw, i)
		return false
	}
	*t = Tag{}
	var v int // where the value starts
	if i < len(tag) && isDigit(tag[i]) {
		j := skipDigits(tag, i)
		if j == len(tag) || tag[j] != '-' {
			fs.add(j, KindUnknown, wantDigit)
			fs.add(j, KindUnknown, `"-"`)
			return false
		}
		t.Contract = tag[i:j]
		k := j + 1
		switch rest := tag[k:]; {
		case hasPrefixFold(rest, "plan:"):
			t.Kind, v = KindPlan, k+len("plan:")
		case hasPrefixFold(rest, "product:"):
			t.Kind, v = KindProduct, k+len("product:")
		case hasPrefixFold(rest, "cancel:"):
			t.Kind, v = KindCancel, k+len("cancel:")
		case hasPrefixFold(rest, "skip-count:"):
			t.Kind, v = KindSkipCount, k+len("skip-count:")
		default:
			for _, kw := range [...]string{"plan:", "product:", "cancel:", "skip-count:"} {
				fs.addLiteral(k, KindUnknown, kw, matchFold(rest, kw))
			}
			return false
		}
	} else {
		switch rest := tag[i:]; {
		case hasPrefixFold(rest, "count:"):
			t.Kind, v = KindOrderCount, i+len("count:")
		case hasPrefixFold(rest, "id:"):
			t.Kind, v = KindSubscriptionID, i+len("id:")
		default:
			fs.add(i, KindUnknown, wantID)
			fs.addLiteral(i, KindUnknown, "count:", matchFold(rest, "count:"))
			fs.addLiteral(i, KindUnknown, "id:", matchFold(rest, "id:"))
			return false
		}
	}
	switch t.Kind {
	case KindPlan, KindProduct:
		if pos, want := checkText(tag[v:]); pos >= 0 {
			fs.add(v+pos, t.Kind, want)
			return false
		}
		t.Value = tag[v:]
	case KindCancel:
		d, end, want := scanDate(tag, v)
		if want == "" && end != len(tag) {
			want = wantEnd
		}
		if want != "" {
			fs.add(end, t.Kind, want)
			return false
		}
		t.Date = d
	case KindSkipCount, KindOrderCount:
		n, end, want := scanCount(tag, v)
		if want != "" {
			fs.add(end, t.Kind, want)
			return false
		}
		t.Count = n
	case KindSubscriptionID:
		for k := v; k < v+10; k++ {
			if k >= len(tag) || !isDigit(tag[k]) {
				fs.add(k, t.Kind, wantSubscriptionID)
				return false
			}
		}
		if v+10 != len(tag) {
			fs.add(v+10, t.Kind, wantEnd)
			return false
		}
		t.Value = tag[v:]
	}
	return true
}

// parseDelivery reads {delivery}-{id}:DATE, optionally followed by a space
// and the time slot.
func (s *Schema) parseDelivery(tag string, t *Tag, fs *failures) bool {
	i := matchFold(tag, s.delLit)
	if i < len(s.delLit) {
		fs.addLiteral(0, KindUnknown, s.delRaw, i)
		return false
	}
	j := skipDigits(tag, i)
	if j == i {
		fs.add(i, KindDelivery, wantID)
		return false
	}
	if j == len(tag) || tag[j] != ':' {
		fs.add(j, KindDelivery, wantDigit)
		fs.add(j, KindDelivery, `":"`)
		return false
	}
	*t = Tag{Kind: KindDelivery, Contract: tag[i:j]}
	d, end, want := scanDate(tag, j+1)
	if want != "" {
		fs.add(end, KindDelivery, want)
		return false
	}
	t.Date = d
	if end == len(tag) {
		return true
	}
	if tag[end] != ' ' {
		fs.add(end, KindDelivery, wantTimeOrEnd)
		return false
	}
	if end+1 == len(tag) {
		fs.add(end+1, KindDelivery, wantTime)
		return false
	}
	if pos, want := checkText(tag[end+1:]); pos >= 0 {
		fs.add(end+1+pos, KindDelivery, want)
		return false
	}
	t.Value = tag[end+1:]
	return true
}

// scanCount reads a count at s[i:] that runs to the end of s: decimal digits
// without leading zeros, at most math.MaxInt.
func scanCount(s string, i int) (n, end int, want string) {
	if i >= len(s) || !isDigit(s[i]) {
		return 0, i, wantCount
	}
	if s[i] == '0' && i+1 < len(s) && isDigit(s[i+1]) {
		return 0, i + 1, wantNoLeadingZero
	}
	j := i
	for ; j < len(s) && isDigit(s[j]); j++ {
		d := int(s[j] - '0')
		if n > (math.MaxInt-d)/10 {
			return 0, j, wantSmallCount
		}
		n = n*10 + d
	}
	if j != len(s) {
		return 0, j, wantDigitOrEnd
	}
	return n, j, ""
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func skipDigits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func isContractID(s string) bool {
	return s != "" && skipDigits(s, 0) == len(s)
}

const (
	wantID             = "contract id (digits)"
	wantDigit          = "digit"
	wantSubscriptionID = "10-digit subscription id"
	wantTimeOrEnd      = `" " and a time slot, or end of tag`
	wantTime           = "time slot"
	wantCount          = "count (digits)"
	wantNoLeadingZero  = "count without leading zeros"
	wantDigitOrEnd     = "digit or end of tag"
	wantSmallCount     = "count that fits in an int"
)

// failures keeps the furthest point where the input stopped matching, and
// every alternative that stopped there. A nil *failures records nothing,
// which is how the fast path runs.
type failures struct {
	n int
	f [8]failure
}

type failure struct {
	pos  int
	kind Kind
	want string
}

func (fs *failures) add(pos int, kind Kind, want string) {
	if fs == nil {
		return
	}
	if fs.n > 0 {
		if pos < fs.f[0].pos {
			return
		}
		if pos > fs.f[0].pos {
			fs.n = 0
		}
	}
	if fs.n < len(fs.f) {
		fs.f[fs.n] = failure{pos: pos, kind: kind, want: want}
		fs.n++
	}
}

// addLiteral records that lit was expected at start and the input matched
// its first n bytes. The failure is reported where the match stopped (backed
// up to a character boundary), expecting the rest of lit.
func (fs *failures) addLiteral(start int, kind Kind, lit string, n int) {
	if fs == nil {
		return
	}
	for n > 0 && n < len(lit) && !utf8.RuneStart(lit[n]) {
		n--
	}
	fs.add(start+n, kind, strconv.Quote(lit[n:]))
}

func (fs *failures) err(tag string) *ParseError {
	if fs.n == 0 { // cannot happen: every failing path records itself
		return &ParseError{Tag: tag, Expected: "tag"}
	}
	e := &ParseError{Tag: tag, Pos: fs.f[0].pos, Kind: fs.f[0].kind}
	var wants []string
	for _, f := range fs.f[:fs.n] {
		if f.kind != e.Kind {
			e.Kind = KindUnknown
		}
		if !contains(wants, f.want) {
			wants = append(wants, f.want)
		}
	}
	e.Expected = joinOr(wants)
	return e
}
