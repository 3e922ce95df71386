package tagging

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A template is a compiled layout of pause, rank or status tags: literal
// parts (the prefix already substituted) and at most one each of the id,
// date and value placeholders.
type template struct {
	src                      string
	kind                     Kind
	parts                    []part
	hasID, hasDate, hasValue bool
}

type part struct {
	ph   byte   // 0 for literal text, else 'i' (id), 'd' (date) or 'v' (value)
	lit  string // literal as written, for Format
	low  string // lit with ASCII letters lower-cased, for matching
	want string // lit quoted, for errors
}

func compileTemplate(k Kind, src, prefix string) (template, error) {
	t := template{src: src, kind: k}
	bad := func(reason string) (template, error) {
		return template{}, &ConfigError{Option: k.String() + " template", Value: src, Reason: reason}
	}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			l := lit.String()
			t.parts = append(t.parts, part{lit: l, low: lowerLiteral(l), want: strconv.Quote(l)})
			lit.Reset()
		}
	}
	for i := 0; i < len(src); {
		switch c := src[i]; c {
		case '}':
			return bad("unmatched }")
		case '{':
			end := strings.IndexByte(src[i:], '}')
			if end < 0 {
				return bad("unmatched {")
			}
			name := src[i+1 : i+end]
			i += end + 1
			var ph byte
			var seen *bool
			switch name {
			case "prefix":
				lit.WriteString(prefix)
				continue
			case "id":
				ph, seen = 'i', &t.hasID
			case "date":
				ph, seen = 'd', &t.hasDate
			case "value":
				ph, seen = 'v', &t.hasValue
			default:
				return bad("unknown placeholder {" + name + "}")
			}
			if *seen {
				return bad("{" + name + "} appears twice")
			}
			*seen = true
			flush()
			t.parts = append(t.parts, part{ph: ph})
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	if len(t.parts) == 0 {
		return bad("empty")
	}
	if t.parts[0].ph != 0 {
		return bad("must begin with text or {prefix}")
	}
	for i := 1; i < len(t.parts); i++ {
		prev, p := t.parts[i-1], t.parts[i]
		switch {
		case prev.ph == 'v':
			return bad("{value} must come last")
		case prev.ph != 0 && p.ph != 0:
			return bad("two placeholders side by side")
		case prev.ph == 'i' && '0' <= p.lit[0] && p.lit[0] <= '9':
			return bad("{id} is followed by a digit")
		}
	}
	for _, p := range t.parts {
		if p.ph == 0 {
			if reason := checkLiteral(p.lit); reason != "" {
				return bad(reason)
			}
		}
	}
	if first := t.parts[0].lit; strings.TrimLeftFunc(first, unicode.IsSpace) != first {
		return bad("begins with whitespace")
	}
	if last := t.parts[len(t.parts)-1]; last.ph == 0 && strings.TrimRightFunc(last.lit, unicode.IsSpace) != last.lit {
		return bad("ends with whitespace")
	}
	switch k {
	case KindPause:
		if !t.hasID || t.hasValue {
			return bad("pause templates need {id}, may have {date} and have no {value}")
		}
	case KindRank:
		if !t.hasValue || t.hasDate {
			return bad("rank templates need {value}, may have {id} and have no {date}")
		}
	case KindStatus:
		if !t.hasID || !t.hasValue || t.hasDate {
			return bad("status templates need {id} and {value} and have no {date}")
		}
	}
	return t, nil
}

// match reads tag as this template, recording the failure in fs.
func (t *template) match(tag string, out *Tag, fs *failures) bool {
	out.Kind = t.kind
	i := 0
	for _, p := range t.parts {
		switch p.ph {
		case 0:
			if n := matchFold(tag[i:], p.low); n < len(p.low) {
				kind := t.kind
				if i == 0 {
					kind = KindUnknown // nothing of this kind matched yet
				}
				fs.addLiteral(i, kind, p.lit, n)
				return false
			}
			i += len(p.low)
		case 'i':
			j := skipDigits(tag, i)
			if j == i {
				fs.add(i, t.kind, wantID)
				return false
			}
			out.Contract = tag[i:j]
			i = j
		case 'd':
			d, end, want := scanDate(tag, i)
			if want != "" {
				fs.add(end, t.kind, want)
				return false
			}
			out.Date = d
			i = end
		case 'v':
			if pos, want := checkText(tag[i:]); pos >= 0 {
				fs.add(i+pos, t.kind, want)
				return false
			}
			out.Value = tag[i:]
			i = len(tag)
		}
	}
	if i != len(tag) {
		fs.add(i, t.kind, wantEnd)
		return false
	}
	return true
}

// append writes t in this template's layout; the fields are already checked.
func (t *template) append(b []byte, tag Tag) []byte {
	for _, p := range t.parts {
		switch p.ph {
		case 0:
			b = append(b, p.lit...)
		case 'i':
			b = append(b, tag.Contract...)
		case 'd':
			b = tag.Date.Append(b)
		case 'v':
			b = append(b, tag.Value...)
		}
	}
	return b
}

// checkLiteral returns why a template's literal text cannot be part of a tag,
// or "".
func checkLiteral(s string) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return "not valid UTF-8"
		case r == ',':
			return "contains a comma"
		case unicode.IsControl(r):
			return "contains a control character"
		}
	}
	return ""
}
