package shopcrmtest_test

import (
	"testing"

	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// TestFaultTableEveryFake checks that each fake carried out every scripted
// fault of the shared table and counted it the same way.
func TestFaultTableEveryFake(t *testing.T) {
	for _, f := range faultTable {
		t.Run(f.String(), func(t *testing.T) {
			shopErr, lineErr, shopStats, lineStats := call(f)
			for _, fk := range []struct {
				name string
				err  error
				st   shopcrmtest.Stats
				op   string
			}{{"shopify", shopErr, shopStats, "customer"}, {"line", lineErr, lineStats, "push"}} {
				st, op := fk.st, fk.st.Ops[fk.op]
				hits := max(f.Times, 1)
				if fk.err == nil {
					// The client got past the faults: each was one attempt, then one
					// more went through.
					if st.Faults != hits || st.Requests != hits+1 || st.Accepted != 1 {
						t.Errorf("%s: succeeded with stats %+v, want %d faults", fk.name, st, hits)
					}
				} else if st.Faults != st.Requests || st.Accepted != 0 || st.Faults > hits {
					// The client gave up: every attempt met a fault.
					t.Errorf("%s: %v with stats %+v", fk.name, fk.err, st)
				}
				if op.Requests != st.Requests || op.Faults != st.Faults || op.Accepted != st.Accepted {
					t.Errorf("%s: op %q counts %+v, totals %+v", fk.name, fk.op, op, st)
				}
			}
		})
	}
}
