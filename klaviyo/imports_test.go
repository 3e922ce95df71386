package klaviyo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shopcrm/shopcrm/klaviyo"
)

func TestImportChunksAtExactCount(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	ctx := context.Background()
	mk := func(n, from int) []klaviyo.ProfileInput {
		out := make([]klaviyo.ProfileInput, n)
		for i := range out {
			out[i] = klaviyo.ProfileInput{ExternalID: fmt.Sprint(from + i), Properties: map[string]any{"n": from + i}}
		}
		return out
	}
	applied(t, "10000")(c.Profiles.Import(ctx, mk(10000, 0), klaviyo.ImportOptions{}))
	if n := requests(srv, klaviyo.EndpointImportProfiles); n != 1 {
		t.Errorf("10,000 profiles: %d jobs, want 1", n)
	}
	applied(t, "10001")(c.Profiles.Import(ctx, mk(10001, 5000), klaviyo.ImportOptions{}))
	if n := requests(srv, klaviyo.EndpointImportProfiles); n != 3 {
		t.Errorf("then 10,001 profiles: %d jobs in all, want 3", n)
	}
	if n := len(srv.Profiles()); n != 15001 {
		t.Errorf("%d profiles, want 15001", n)
	}
}

func TestImportChunksAtFiveMegabytes(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	ctx := context.Background()
	// 5 MB: profiles of about 90 KB each, 56 of them fit in a job.
	big := strings.Repeat("x", 90<<10)
	heavy := make([]klaviyo.ProfileInput, 60)
	for i := range heavy {
		heavy[i] = klaviyo.ProfileInput{Email: fmt.Sprintf("h%d@example.com", i), Properties: map[string]any{"blob": big}}
	}
	applied(t, "heavy")(c.Profiles.Import(ctx, heavy, klaviyo.ImportOptions{}))
	if n := requests(srv, klaviyo.EndpointImportProfiles); n != 2 {
		t.Errorf("60 profiles of 90 KB: %d jobs, want 2", n)
	}
	// One profile over 100 KB fails alone, before sending.
	res, err := c.Profiles.Import(ctx, []klaviyo.ProfileInput{{Email: "huge@example.com", Properties: map[string]any{"blob": big + big}},
		{Email: "ok@example.com"}}, klaviyo.ImportOptions{})
	if err != nil || res[0].Outcome != klaviyo.Failed || !errors.Is(res[0].Err, klaviyo.ErrInvalidInput) || res[1].Outcome != klaviyo.Applied {
		t.Errorf("oversized profile: %+v %v", res, err)
	}
}

func TestImportReportsPerProfileErrors(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	a := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	srv.AddProfile(klaviyo.ProfileInput{ExternalID: "x-1"})
	list := srv.AddList("Imported", "")
	res, err := c.Profiles.Import(ctx, []klaviyo.ProfileInput{
		{Email: "a@example.com", FirstName: "A"},
		{ID: "01KNOSUCHPROFILE"},
		{Email: "a@example.com", ExternalID: "x-1"}, // two profiles: a conflict
		{Email: "new@example.com"},
	}, klaviyo.ImportOptions{ListID: list})
	if err != nil {
		t.Fatal(err)
	}
	want := []klaviyo.Outcome{klaviyo.Applied, klaviyo.Failed, klaviyo.Failed, klaviyo.Applied}
	for i, r := range res {
		if r.Outcome != want[i] {
			t.Errorf("item %d: %v %v, want %v", i, r.Outcome, r.Err, want[i])
		}
	}
	var ie *klaviyo.ImportError
	if !errors.As(res[1].Err, &ie) || !errors.Is(res[1].Err, klaviyo.ErrProfileNotFound) || !errors.Is(res[2].Err, klaviyo.ErrDuplicateProfile) {
		t.Errorf("errors: %v / %v", res[1].Err, res[2].Err)
	}
	members, _ := srv.ListMembers(list)
	if len(members) != 2 || members[0] != a {
		t.Errorf("list members %v", members)
	}
	if p, _ := srv.Profile(a); p.FirstName != "A" {
		t.Errorf("imported attributes not applied: %+v", p)
	}
	if _, err := c.Profiles.Import(ctx, []klaviyo.ProfileInput{{Email: "a@example.com", Clear: []klaviyo.ProfileField{klaviyo.FieldTitle}}}, klaviyo.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestImportJobStates(t *testing.T) {
	srv, c := setup(t)
	srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	ctx := context.Background()
	res, err := c.Profiles.Import(ctx, []klaviyo.ProfileInput{{Email: "a@example.com"}}, klaviyo.ImportOptions{})
	allApplied(t, "import", res, err)
	// Polled at least until complete; queued and processing were seen on
	// the way (the job takes 20 ms, polled every 5 ms).
	if n := requests(srv, klaviyo.EndpointGetImportJob); n < 2 {
		t.Errorf("%d polls", n)
	}
}

// TestUpdateOnlyNeverCreates checks, in the fake's state, that an
// update-only import creates no profile, even when a profile it found
// disappears before the job runs, and that a property the caller no longer
// sends (nil) is left alone.
func TestUpdateOnlyNeverCreates(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	a := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com", Properties: map[string]any{"ltv": 10, "legacy_score": 7}})
	b := srv.AddProfile(klaviyo.ProfileInput{ExternalID: "cust-2"})
	srv.AddProfile(klaviyo.ProfileInput{PhoneNumber: "+15005550006"})
	before := len(srv.Profiles())
	in := []klaviyo.ProfileInput{
		{Email: "A@example.com", Properties: map[string]any{"ltv": 20, "legacy_score": nil}},
		{Email: "nobody@example.com", Properties: map[string]any{"ltv": 1}},
		{ExternalID: "cust-2", Properties: map[string]any{"ltv": 30}},
		{PhoneNumber: "+15005550009", Properties: map[string]any{"ltv": 40}},
		{ID: "01KNOSUCHPROFILE", Properties: map[string]any{"ltv": 50}},
	}
	res, err := c.Profiles.Import(ctx, in, klaviyo.ImportOptions{UpdateOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []klaviyo.Outcome{klaviyo.Applied, klaviyo.Failed, klaviyo.Applied, klaviyo.Failed, klaviyo.Failed}
	for i, r := range res {
		if r.Outcome != want[i] || (r.Outcome == klaviyo.Failed && !errors.Is(r.Err, klaviyo.ErrProfileNotFound)) {
			t.Errorf("item %d: %v %v", i, r.Outcome, r.Err)
		}
	}
	if n := len(srv.Profiles()); n != before {
		t.Errorf("%d profiles after an update-only import, want %d", n, before)
	}
	pa, _ := srv.Profile(a)
	if fmt.Sprint(pa.Properties["ltv"]) != "20" || fmt.Sprint(pa.Properties["legacy_score"]) != "7" {
		t.Errorf("a: %v (legacy_score must stay)", pa.Properties)
	}
	if pb, _ := srv.Profile(b); fmt.Sprint(pb.Properties["ltv"]) != "30" {
		t.Errorf("b: %v", pb.Properties)
	}
	if _, err := c.Profiles.Import(ctx, []klaviyo.ProfileInput{{Email: "a@example.com", Patch: &klaviyo.PatchProperties{Unset: []string{"ltv"}}}},
		klaviyo.ImportOptions{UpdateOnly: true}); err != nil {
		t.Fatal(err)
	} else if pa, _ := srv.Profile(a); pa.Properties["ltv"] == nil {
		t.Error("an update-only import unset a property")
	}
	if n := len(srv.Profiles()); n != before {
		t.Errorf("%d profiles, want %d", n, before)
	}
}
