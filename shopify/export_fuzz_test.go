package shopify_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/shopify"
)

// FuzzDecodeExport feeds bulk result files (seeds in
// testdata/fuzz/FuzzDecodeExport: customer and order exports and bulk
// mutation results in the shape Shopify writes them, and broken ones) to
// the row decoders of the exports and of bulk mutations. Each decoder
// either fails with an error matching ErrMalformedResponse or returns a
// value that keeps every child of the row (orders, line items) and, for a
// mutation line, its line number and only non-nil errors.
func FuzzDecodeExport(f *testing.F) {
	f.Add([]byte(`{"id":"gid://shopify/Customer/1","tags":[]}` + "\n"))
	f.Fuzz(func(t *testing.T, jsonl []byte) {
		for row, err := range shopify.DecodeBulkRows(bytes.NewReader(jsonl), 1<<16) {
			if err != nil {
				if !errors.Is(err, shopify.ErrMalformedResponse) {
					t.Fatalf("untyped %T %v", err, err)
				}
				return
			}
			malformed := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, shopify.ErrMalformedResponse) {
					t.Fatalf("%s of %s: untyped %T %v", what, row.Data, err, err)
				}
			}
			if c, err := shopify.DecodeExportedCustomer(row); err != nil {
				malformed("customer", err)
			} else {
				if len(c.Orders) != len(row.Children) {
					t.Fatalf("customer %s: %d orders of %d children", c.ID, len(c.Orders), len(row.Children))
				}
				for _, o := range c.Orders {
					if o.Tags == nil {
						t.Fatalf("order %s: nil tags", o.ID)
					}
				}
				id, _ := gid.ParseAs(c.ID, gid.Customer)
				if s, err := c.Segment(); err == nil && (s.ID != id || len(s.Orders) != len(c.Orders)) {
					t.Fatalf("segment input %+v of customer %+v", s, c)
				}
			}
			if o, err := shopify.DecodeExportedOrder(row); err != nil {
				malformed("order", err)
			} else if len(o.LineItems) != len(row.Children) {
				t.Fatalf("order %s: %d line items of %d children", o.ID, len(o.LineItems), len(row.Children))
			}
			if l, err := shopify.DecodeBulkMutationLine(row); err != nil {
				malformed("mutation line", err)
			} else {
				for _, e := range l.Errors {
					if e == nil {
						t.Fatalf("line %d: nil error", l.Line)
					}
				}
			}
		}
	})
}
