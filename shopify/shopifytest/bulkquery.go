package shopifytest

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// bulkNode is an object of a bulk query with the model it comes from, so
// that its nested connections can be listed.
type bulkNode struct {
	o     *obj
	cust  *Customer
	order *Order
}

// runBulkQuery runs a bulk query against the state and returns its JSONL.
func (s *Server) runBulkQuery(query string) (out []byte, roots, objects int64, err error) {
	doc, gerrs := gqlparser.LoadQuery(s.schema, query)
	if len(gerrs) > 0 {
		return nil, 0, 0, fmt.Errorf("Invalid bulk query: %s", gerrs[0].Message)
	}
	if len(doc.Operations) != 1 || doc.Operations[0].Operation != ast.Query {
		return nil, 0, 0, errors.New("Invalid bulk query: the document must hold one query")
	}
	op := doc.Operations[0]
	if len(op.VariableDefinitions) > 0 {
		return nil, 0, 0, errors.New("Invalid bulk query: bulk queries take no variables")
	}
	conns, depth := 0, 0
	countConnections(op.SelectionSet, 0, &conns, &depth)
	switch {
	case conns == 0:
		return nil, 0, 0, errors.New("Bulk queries must contain at least one connection.")
	case conns > maxBulkConnections:
		return nil, 0, 0, fmt.Errorf("Bulk queries cannot contain more than %d connections.", maxBulkConnections)
	case depth > maxBulkNesting:
		return nil, 0, 0, fmt.Errorf("Bulk queries cannot contain connections with a nesting depth greater than %d.", maxBulkNesting)
	}
	var buf jsonl
	root := bulkNode{o: s.queryRoot()}
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok || !isConnection(f) {
			return nil, 0, 0, errors.New("Invalid bulk query: every top-level field must be a connection")
		}
		if f.Name == "node" || f.Name == "nodes" {
			return nil, 0, 0, errors.New("Invalid bulk query: the top-level node and nodes fields can't be used")
		}
		n, err := s.bulkConnection(&buf, root, f, "", &objects)
		if err != nil {
			return nil, 0, 0, err
		}
		roots += n
	}
	return buf.bytes(), roots, objects, nil
}

// jsonl collects a bulk result in pieces and joins them once: a result
// of hundreds of megabytes grown by doubling would be copied and cleared
// again at every step.
type jsonl struct {
	done [][]byte
	cur  []byte
	size int
}

const jsonlPiece = 4 << 20

// line appends one object's JSON and a newline.
func (j *jsonl) line(o *ordered) error {
	if cap(j.cur)-len(j.cur) < 64<<10 && len(j.cur) > 0 {
		j.done = append(j.done, j.cur)
		j.cur = nil
	}
	if j.cur == nil {
		j.cur = make([]byte, 0, jsonlPiece)
	}
	b, err := o.appendJSON(j.cur)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	j.size += len(b) - len(j.cur)
	j.cur = b
	return nil
}

func (j *jsonl) bytes() []byte {
	out := make([]byte, 0, j.size)
	for _, p := range j.done {
		out = append(out, p...)
	}
	return append(out, j.cur...)
}

func isConnection(f *ast.Field) bool {
	return f.Definition != nil && strings.HasSuffix(f.Definition.Type.Name(), "Connection")
}

func countConnections(ss ast.SelectionSet, level int, n, depth *int) {
	for _, sel := range ss {
		switch x := sel.(type) {
		case *ast.Field:
			l := level
			if isConnection(x) {
				*n++
				l++
				*depth = max(*depth, l)
			}
			countConnections(x.SelectionSet, l, n, depth)
		case *ast.InlineFragment:
			countConnections(x.SelectionSet, level, n, depth)
		case *ast.FragmentSpread:
			countConnections(x.Definition.SelectionSet, level, n, depth)
		}
	}
}

// nodeSelection returns the selection of one node of connection field f:
// edges { node { ... } } or nodes { ... }.
func nodeSelection(f *ast.Field) (ast.SelectionSet, error) {
	var out ast.SelectionSet
	for _, sel := range f.SelectionSet {
		g, ok := sel.(*ast.Field)
		if !ok {
			return nil, fmt.Errorf("%s: fragments on a connection are not modelled by the fake", f.Name)
		}
		switch g.Name {
		case "nodes":
			out = append(out, g.SelectionSet...)
		case "edges":
			for _, s2 := range g.SelectionSet {
				h, ok := s2.(*ast.Field)
				if !ok || h.Name != "node" {
					return nil, fmt.Errorf("%s.edges: only node is read in a bulk query", f.Name)
				}
				out = append(out, h.SelectionSet...)
			}
		default:
			return nil, fmt.Errorf("%s.%s: a bulk query reads only edges { node } or nodes of a connection", f.Name, g.Name)
		}
	}
	return out, nil
}

// bulkConnection writes every node of connection f under parent, then
// their nested connections, and returns how many nodes it wrote.
func (s *Server) bulkConnection(buf *jsonl, parent bulkNode, f *ast.Field, parentID string, objects *int64) (int64, error) {
	args := f.ArgumentMap(nil)
	for _, a := range []string{"after", "before", "last"} {
		if args[a] != nil {
			return 0, fmt.Errorf("%s(%s:): pagination arguments are not used in bulk queries", f.Name, a)
		}
	}
	nodes, err := s.bulkChildren(parent, f.Name, args)
	if err != nil {
		return 0, err
	}
	sel, err := nodeSelection(f)
	if err != nil {
		return 0, err
	}
	var flat ast.SelectionSet
	var nested []*ast.Field
	for _, x := range sel {
		if g, ok := x.(*ast.Field); ok && isConnection(g) {
			nested = append(nested, g)
			continue
		}
		flat = append(flat, x)
	}
	for _, n := range nodes {
		e := &executor{}
		row := e.selection(flat, n.o, nil)
		if len(e.errors) > 0 {
			return 0, errors.New(e.errors[0].Message)
		}
		id, _ := n.o.get("id", nil)
		if parentID != "" {
			row.set("__parentId", parentID)
		}
		if err := buf.line(row); err != nil {
			return 0, err
		}
		*objects++
		for _, g := range nested {
			if _, err := s.bulkConnection(buf, n, g, str(id), objects); err != nil {
				return 0, err
			}
		}
	}
	return int64(len(nodes)), nil
}

// bulkChildren lists the nodes of the connection field under parent that
// the fake's bulk queries model.
// customerOrders indexes the orders by customer, ascending by id, once
// per change to the orders (AddOrder drops it): a bulk query reads every
// customer's orders and every order's journey, which a scan per customer
// or per order would make quadratic. The caller holds s.mu.
func (s *Server) customerOrders() map[int64][]*Order {
	if s.byCustomer == nil {
		s.byCustomer = map[int64][]*Order{}
		for _, o := range sortedValues(s.orders) {
			s.byCustomer[o.CustomerID] = append(s.byCustomer[o.CustomerID], o)
		}
	}
	return s.byCustomer
}

func (s *Server) bulkChildren(parent bulkNode, field string, args map[string]any) ([]bulkNode, error) {
	switch {
	case parent.o.typ == "QueryRoot" && field == "customers":
		list, err := filter("customers", str(args["query"]), customerSearch, sortedValues(s.customers))
		if err == nil {
			_, err = sortBy(list, str(args["sortKey"]), customerSorts, func(c *Customer) int64 { return c.ID })
		}
		out := make([]bulkNode, len(list))
		for i, c := range list {
			out[i] = bulkNode{o: customerObj(c), cust: c}
		}
		return out, err
	case parent.o.typ == "QueryRoot" && field == "orders":
		list, err := filter("orders", str(args["query"]), orderSearch, slices.DeleteFunc(sortedValues(s.orders), func(o *Order) bool { return !s.readable(o) }))
		if err == nil {
			_, err = sortBy(list, str(args["sortKey"]), orderSorts, func(o *Order) int64 { return o.ID })
		}
		return s.orderNodes(list), err
	case parent.cust != nil && field == "orders":
		var list []*Order
		for _, o := range s.customerOrders()[parent.cust.ID] {
			if s.readable(o) {
				list = append(list, o)
			}
		}
		list, err := filter("orders", str(args["query"]), orderSearch, list)
		if err == nil {
			_, err = sortBy(list, cmpOr(str(args["sortKey"]), "ID"), orderSorts, func(o *Order) int64 { return o.ID })
		}
		return s.orderNodes(list), err
	case parent.order != nil && field == "lineItems":
		o := parent.order
		out := make([]bulkNode, len(o.LineItems))
		for i := range o.LineItems {
			out[i] = bulkNode{o: lineItemObj(o, i)}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s.%s: this connection is not modelled by the fake's bulk queries", parent.o.typ, field)
}

func (s *Server) orderNodes(list []*Order) []bulkNode {
	out := make([]bulkNode, len(list))
	for i, o := range list {
		base := s.orderObj(o)
		current := fields("MoneyBag", map[string]any{"shopMoney": moneyObj(o.Total), "presentmentMoney": moneyObj(o.Total)})
		out[i] = bulkNode{order: o, o: &obj{typ: "Order", get: func(f string, a map[string]any) (any, error) {
			if f == "currentTotalPriceSet" {
				return current, nil // the fake models no refunds: the current total is the total
			}
			return base.get(f, a)
		}}}
	}
	return out
}
