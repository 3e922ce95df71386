package klaviyo_test

import (
	"context"
	"testing"

	"github.com/shopcrm/shopcrm/klaviyo"
)

// GET /api/segments filters on is_active (any, equals) and is_starred
// (equals) too (SPEC filter description); the fake answers them.
func TestSegmentFilters(t *testing.T) {
	srv, c := setup(t)
	id := srv.AddSegment("VIP")
	ctx := context.Background()
	for _, tc := range []struct {
		f    klaviyo.Filter
		want int
	}{
		{klaviyo.Filter{klaviyo.Equals("is_active", true)}, 1},
		{klaviyo.Filter{klaviyo.Any("is_active", false)}, 0},
		{klaviyo.Filter{klaviyo.Equals("is_starred", false), klaviyo.Equals("name", "VIP")}, 1},
		{klaviyo.Filter{klaviyo.Equals("is_starred", true)}, 0},
	} {
		n := 0
		for s, err := range c.Segments.All(ctx, tc.f) {
			if err != nil {
				t.Fatalf("%s: %v", tc.f, err)
			}
			if s.ID != id {
				t.Errorf("%s: segment %s", tc.f, s.ID)
			}
			n++
		}
		if n != tc.want {
			t.Errorf("%s: %d segments, want %d", tc.f, n, tc.want)
		}
	}
}
