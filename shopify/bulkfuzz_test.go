package shopify_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/shopcrm/shopcrm/shopify"
)

// FuzzDecodeBulkRows feeds arbitrary bytes to the JSONL row decoder: it
// must never panic; every row it yields either fails Decode with a
// *BulkFormatError or is a JSON object whose id and __parentId are the
// row's; every child must name its parent; and any error must be a
// *BulkFormatError. The seed corpus is in
// testdata/fuzz/FuzzDecodeBulkRows.
func FuzzDecodeBulkRows(f *testing.F) {
	f.Add([]byte(`{"id":"gid://shopify/Customer/1","tags":[]}` + "\n" + `{"id":"gid://shopify/Order/2","__parentId":"gid://shopify/Customer/1"}` + "\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var check func(r *shopify.BulkRow)
		check = func(r *shopify.BulkRow) {
			var m map[string]json.RawMessage
			if err := r.Decode(&m); err != nil {
				// A line placed without decoding: Decode must report it.
				var fe *shopify.BulkFormatError
				var te *json.UnmarshalTypeError
				if !errors.As(err, &fe) && !errors.As(err, &te) {
					t.Fatalf("Decode of %q: %T %v", r.Data, err, err)
				}
				return
			}
			var head struct{ ID, ParentID string }
			_ = json.Unmarshal(m["id"], &head.ID)
			_ = json.Unmarshal(m["__parentId"], &head.ParentID)
			if dupKeys(r.Data) {
				return // a key written twice: either value is defensible
			}
			if head.ID != r.ID || head.ParentID != r.ParentID {
				t.Fatalf("row %q read as id %q parent %q", r.Data, r.ID, r.ParentID)
			}
			for _, ch := range r.Children {
				if ch.ParentID != r.ID {
					t.Fatalf("child %q under %q", ch.ParentID, r.ID)
				}
				check(ch)
			}
		}
		for row, err := range shopify.DecodeBulkRows(bytes.NewReader(in), 4096) {
			if err != nil {
				var fe *shopify.BulkFormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %T %v", err, err)
				}
				return
			}
			if row.ParentID != "" {
				t.Fatalf("root row with parent %q", row.ParentID)
			}
			check(row)
		}
	})
}

// dupKeys reports whether a top-level key of the object appears twice.
func dupKeys(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		k, _ := tok.(string)
		if seen[k] {
			return true
		}
		seen[k] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}
