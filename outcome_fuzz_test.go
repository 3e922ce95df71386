package shopcrm_test

import (
	"encoding/json"
	"testing"

	"github.com/shopcrm/shopcrm"
)

// FuzzOutcomeText feeds the outcome names stored in send records (seeds
// in testdata/fuzz/FuzzOutcomeText). A name decodes only to one of the
// four outcomes and encodes back to itself, in JSON too.
func FuzzOutcomeText(f *testing.F) {
	f.Add([]byte("applied"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var o shopcrm.Outcome
		if err := o.UnmarshalText(b); err != nil {
			return
		}
		if o < shopcrm.Applied || o > shopcrm.NotSent {
			t.Fatalf("%q decoded to %v", b, o)
		}
		back, err := o.MarshalText()
		if err != nil || string(back) != string(b) {
			t.Fatalf("%q → %v → %q, %v", b, o, back, err)
		}
		j, _ := json.Marshal(o)
		var again shopcrm.Outcome
		if err := json.Unmarshal(j, &again); err != nil || again != o {
			t.Fatalf("JSON %s → %v, %v", j, again, err)
		}
	})
}
