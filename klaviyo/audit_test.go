package klaviyo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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

// A job Klaviyo cancelled after it imported some profiles did not fail
// all of them: the profiles it names no error for may have been imported,
// so they are Unknown, not Failed. A job cancelled before it processed any
// profile failed them all.
func TestImportCancelledJob(t *testing.T) {
	for _, done := range []int{0, 2} {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.api+json")
			fmt.Fprintf(w, `{"data":{"type":"profile-bulk-import-job","id":"J1","attributes":{"status":"cancelled","total_count":3,"completed_count":%d,"failed_count":0}}}`, done)
		}))
		c, err := klaviyo.New(klaviyo.PrivateKey("pk_test"), klaviyo.WithBaseURL(hs.URL), klaviyo.WithRetryPolicy(fast),
			klaviyo.WithPollInterval(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Profiles.Import(context.Background(), []klaviyo.ProfileInput{{Email: "a@example.com"}, {Email: "b@example.com"}, {Email: "c@example.com"}}, klaviyo.ImportOptions{})
		hs.Close()
		if err != nil {
			t.Fatal(err)
		}
		want := klaviyo.Failed
		if done > 0 {
			want = klaviyo.Unknown
		}
		for _, r := range res {
			if r.Outcome != want || r.Err == nil {
				t.Errorf("%d processed: profile %d: %v %v, want %v", done, r.Index, r.Outcome, r.Err, want)
			}
			if !errors.Is(r.Err, klaviyo.ErrImportCancelled) {
				t.Errorf("profile %d: %v does not match ErrImportCancelled", r.Index, r.Err)
			}
		}
	}
}
