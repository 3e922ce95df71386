package shopifytest

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The part of Shopify's search syntax the fake evaluates: terms key:value
// separated by spaces (AND is implied; a literal AND is accepted), values
// optionally quoted with ' or ", and the comparators >, >=, < and <= on
// ids and times. Anything else (free text, OR, NOT, -term, parentheses,
// fields outside the tables below) is an error: Shopify ignores a field it
// does not know and returns everything, which would hide a bug in a test.

// searchTerm is one key:value term of a search query.
type searchTerm struct {
	raw, key, op, value string
}

// parseSearch splits a search query into terms.
func parseSearch(q string) ([]searchTerm, error) {
	var terms []searchTerm
	for _, raw := range searchTokens(q) {
		if raw == "AND" {
			continue
		}
		key, v, ok := strings.Cut(raw, ":")
		if !ok || key == "" || strings.ContainsAny(key, `()'"`) || strings.HasPrefix(key, "-") {
			return nil, fmt.Errorf("search term %q is not modelled by the fake: it evaluates key:value terms joined by AND only", raw)
		}
		op, v := splitOp(v)
		if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		} else if strings.ContainsAny(v, `()'"`) {
			return nil, fmt.Errorf("search term %q is not modelled by the fake: parentheses and partly quoted values are not evaluated", raw)
		}
		terms = append(terms, searchTerm{raw: raw, key: key, op: op, value: v})
	}
	return terms, nil
}

// searchTokens splits q on whitespace outside quotes.
func searchTokens(q string) []string {
	var toks []string
	var b strings.Builder
	var quote rune
	for _, r := range q {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == ' ' || r == '\t' || r == '\n':
			if b.Len() > 0 {
				toks = append(toks, b.String())
				b.Reset()
			}
			continue
		}
		b.WriteRune(r)
	}
	if b.Len() > 0 {
		toks = append(toks, b.String())
	}
	return toks
}

func splitOp(v string) (string, string) {
	for _, op := range []string{">=", "<=", ">", "<"} {
		if rest, ok := strings.CutPrefix(v, op); ok {
			return op, rest
		}
	}
	return "", v
}

// A searchField tests one field of a resource against a term's value.
type searchField[T any] func(x T, t searchTerm) (bool, error)

// compileSearch turns a query into a predicate over the fields given, or
// the error for the first term the fake does not model.
func compileSearch[T any](resource, q string, fields map[string]searchField[T]) (func(T) (bool, error), error) {
	terms, err := parseSearch(q)
	if err != nil {
		return nil, err
	}
	for _, t := range terms {
		if fields[t.key] == nil {
			return nil, fmt.Errorf("search field %q (in %q) is not modelled by the fake for %s; it filters on %s",
				t.key, t.raw, resource, strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
		}
	}
	return func(x T) (bool, error) {
		for _, t := range terms {
			ok, err := fields[t.key](x, t)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}, nil
}

// filter keeps the items a search query selects.
func filter[T any](resource, q string, fields map[string]searchField[T], items []T) ([]T, error) {
	match, err := compileSearch(resource, q, fields)
	if err != nil {
		return nil, err
	}
	var out []T
	for _, x := range items {
		ok, err := match(x)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, x)
		}
	}
	return out, nil
}

// exact compares a string field case-insensitively; no comparator.
func exact[T any](get func(T) string) searchField[T] {
	return func(x T, t searchTerm) (bool, error) {
		if t.op != "" {
			return false, fmt.Errorf("search term %q: the fake compares this field for equality only", t.raw)
		}
		return strings.EqualFold(get(x), t.value), nil
	}
}

// idField compares a numeric field, with comparators.
func idField[T any](get func(T) int64) searchField[T] {
	return func(x T, t searchTerm) (bool, error) {
		n, err := strconv.ParseInt(t.value, 10, 64)
		if err != nil {
			return false, fmt.Errorf("search term %q: %q is not a number", t.raw, t.value)
		}
		return compare(cmp.Compare(get(x), n), t.op), nil
	}
}

// timeField compares a time field with an RFC 3339 time or a date (a UTC
// day: = is that day, > after it, <= up to its end), with comparators.
func timeField[T any](get func(T) time.Time) searchField[T] {
	return func(x T, t searchTerm) (bool, error) {
		have := get(x)
		if at, err := time.Parse(time.RFC3339, t.value); err == nil {
			return compare(have.Compare(at), t.op), nil
		}
		day, err := time.Parse(time.DateOnly, t.value)
		if err != nil {
			return false, fmt.Errorf("search term %q: %q is neither a date (YYYY-MM-DD) nor an RFC 3339 time", t.raw, t.value)
		}
		end := day.AddDate(0, 0, 1)
		switch t.op {
		case ">":
			return !have.Before(end), nil
		case ">=":
			return !have.Before(day), nil
		case "<":
			return have.Before(day), nil
		case "<=":
			return have.Before(end), nil
		}
		return !have.Before(day) && have.Before(end), nil
	}
}

// compare applies a comparator to the result c of comparing have with want.
func compare(c int, op string) bool {
	switch op {
	case ">=":
		return c >= 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case "<":
		return c < 0
	}
	return c == 0
}

// customerSearch are the customers(query:) fields of 2025-01.
var customerSearch = map[string]searchField[*Customer]{
	"email": func(c *Customer, t searchTerm) (bool, error) {
		if t.value == "*" && t.op == "" {
			return c.Email != "", nil
		}
		return exact(func(c *Customer) string { return c.Email })(c, t)
	},
	"phone":      exact(func(c *Customer) string { return c.Phone }),
	"id":         idField(func(c *Customer) int64 { return c.ID }),
	"updated_at": timeField(func(c *Customer) time.Time { return c.UpdatedAt }),
}

// orderSearch are the orders(query:) fields the fake evaluates.
var orderSearch = map[string]searchField[*Order]{
	"tag": func(o *Order, t searchTerm) (bool, error) { return hasTag(o.Tags, t.value), nil },
	"tag_not": func(o *Order, t searchTerm) (bool, error) {
		return !hasTag(o.Tags, t.value), nil
	},
	"id":           idField(func(o *Order) int64 { return o.ID }),
	"customer_id":  idField(func(o *Order) int64 { return o.CustomerID }),
	"email":        exact(func(o *Order) string { return o.Email }),
	"created_at":   timeField(func(o *Order) time.Time { return o.CreatedAt }),
	"processed_at": timeField(func(o *Order) time.Time { return o.ProcessedAt }),
}

// sortBy orders items by the sort key given (a schema enum value: the
// time it sorts by, zero for ID), ties by id, and returns where each item
// sits in that order, for cursors; keys the fake does not model are an
// error.
func sortBy[T any](items []T, key string, keys map[string]func(T) time.Time, id func(T) int64) (func(T) place, error) {
	at := keys[key]
	if at == nil {
		return nil, fmt.Errorf("sort key %s is not modelled by the fake; it sorts by %s", key, strings.Join(slices.Sorted(maps.Keys(keys)), ", "))
	}
	placeOf := func(x T) place { return place{at: at(x), id: id(x)} }
	slices.SortStableFunc(items, func(a, b T) int { return placeOf(a).compare(placeOf(b)) })
	return placeOf, nil
}

// byID sorts by id only.
func byID[T any](T) time.Time { return time.Time{} }

var customerSorts = map[string]func(*Customer) time.Time{
	"ID":         byID[*Customer],
	"CREATED_AT": func(c *Customer) time.Time { return c.CreatedAt },
	"UPDATED_AT": func(c *Customer) time.Time { return c.UpdatedAt },
}

var orderSorts = map[string]func(*Order) time.Time{
	"ID":           byID[*Order],
	"CREATED_AT":   func(o *Order) time.Time { return o.CreatedAt },
	"PROCESSED_AT": func(o *Order) time.Time { return o.ProcessedAt },
}

var segmentSorts = map[string]func(*segment) time.Time{
	"ID":             byID[*segment],
	"CREATION_DATE":  func(g *segment) time.Time { return g.created },
	"LAST_EDIT_DATE": func(g *segment) time.Time { return g.lastEditted },
}
