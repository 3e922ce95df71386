package tagging

import "testing"

// Parse returns substrings of its input, so it allocates nothing; Plan
// allocates only for the change it returns.
func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts in -short mode")
	}
	s, err := NewSchema(WithRules(Rule{At: 3, Tag: "3回目購入"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range parseCorpus(20) {
		if n := testing.AllocsPerRun(100, func() { got, _ := s.Parse(tag); sink += len(got.Value) }); n != 0 {
			t.Errorf("Parse(%q) allocates %.0f times", tag, n)
		}
	}
	cs := customerChunk(1, 9) // customers 1-9 are unchanged
	for _, c := range cs {
		n := testing.AllocsPerRun(100, func() {
			ch, err := s.Plan(c.id, c.current, c.desired)
			if err != nil || !ch.Empty() {
				t.Fatalf("Plan(%s) = %+v, %v; want no change", c.id, ch, err)
			}
		})
		if n != 0 {
			t.Errorf("Plan of an unchanged customer allocates %.0f times", n)
		}
	}
}
