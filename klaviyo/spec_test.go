package klaviyo_test

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/shopcrm/shopcrm/internal/testshared"
	"github.com/shopcrm/shopcrm/klaviyo"
)

// TestLimitsFromTheSpec checks every endpoint's default limits, and the
// default revision, against the official spec's x-klaviyo-ratelimit and
// revision parameter, so that none is invented or goes stale.
func TestLimitsFromTheSpec(t *testing.T) {
	b, err := os.ReadFile(testshared.Path(t, "specs/klaviyo/stable.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	type op struct {
		ID    string `json:"operationId"`
		Limit struct {
			Burst  string `json:"burst"`
			Steady string `json:"steady"`
		} `json:"x-klaviyo-ratelimit"`
		Parameters []struct {
			Name   string `json:"name"`
			Schema struct {
				Default any `json:"default"`
			} `json:"schema"`
		} `json:"parameters"`
	}
	ops := map[string]op{}
	for _, methods := range spec.Paths {
		for _, raw := range methods {
			var o op
			if json.Unmarshal(raw, &o) == nil && o.ID != "" {
				ops[o.ID] = o
			}
		}
	}
	count := func(s, unit string) int {
		n, err := strconv.Atoi(strings.TrimSuffix(s, unit))
		if err != nil || !strings.HasSuffix(s, unit) {
			t.Fatalf("unreadable limit %q", s)
		}
		return n
	}
	revisions := 0
	for e, got := range klaviyo.DefaultLimits() {
		if e == klaviyo.EndpointRaw {
			continue
		}
		o, ok := ops[string(e)]
		if !ok {
			t.Errorf("%s: no such operationId in the spec", e)
			continue
		}
		want := klaviyo.Limit{Burst: count(o.Limit.Burst, "/s"), Steady: count(o.Limit.Steady, "/m")}
		if got != want {
			t.Errorf("%s: default %+v, spec %+v", e, got, want)
		}
		for _, p := range o.Parameters {
			if p.Name == "revision" {
				revisions++
				if p.Schema.Default != klaviyo.DefaultRevision {
					t.Errorf("%s: revision %v in the spec, client %s", e, p.Schema.Default, klaviyo.DefaultRevision)
				}
			}
		}
	}
	if want := len(klaviyo.DefaultLimits()) - 1; revisions != want {
		t.Errorf("%d operations name the revision, want %d", revisions, want)
	}
}
