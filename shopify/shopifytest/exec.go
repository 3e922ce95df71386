package shopifytest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// obj is a GraphQL object during execution: its type name and a resolver
// for its fields.
type obj struct {
	typ string
	get func(field string, args map[string]any) (any, error)
}

// fields returns a resolver serving values from a map; function values are
// called with the field's arguments.
func fields(typ string, m map[string]any) *obj {
	return &obj{typ: typ, get: func(f string, args map[string]any) (any, error) {
		v, ok := m[f]
		if !ok {
			return nil, fmt.Errorf("field %s.%s is not served by the fake", typ, f)
		}
		if fn, ok := v.(func(map[string]any) (any, error)); ok {
			return fn(args)
		}
		return v, nil
	}}
}

// ordered is a JSON object that keeps its keys in selection order.
type ordered struct {
	keys []string
	vals []any
}

func (o *ordered) set(k string, v any) {
	for i, have := range o.keys {
		if have == k {
			o.vals[i] = v
			return
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

// MarshalJSON writes the keys in order.
func (o *ordered) MarshalJSON() ([]byte, error) { return o.appendJSON(nil) }

// appendJSON appends o's JSON to b. It writes objects and lists itself and
// only leaves through encoding/json: a bulk export writes hundreds of
// thousands of rows, and a MarshalJSON per object would have each nested
// object's output compacted again by its parent's encoder.
func (o *ordered) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendValue(b, k); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = appendValue(b, o.vals[i]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case *ordered:
		if x == nil {
			return append(b, "null"...), nil
		}
		return x.appendJSON(b)
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	}
	vb, err := json.Marshal(v)
	return append(b, vb...), err
}

// gqlErr is one entry of errors[].
type gqlErr struct {
	Message    string         `json:"message"`
	Locations  []loc          `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type loc struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

type executor struct {
	vars   map[string]any
	errors []gqlErr
}

func (e *executor) selection(ss ast.SelectionSet, o *obj, path []any) *ordered {
	out := &ordered{}
	e.collect(ss, o, path, out)
	return out
}

func (e *executor) collect(ss ast.SelectionSet, o *obj, path []any, out *ordered) {
	for _, sel := range ss {
		switch s := sel.(type) {
		case *ast.Field:
			key := responseKey(s)
			if s.Name == "__typename" {
				out.set(key, o.typ)
				continue
			}
			p := append(append([]any(nil), path...), key)
			args := s.ArgumentMap(e.vars)
			err := checkInputArrays(args)
			var v any
			if err == nil {
				v, err = o.get(s.Name, args)
			}
			if err != nil {
				e.errors = append(e.errors, gqlErr{Message: err.Error(), Path: p,
					Locations: []loc{{s.Position.Line, s.Position.Column}}})
				out.set(key, nil)
				continue
			}
			out.set(key, e.complete(v, s.SelectionSet, p))
		case *ast.InlineFragment:
			if s.TypeCondition == "" || matches(s.TypeCondition, o.typ) {
				e.collect(s.SelectionSet, o, path, out)
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && matches(s.Definition.TypeCondition, o.typ) {
				e.collect(s.Definition.SelectionSet, o, path, out)
			}
		}
	}
}

// MaxInputArray is the most elements Shopify takes in one input array
// (an argument or a list inside an input object), such as the tags of a
// tagsAdd; a longer one is an error on the field.
const MaxInputArray = 250

// checkInputArrays refuses an argument holding a list longer than
// MaxInputArray, at any depth. The wording is the fake's own.
func checkInputArrays(v any) error {
	switch t := v.(type) {
	case map[string]any:
		for _, x := range t {
			if err := checkInputArrays(x); err != nil {
				return err
			}
		}
	case []any:
		if len(t) > MaxInputArray {
			return fmt.Errorf("The input array size of %d is greater than the maximum allowed of %d.", len(t), MaxInputArray)
		}
		for _, x := range t {
			if err := checkInputArrays(x); err != nil {
				return err
			}
		}
	}
	return nil
}

// matches reports whether an object of type typ satisfies a type
// condition: its own name or an interface every served object implements.
func matches(cond, typ string) bool {
	return cond == typ || cond == "Node"
}

func (e *executor) complete(v any, ss ast.SelectionSet, path []any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case *obj:
		if x == nil {
			return nil
		}
		return e.selection(ss, x, path)
	case []*obj:
		out := make([]any, len(x))
		for i, o := range x {
			out[i] = e.selection(ss, o, append(append([]any(nil), path...), i))
		}
		return out
	default:
		return v
	}
}

// cost computes Shopify's requested cost of an operation: scalars and enums
// 0, objects 1, connections 2 + first x the cost of one node, mutations 10
// per top-level field. actual, when given, replaces a connection's first
// with the number of nodes it returned.
func cost(schema *ast.Schema, op *ast.OperationDefinition, vars map[string]any) (int, error) {
	if op.Operation == ast.Mutation {
		n := 0
		for _, sel := range op.SelectionSet {
			n += countFields(sel)
		}
		return 10 * n, nil
	}
	return selCost(schema, op.SelectionSet, vars)
}

func countFields(sel ast.Selection) int {
	switch s := sel.(type) {
	case *ast.Field:
		if s.Name == "__typename" {
			return 0
		}
		return 1
	case *ast.InlineFragment:
		n := 0
		for _, x := range s.SelectionSet {
			n += countFields(x)
		}
		return n
	case *ast.FragmentSpread:
		n := 0
		for _, x := range s.Definition.SelectionSet {
			n += countFields(x)
		}
		return n
	}
	return 0
}

func selCost(schema *ast.Schema, ss ast.SelectionSet, vars map[string]any) (int, error) {
	total := 0
	for _, sel := range ss {
		var c int
		var err error
		switch s := sel.(type) {
		case *ast.Field:
			c, err = fieldCost(schema, s, vars)
		case *ast.InlineFragment:
			c, err = selCost(schema, s.SelectionSet, vars)
		case *ast.FragmentSpread:
			c, err = selCost(schema, s.Definition.SelectionSet, vars)
		}
		if err != nil {
			return 0, err
		}
		total += c
	}
	return total, nil
}

func fieldCost(schema *ast.Schema, f *ast.Field, vars map[string]any) (int, error) {
	if f.Definition == nil || f.Name == "__typename" {
		return 0, nil
	}
	name := f.Definition.Type.Name()
	def := schema.Types[name]
	if def == nil || def.Kind == ast.Scalar || def.Kind == ast.Enum {
		return 0, nil
	}
	if strings.HasSuffix(name, "Connection") {
		args := f.ArgumentMap(vars)
		n, ok := intArg(args["first"])
		if !ok {
			n, ok = intArg(args["last"])
		}
		if !ok {
			return 0, fmt.Errorf("you must provide one of first or last")
		}
		child, err := nodeCost(schema, f.SelectionSet, vars)
		if err != nil {
			return 0, err
		}
		return 2 + n*child, nil
	}
	c, err := selCost(schema, f.SelectionSet, vars)
	return 1 + c, err
}

// nodeCost is the cost of one node of a connection: the largest of its
// nodes { } and edges { node { } } selections.
func nodeCost(schema *ast.Schema, ss ast.SelectionSet, vars map[string]any) (int, error) {
	best := 0
	for _, sel := range ss {
		f, ok := sel.(*ast.Field)
		if !ok {
			continue
		}
		var c int
		var err error
		switch f.Name {
		case "nodes":
			c, err = selCost(schema, f.SelectionSet, vars)
			c++
		case "edges":
			for _, s2 := range f.SelectionSet {
				if g, ok := s2.(*ast.Field); ok && g.Name == "node" {
					c, err = selCost(schema, g.SelectionSet, vars)
					c++
				}
			}
		}
		if err != nil {
			return 0, err
		}
		best = max(best, c)
	}
	return max(best, 1), nil
}

func intArg(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		return int(x), true
	case json.Number:
		n, err := x.Int64()
		return int(n), err == nil
	}
	return 0, false
}

// actualCost recomputes a query's cost from what it returned: a
// connection costs 2 + (nodes returned) x the cost of a node instead of
// 2 + first x that. Shopify refunds the difference to the bucket.
func actualCost(schema *ast.Schema, op *ast.OperationDefinition, vars map[string]any, data *ordered, requested int) int {
	if op.Operation == ast.Mutation || data == nil {
		return requested
	}
	return actualSel(schema, op.SelectionSet, vars, data)
}

func (o *ordered) get(k string) any {
	for i, have := range o.keys {
		if have == k {
			return o.vals[i]
		}
	}
	return nil
}

func actualSel(schema *ast.Schema, ss ast.SelectionSet, vars map[string]any, data *ordered) int {
	total := 0
	for _, sel := range ss {
		switch s := sel.(type) {
		case *ast.Field:
			total += actualField(schema, s, vars, data.get(responseKey(s)))
		case *ast.InlineFragment:
			total += actualSel(schema, s.SelectionSet, vars, data)
		case *ast.FragmentSpread:
			total += actualSel(schema, s.Definition.SelectionSet, vars, data)
		}
	}
	return total
}

func actualField(schema *ast.Schema, f *ast.Field, vars map[string]any, val any) int {
	requested, err := fieldCost(schema, f, vars)
	if err != nil || requested == 0 {
		return requested
	}
	conn, ok := val.(*ordered)
	if !ok || !strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		if ok {
			return 1 + actualSel(schema, f.SelectionSet, vars, conn)
		}
		return requested
	}
	// Each node returned costs what its own selection returned, nested
	// connections included; nodes { } and edges { node { } } count once.
	best := 0
	for _, sel := range f.SelectionSet {
		g, ok := sel.(*ast.Field)
		if !ok || g.Name != "nodes" && g.Name != "edges" {
			continue
		}
		items, _ := conn.get(responseKey(g)).([]any)
		total := 0
		for _, it := range items {
			total += itemCost(schema, g, vars, it)
		}
		best = max(best, total)
	}
	return 2 + best
}

// itemCost is the actual cost of one entry of a connection's nodes or
// edges list g.
func itemCost(schema *ast.Schema, g *ast.Field, vars map[string]any, it any) int {
	o, _ := it.(*ordered)
	if o == nil {
		return 1
	}
	if g.Name == "nodes" {
		return 1 + actualSel(schema, g.SelectionSet, vars, o)
	}
	for _, sel := range g.SelectionSet {
		if h, ok := sel.(*ast.Field); ok && h.Name == "node" {
			if n, ok := o.get(responseKey(h)).(*ordered); ok {
				return 1 + actualSel(schema, h.SelectionSet, vars, n)
			}
		}
	}
	return 1
}

// responseKey is the key of a field in the response: its alias or name.
func responseKey(f *ast.Field) string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Name
}
