package tagging

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A Schema is shared by every goroutine of a program: using it from many at
// once must give the same results as using it from one.
func TestSchemaConcurrentUse(t *testing.T) {
	s, err := NewSchema(WithRules(Rule{At: 3, Tag: "3回目購入"}))
	if err != nil {
		t.Fatal(err)
	}
	cs := customerChunk(0, 50)
	tags := parseCorpus(200)
	type result struct {
		Changes []Change
		Tags    []Tag
		Applied []Change
	}
	run := func() result {
		var r result
		for _, c := range cs {
			ch, err := s.Plan(c.id, c.current, c.desired)
			if err != nil {
				t.Error(err)
			}
			r.Changes = append(r.Changes, ch)
			ch, err = s.Apply(c.id, c.current, OrderPlaced{Contract: c.desired[0][len("subscription-") : len("subscription-")+10], Count: 3})
			if err != nil {
				t.Error(err)
			}
			r.Applied = append(r.Applied, ch)
		}
		for _, tag := range tags {
			p, err := s.Parse(tag)
			if err != nil {
				t.Error(err)
			}
			r.Tags = append(r.Tags, p)
		}
		return r
	}
	want := run()
	var wg sync.WaitGroup
	results := make([]result, 4)
	for i := range results {
		wg.Go(func() { results[i] = run() })
	}
	wg.Wait()
	for i, got := range results {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("goroutine %d mismatch (-want +got):\n%s", i, diff)
		}
	}
}
