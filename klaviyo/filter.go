package klaviyo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Operator is a filter operator of Klaviyo's filter syntax.
type Operator string

// The operators the client builds.
const (
	OpEquals         Operator = "equals"
	OpAny            Operator = "any"
	OpGreaterThan    Operator = "greater-than"
	OpLessThan       Operator = "less-than"
	OpGreaterOrEqual Operator = "greater-or-equal"
	OpLessOrEqual    Operator = "less-or-equal"
	OpHas            Operator = "has"
)

// Condition is one term of a filter: an operator on a field and its
// values. Build it with [Equals], [Any], [GreaterThan] and the others.
type Condition struct {
	Op     Operator
	Field  string
	Values []any // strings, time.Time, integers, bools; none for OpHas
}

// Equals is equals(field,v).
func Equals(field string, v any) Condition { return Condition{OpEquals, field, []any{v}} }

// Any is any(field,[v1,v2,…]): the field equals one of vs.
func Any[T any](field string, vs ...T) Condition {
	c := Condition{Op: OpAny, Field: field}
	for _, v := range vs {
		c.Values = append(c.Values, v)
	}
	return c
}

// GreaterThan is greater-than(field,v).
func GreaterThan(field string, v any) Condition { return Condition{OpGreaterThan, field, []any{v}} }

// LessThan is less-than(field,v).
func LessThan(field string, v any) Condition { return Condition{OpLessThan, field, []any{v}} }

// GreaterOrEqual is greater-or-equal(field,v).
func GreaterOrEqual(field string, v any) Condition {
	return Condition{OpGreaterOrEqual, field, []any{v}}
}

// LessOrEqual is less-or-equal(field,v).
func LessOrEqual(field string, v any) Condition { return Condition{OpLessOrEqual, field, []any{v}} }

// Has is has(field), e.g. has(profile) on events.
func Has(field string) Condition { return Condition{Op: OpHas, Field: field} }

// Filter is conditions that must all hold (Klaviyo's comma, an implicit
// and). Each endpoint allows some operators on some fields only; the
// client refuses any other combination before sending, naming the term.
type Filter []Condition

// String is the filter in Klaviyo's syntax, e.g.
// equals(email,"a@example.com"),greater-than(updated,2026-01-01T00:00:00Z).
func (f Filter) String() string {
	s, _ := f.encode()
	return s
}

func (f Filter) encode() (string, error) {
	terms := make([]string, 0, len(f))
	for i, c := range f {
		t, err := c.encode()
		if err != nil {
			return "", invalid(fmt.Sprintf("Filter[%d]", i), c.Field, "%v", err)
		}
		terms = append(terms, t)
	}
	return strings.Join(terms, ","), nil
}

func (c Condition) encode() (string, error) {
	switch c.Op {
	case OpHas:
		if len(c.Values) != 0 {
			return "", fmt.Errorf("has takes no value")
		}
		return "has(" + c.Field + ")", nil
	case OpAny:
		if len(c.Values) == 0 {
			return "", fmt.Errorf("any needs at least one value")
		}
		vs := make([]string, len(c.Values))
		for i, v := range c.Values {
			s, err := literal(v)
			if err != nil {
				return "", err
			}
			vs[i] = s
		}
		return "any(" + c.Field + ",[" + strings.Join(vs, ",") + "])", nil
	}
	if len(c.Values) != 1 {
		return "", fmt.Errorf("%s takes one value", c.Op)
	}
	v, err := literal(c.Values[0])
	if err != nil {
		return "", err
	}
	return string(c.Op) + "(" + c.Field + "," + v + ")", nil
}

// literal writes a value: strings in double quotes (single quotes when the
// text holds a double quote; Klaviyo documents no escape), times unquoted
// in RFC 3339, numbers and booleans as they are.
func literal(v any) (string, error) {
	switch v := v.(type) {
	case string:
		switch {
		case !strings.Contains(v, `"`):
			return `"` + v + `"`, nil
		case !strings.Contains(v, `'`):
			return `'` + v + `'`, nil
		}
		return "", fmt.Errorf("a string holding both quote characters cannot be written")
	case time.Time:
		return formatTime(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", fmt.Errorf("unsupported value type %T", v)
}

// filterRules is what one endpoint allows: operators per field.
type filterRules map[string][]Operator

var (
	cmpOps  = []Operator{OpGreaterOrEqual, OpGreaterThan, OpLessOrEqual, OpLessThan}
	eqAny   = []Operator{OpAny, OpEquals}
	onlyEq  = []Operator{OpEquals}
	gtLt    = []Operator{OpGreaterThan, OpLessThan}
	gtOnly  = []Operator{OpGreaterThan}
	hasOnly = []Operator{OpHas}
)

// The allowed fields and operators of each endpoint's filter, from the
// spec's parameter descriptions (revision 2026-07-15).
var (
	profileRules = filterRules{
		"id": eqAny, "email": eqAny, "phone_number": eqAny, "external_id": eqAny, "_kx": onlyEq,
		"created": gtLt, "updated": gtLt,
		"subscriptions.email.marketing.list_suppressions.reason":    onlyEq,
		"subscriptions.email.marketing.list_suppressions.timestamp": cmpOps,
		"subscriptions.email.marketing.list_suppressions.list_id":   onlyEq,
		"subscriptions.email.marketing.suppression.reason":          onlyEq,
		"subscriptions.email.marketing.suppression.timestamp":       cmpOps,
	}
	memberRules = filterRules{
		"email": eqAny, "phone_number": eqAny, "push_token": eqAny, "_kx": onlyEq, "joined_group_at": cmpOps,
	}
	eventRules = filterRules{
		"metric_id": onlyEq, "profile_id": onlyEq, "profile": hasOnly, "metric": hasOnly,
		"datetime": cmpOps, "timestamp": cmpOps,
	}
	metricRules        = filterRules{"integration.name": onlyEq, "integration.category": onlyEq}
	listRules          = filterRules{"name": eqAny, "id": eqAny, "created": gtOnly, "updated": gtOnly}
	segmentMemberRules = filterRules{
		"profile_id": eqAny, "email": eqAny, "phone_number": eqAny, "push_token": eqAny, "_kx": onlyEq, "joined_group_at": cmpOps,
	}
)

// check refuses a term the endpoint does not allow.
func (r filterRules) check(f Filter) error {
	for i, c := range f {
		ops, ok := r[c.Field]
		if !ok {
			fields := make([]string, 0, len(r))
			for k := range r {
				fields = append(fields, k)
			}
			slices.Sort(fields)
			return invalid(fmt.Sprintf("Filter[%d]", i), c.Field, "this endpoint filters only on %s", strings.Join(fields, ", "))
		}
		if !slices.Contains(ops, c.Op) {
			return invalid(fmt.Sprintf("Filter[%d]", i), string(c.Op)+"("+c.Field+")", "%s takes only %v", c.Field, ops)
		}
	}
	return nil
}

// apply checks f against r and sets the filter query parameter.
func (r filterRules) apply(q map[string][]string, f Filter) error {
	if len(f) == 0 {
		return nil
	}
	if err := r.check(f); err != nil {
		return err
	}
	s, err := f.encode()
	if err != nil {
		return err
	}
	q["filter"] = []string{s}
	return nil
}
