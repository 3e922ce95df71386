package gid_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/shopcrm/shopcrm/gid"
)

// FuzzParse feeds GIDs of any type (seeds in testdata/fuzz/FuzzParse: ids
// of every resource the platforms send, with query suffixes, bad numbers,
// other apps' GIDs). Parse fails only with *gid.Error; an accepted id is
// valid, formats back to its input, and decodes from JSON to itself.
func FuzzParse(f *testing.F) {
	f.Add("gid://shopify/Customer/7012345678901")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := gid.Parse(s)
		var want gid.ID
		uerr := want.UnmarshalText([]byte(s))
		if err != nil {
			var e *gid.Error
			if !errors.As(err, &e) || uerr == nil {
				t.Fatalf("Parse(%q): %T %v; UnmarshalText: %v", s, err, err, uerr)
			}
			return
		}
		if uerr != nil || want != id {
			t.Fatalf("UnmarshalText(%q) = %v, %v; Parse gave %v", s, want, uerr, id)
		}
		if !id.Valid() || id.String() != s {
			t.Fatalf("Parse(%q) = %v", s, id)
		}
		b, err := json.Marshal(id)
		if err != nil {
			t.Fatal(err)
		}
		var back gid.ID
		if err := json.Unmarshal(b, &back); err != nil || back != id {
			t.Fatalf("JSON %s = %v, %v", b, back, err)
		}
	})
}
