package klaviyotest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// term is one parsed filter term: op(field,value).
type term struct {
	op, field string
	values    []any // string, time.Time, float64, bool
}

// parseFilter reads Klaviyo's filter syntax: terms joined by commas (and),
// each op(field) or op(field,value) with value a quoted string, an
// unquoted date-time, number or boolean, or a [list] of those.
func parseFilter(s string) ([]term, error) {
	var out []term
	for s != "" {
		open := strings.IndexByte(s, '(')
		if open <= 0 {
			return nil, fmt.Errorf("expected op( at %q", s)
		}
		t := term{op: s[:open]}
		s = s[open+1:]
		end := strings.IndexAny(s, ",)")
		if end < 0 {
			return nil, fmt.Errorf("unterminated term")
		}
		t.field = s[:end]
		s = s[end:]
		if s[0] == ',' {
			s = s[1:]
			var err error
			if strings.HasPrefix(s, "[") {
				s = s[1:]
				for {
					var v any
					if v, s, err = parseValue(s); err != nil {
						return nil, err
					}
					t.values = append(t.values, v)
					if strings.HasPrefix(s, ",") {
						s = s[1:]
						continue
					}
					if !strings.HasPrefix(s, "]") {
						return nil, fmt.Errorf("unterminated list")
					}
					s = s[1:]
					break
				}
			} else {
				var v any
				if v, s, err = parseValue(s); err != nil {
					return nil, err
				}
				t.values = []any{v}
			}
		}
		if !strings.HasPrefix(s, ")") {
			return nil, fmt.Errorf("expected ) after %s(%s", t.op, t.field)
		}
		s = s[1:]
		out = append(out, t)
		if s != "" {
			if s[0] != ',' {
				return nil, fmt.Errorf("expected , between terms")
			}
			s = s[1:]
		}
	}
	return out, nil
}

// parseValue reads one value and returns the rest of s.
func parseValue(s string) (any, string, error) {
	if s == "" {
		return nil, s, fmt.Errorf("missing value")
	}
	if q := s[0]; q == '"' || q == '\'' {
		end := strings.IndexByte(s[1:], q)
		if end < 0 {
			return nil, s, fmt.Errorf("unterminated string")
		}
		return s[1 : end+1], s[end+2:], nil
	}
	end := strings.IndexAny(s, ",)]")
	if end < 0 {
		end = len(s)
	}
	raw := s[:end]
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, s[end:], nil
	}
	if t, err := time.Parse("2006-01-02T15:04:05", raw); err == nil {
		return t, s[end:], nil
	}
	if b, err := strconv.ParseBool(raw); err == nil {
		return b, s[end:], nil
	}
	if f, err := strconv.ParseFloat(raw, 64); err == nil {
		return f, s[end:], nil
	}
	return nil, s, fmt.Errorf("cannot read value %q (strings must be quoted)", raw)
}

// rules is what an operation's filter allows: operators per field.
type rules map[string][]string

var (
	cmp   = []string{"greater-or-equal", "greater-than", "less-or-equal", "less-than"}
	eqAny = []string{"any", "equals"}
)

// filterOf parses and checks the filter of a request against rules,
// answering 400 itself when it is refused.
func filterOf(w http.ResponseWriter, r *http.Request, allowed rules) ([]term, bool) {
	f := r.URL.Query().Get("filter")
	if f == "" {
		return nil, true
	}
	terms, err := parseFilter(f)
	if err != nil {
		invalidParam(w, "filter", "Invalid filter: %v.", err)
		return nil, false
	}
	for _, t := range terms {
		ops, ok := allowed[t.field]
		if !ok || !slices.Contains(ops, t.op) {
			invalidParam(w, "filter", "Filter operation %s is not allowed for field %s.", t.op, t.field)
			return nil, false
		}
		if (t.op == "has") != (len(t.values) == 0) || (t.op != "any" && len(t.values) > 1) {
			invalidParam(w, "filter", "Wrong number of values for %s(%s).", t.op, t.field)
			return nil, false
		}
	}
	return terms, true
}

// match applies one term to a field's value: a string, a time or nil.
func (t term) match(v any) bool {
	switch t.op {
	case "equals":
		return equalValue(v, t.values[0])
	case "any":
		for _, x := range t.values {
			if equalValue(v, x) {
				return true
			}
		}
		return false
	case "has":
		return v != nil && v != ""
	}
	tv, ok := v.(time.Time)
	want, ok2 := t.values[0].(time.Time)
	if !ok || !ok2 || tv.IsZero() {
		return false
	}
	switch t.op {
	case "greater-than":
		return tv.After(want)
	case "greater-or-equal":
		return !tv.Before(want)
	case "less-than":
		return tv.Before(want)
	case "less-or-equal":
		return !tv.After(want)
	}
	return false
}

// filterItems keeps the items every term matches; field gives an item's
// value of a filter field.
func filterItems[T any](items []T, terms []term, field func(T, string) any) []T {
	var out []T
	for _, it := range items {
		keep := true
		for _, t := range terms {
			if keep = t.match(field(it, t.field)); !keep {
				break
			}
		}
		if keep {
			out = append(out, it)
		}
	}
	return out
}

func equalValue(v, want any) bool {
	switch v := v.(type) {
	case string:
		w, ok := want.(string)
		return ok && strings.EqualFold(v, w)
	case time.Time:
		w, ok := want.(time.Time)
		return ok && v.Equal(w)
	}
	return v == want
}
