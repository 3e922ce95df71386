package klaviyo_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// seedPerson stores a profile with every identifier, in a list and a
// segment, with one event naming its email; and a bystander in both.
func seedPerson(srv *klaviyotest.Server) (id, other, list, seg string) {
	id = srv.AddProfile(klaviyo.ProfileInput{Email: "aiko@example.com", PhoneNumber: "+819012345678", ExternalID: "c-1"})
	other = srv.AddProfile(klaviyo.ProfileInput{Email: "ken@example.com"})
	list = srv.AddList("VIP", "")
	srv.AddListMembers(list, id, other)
	seg = srv.AddSegment("Buyers", id, other)
	srv.AddEvent("Placed Order", id, time.Now().Add(-time.Hour), map[string]any{"Email": "aiko@example.com",
		"Items": []any{"A1"}, "Contact": map[string]any{"phone": "+819012345678", "shop": "Tokyo"}})
	srv.AddEvent("Placed Order", other, time.Now().Add(-time.Hour), map[string]any{"Email": "ken@example.com"})
	return id, other, list, seg
}

func TestRequestDeletion(t *testing.T) {
	for name, who := range map[string]func(id string) klaviyo.ProfileIdentifier{
		"by email": func(string) klaviyo.ProfileIdentifier { return klaviyo.ProfileIdentifier{Email: "Aiko@Example.com"} },
		"by id":    func(id string) klaviyo.ProfileIdentifier { return klaviyo.ProfileIdentifier{ID: id} },
		"by phone": func(string) klaviyo.ProfileIdentifier { return klaviyo.ProfileIdentifier{PhoneNumber: "+819012345678"} },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t)
			ctx := context.Background()
			id, other, list, seg := seedPerson(srv)
			r, err := c.Profiles.RequestDeletion(ctx, who(id))
			if err != nil || r.Status != http.StatusAccepted {
				t.Fatalf("%+v %v", r, err)
			}
			// Klaviyo deletes asynchronously: the profile is still there.
			if _, ok := srv.Profile(id); !ok || srv.PendingDeletions() != 1 {
				t.Fatalf("deleted before the job ran (pending %d)", srv.PendingDeletions())
			}
			srv.Advance(time.Second)
			if _, ok := srv.Profile(id); ok || srv.PendingDeletions() != 0 {
				t.Fatal("profile still there after the job ran")
			}
			if _, ok := srv.ProfileIDByEmail("aiko@example.com"); ok {
				t.Error("the email still names a profile")
			}
			if _, _, err := c.Profiles.Get(ctx, id, false); !errors.Is(err, klaviyo.ErrNotFound) {
				t.Errorf("get after deletion: %v", err)
			}
			gone := srv.DeletedProfiles()
			want := []klaviyotest.DeletedProfile{{ID: id, Email: "aiko@example.com", PhoneNumber: "+819012345678", ExternalID: "c-1"}}
			if diff := cmp.Diff(want, gone, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".DeletedAt" }, cmp.Ignore())); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
			if members, _ := srv.ListMembers(list); !cmp.Equal(members, []string{other}) {
				t.Errorf("list members %v", members)
			}
			var segMembers []string
			for p, err := range c.Segments.Members(ctx, seg, klaviyo.MemberOptions{}) {
				if err != nil {
					t.Fatal(err)
				}
				segMembers = append(segMembers, p.ID)
			}
			if !cmp.Equal(segMembers, []string{other}) {
				t.Errorf("segment members %v", segMembers)
			}
			// The events stay, unlinked and redacted; the bystander's are
			// untouched.
			var read []klaviyo.EventRecord
			for e, err := range c.Events.Since(ctx, klaviyo.EventQuery{}) {
				if err != nil {
					t.Fatal(err)
				}
				read = append(read, e)
			}
			if len(read) != 2 {
				t.Fatalf("%d events", len(read))
			}
			wantProps := map[string]any{"Email": "redacted", "Items": []any{"A1"}, "Contact": map[string]any{"phone": "redacted", "shop": "Tokyo"}}
			for _, e := range read {
				switch e.ProfileID {
				case "":
					if diff := cmp.Diff(wantProps, e.Properties); diff != "" {
						t.Errorf("deleted profile's event (-want +got):\n%s", diff)
					}
				case other:
					if e.Properties["Email"] != "ken@example.com" {
						t.Errorf("bystander's event %v", e.Properties)
					}
				default:
					t.Errorf("event linked to %s", e.ProfileID)
				}
			}
		})
	}
}

// TestRequestDeletionOfNobody: a request naming no profile is accepted and
// deletes nothing.
func TestRequestDeletionOfNobody(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, klaviyotest.WithJobDuration(0))
	id, _, _, _ := seedPerson(srv)
	for _, who := range []klaviyo.ProfileIdentifier{{Email: "nobody@example.com"}, {ID: "01KNOSUCHPROFILE"}, {PhoneNumber: "+15005550006"}} {
		if r, err := c.Profiles.RequestDeletion(context.Background(), who); err != nil || r.Status != http.StatusAccepted {
			t.Fatalf("%+v: %+v %v", who, r, err)
		}
	}
	if _, ok := srv.Profile(id); !ok || len(srv.DeletedProfiles()) != 0 || len(srv.Profiles()) != 2 {
		t.Errorf("deleted %v", srv.DeletedProfiles())
	}
}

func TestRequestDeletionRefusesBadInput(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	for name, tc := range map[string]struct {
		who   klaviyo.ProfileIdentifier
		field string
	}{
		"none":        {klaviyo.ProfileIdentifier{}, "ProfileIdentifier"},
		"two":         {klaviyo.ProfileIdentifier{Email: "a@example.com", PhoneNumber: "+15005550006"}, "ProfileIdentifier"},
		"id and mail": {klaviyo.ProfileIdentifier{ID: "01K0", Email: "a@example.com"}, "ProfileIdentifier"},
		"bad id":      {klaviyo.ProfileIdentifier{ID: "01K/0"}, "ProfileIdentifier.ID"},
		"bad email":   {klaviyo.ProfileIdentifier{Email: "Aiko Sato"}, "ProfileIdentifier.Email"},
		"bad phone":   {klaviyo.ProfileIdentifier{PhoneNumber: "090-1234-5678"}, "ProfileIdentifier.PhoneNumber"},
	} {
		r, err := c.Profiles.RequestDeletion(context.Background(), tc.who)
		var ie *klaviyo.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || !errors.Is(err, klaviyo.ErrInvalidInput) || r != nil {
			t.Errorf("%s: %v, want an *InputError on %s", name, err, tc.field)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestRequestDeletionRetried: a 503 and a lost answer (the job accepted,
// the answer gone) are retried, and the profile is deleted once.
func TestRequestDeletionRetried(t *testing.T) {
	for name, f := range map[string]klaviyotest.Fault{
		"503":           {Op: string(klaviyo.EndpointRequestDeletion), Kind: shopcrmtest.FaultStatus, Status: http.StatusServiceUnavailable},
		"lost response": {Op: string(klaviyo.EndpointRequestDeletion), Kind: shopcrmtest.FaultLostResponse},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, c := setup(t, klaviyotest.WithFaults(f))
			id, other, _, _ := seedPerson(srv)
			r, err := c.Profiles.RequestDeletion(context.Background(), klaviyo.ProfileIdentifier{Email: "aiko@example.com"})
			if err != nil || r.Status != http.StatusAccepted {
				t.Fatalf("%+v %v", r, err)
			}
			var sent []int
			for _, rq := range srv.Requests() {
				if rq.Op == string(klaviyo.EndpointRequestDeletion) {
					sent = append(sent, rq.Status)
				}
			}
			if len(sent) != 2 || sent[1] != http.StatusAccepted {
				t.Errorf("statuses %v, want a fault then 202", sent)
			}
			srv.Advance(time.Second)
			if gone := srv.DeletedProfiles(); len(gone) != 1 || gone[0].ID != id {
				t.Errorf("deleted %+v", gone)
			}
			if ps := srv.Profiles(); len(ps) != 1 || ps[0].ID != other {
				t.Errorf("left %+v", ps)
			}
		})
	}
}

// TestDeletionJobsRunInOrder: a deletion and an import of the same person,
// both pending, run in the order they were accepted: deleted then
// imported anew, or imported then deleted.
func TestDeletionJobsRunInOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, deleteFirst := range []bool{true, false} {
		srv, c := setup(t, klaviyotest.WithJobDuration(time.Hour))
		id := srv.AddProfile(klaviyo.ProfileInput{Email: "aiko@example.com"})
		del := func() {
			if _, err := c.Profiles.RequestDeletion(ctx, klaviyo.ProfileIdentifier{Email: "aiko@example.com"}); err != nil {
				t.Fatal(err)
			}
		}
		if deleteFirst {
			del()
		}
		// Sent raw, as Import would wait the hour the job stays queued.
		imp := map[string]any{"data": map[string]any{"type": "profile-bulk-import-job", "attributes": map[string]any{"profiles": map[string]any{
			"data": []any{map[string]any{"type": "profile", "attributes": map[string]any{"email": "aiko@example.com", "first_name": "Aiko"}}}}}}}
		if _, err := c.Do(ctx, &klaviyo.RawRequest{Method: http.MethodPost, Path: "/api/profile-bulk-import-jobs", Body: imp,
			Endpoint: klaviyo.EndpointImportProfiles}, nil); err != nil {
			t.Fatal(err)
		}
		if !deleteFirst {
			del()
		}
		srv.Advance(2 * time.Hour)
		newID, exists := srv.ProfileIDByEmail("aiko@example.com")
		if exists != deleteFirst || (exists && newID == id) || len(srv.DeletedProfiles()) != 1 {
			t.Errorf("delete first %v: profile %q exists %v, deleted %v", deleteFirst, newID, exists, srv.DeletedProfiles())
		}
	}
}

// TestDeletedProfilesEventsStillCount: aggregates keep counting the
// deleted profile's events, and as one profile.
func TestDeletedProfilesEventsStillCount(t *testing.T) {
	t.Parallel()
	srv, c := setup(t, klaviyotest.WithJobDuration(0))
	ctx := context.Background()
	id := srv.AddProfile(klaviyo.ProfileInput{Email: "aiko@example.com"})
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	srv.AddEvent(klaviyo.MetricReceivedEmail, id, at, nil)
	srv.AddEvent(klaviyo.MetricReceivedEmail, id, at.Add(time.Minute), nil)
	metric, _ := srv.MetricID(klaviyo.MetricReceivedEmail)
	q := klaviyo.AggregateQuery{MetricID: metric, From: at.Truncate(24 * time.Hour), To: at.Truncate(24 * time.Hour).Add(24 * time.Hour)}
	before, _, err := c.Metrics.Aggregate(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Profiles.RequestDeletion(ctx, klaviyo.ProfileIdentifier{ID: id}); err != nil {
		t.Fatal(err)
	}
	after, _, err := c.Metrics.Aggregate(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" || after.Count[0] != 2 || after.Unique[0] != 1 {
		t.Errorf("aggregate %+v, changed by the deletion (-before +after):\n%s", after, diff)
	}
}

// TestFakeRefusesBadDeletions sends what the client would refuse, raw:
// the fake answers 400 pointing at the field.
func TestFakeRefusesBadDeletions(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t)
	c := srv.Client(klaviyo.WithEndpointLimit(klaviyo.EndpointRequestDeletion, klaviyo.Limit{}))
	job := func(profile map[string]any) map[string]any {
		return map[string]any{"data": map[string]any{"type": "data-privacy-deletion-job",
			"attributes": map[string]any{"profile": map[string]any{"data": profile}}}}
	}
	for name, tc := range map[string]struct {
		body    any
		pointer string
	}{
		"two identifiers": {job(map[string]any{"type": "profile", "attributes": map[string]any{"email": "a@example.com", "phone_number": "+15005550006"}}), "/data/attributes/profile/data"},
		"id and email":    {job(map[string]any{"type": "profile", "id": "01K0", "attributes": map[string]any{"email": "a@example.com"}}), "/data/attributes/profile/data"},
		"none":            {job(map[string]any{"type": "profile", "attributes": map[string]any{}}), "/data/attributes/profile/data"},
		"external id":     {job(map[string]any{"type": "profile", "attributes": map[string]any{"external_id": "c-1"}}), "/data/attributes/profile/data/attributes/external_id"},
		"bad email":       {job(map[string]any{"type": "profile", "attributes": map[string]any{"email": "aiko"}}), "/data/attributes/profile/data/attributes/email"},
		"bad phone":       {job(map[string]any{"type": "profile", "attributes": map[string]any{"phone_number": "0901234"}}), "/data/attributes/profile/data/attributes/phone_number"},
		"not a profile":   {job(map[string]any{"type": "list", "attributes": map[string]any{"email": "a@example.com"}}), "/data/attributes/profile/data/type"},
		"no profile":      {map[string]any{"data": map[string]any{"type": "data-privacy-deletion-job", "attributes": map[string]any{}}}, "/data/attributes/profile"},
		"wrong type":      {map[string]any{"data": map[string]any{"type": "deletion", "attributes": map[string]any{}}}, "/data/type"},
	} {
		_, err := c.Do(context.Background(), &klaviyo.RawRequest{Method: http.MethodPost, Path: "/api/data-privacy-deletion-jobs",
			Body: tc.body, Endpoint: klaviyo.EndpointRequestDeletion}, nil)
		var ae *klaviyo.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || len(ae.Errors) != 1 || ae.Errors[0].Source == nil || ae.Errors[0].Source.Pointer != tc.pointer {
			t.Errorf("%s: %v, want 400 at %s", name, err, tc.pointer)
		}
	}
	if srv.PendingDeletions() != 0 {
		t.Error("a refused request was accepted")
	}
}

// TestChaosDeletionsOnce requests deletions by id, email and phone number
// against a fake that drops connections, loses answers after acting, and
// answers 503, 429 and truncated bodies, at fixed seeds. Between reruns
// new people arrive and more of them ask to be deleted; each rerun sends
// every request not yet answered 202 and replays some that were. What is
// left (profiles, list members) and the deletion record must equal a
// fault-free run of the final requests: each person deleted once, nobody
// else touched.
func TestChaosDeletionsOnce(t *testing.T) {
	type person struct{ email, phone string }
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 7))
			srv, _ := setup(t, klaviyotest.WithChaos(seed, 0.3, chaosKinds...))
			c := srv.Client(klaviyo.WithRetryPolicy(fast), klaviyo.WithEndpointLimit(klaviyo.EndpointRequestDeletion, klaviyo.Limit{}))
			ctx := context.Background()
			list := srv.AddList("News", "")
			var people []person
			var ids []string
			arrive := func(n int) {
				for range n {
					i := len(people)
					p := person{fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("+1500555%04d", i)}
					people = append(people, p)
					ids = append(ids, srv.AddProfile(klaviyo.ProfileInput{Email: p.email, PhoneNumber: p.phone}))
					srv.AddListMembers(list, ids[i])
				}
			}
			var asks []klaviyo.ProfileIdentifier
			asked := map[int]bool{}
			ask := func(n int) {
				for range n {
					i := rng.IntN(len(people))
					if asked[i] {
						continue
					}
					asked[i] = true
					switch rng.IntN(3) {
					case 0:
						asks = append(asks, klaviyo.ProfileIdentifier{ID: ids[i]})
					case 1:
						asks = append(asks, klaviyo.ProfileIdentifier{Email: people[i].email})
					default:
						asks = append(asks, klaviyo.ProfileIdentifier{PhoneNumber: people[i].phone})
					}
				}
			}
			arrive(60)
			ask(25)
			var done []bool
			for round := 0; ; round++ {
				if round == 20 {
					t.Fatal("not all accepted after 20 rounds")
				}
				done = append(done, make([]bool, len(asks)-len(done))...)
				for i, who := range asks {
					if done[i] && rng.IntN(4) != 0 {
						continue
					}
					if _, err := c.Profiles.RequestDeletion(ctx, who); err == nil {
						done[i] = true
					}
				}
				if !slices.Contains(done, false) && round >= 2 {
					break
				}
				if round < 3 { // new people, new requests
					arrive(10)
					ask(8)
				}
			}
			srv.Advance(time.Second)

			clean, _ := setup(t, klaviyotest.WithJobDuration(0))
			cleanList := clean.AddList("News", "")
			for i, p := range people {
				if id := clean.AddProfile(klaviyo.ProfileInput{Email: p.email, PhoneNumber: p.phone}); id != ids[i] {
					t.Fatalf("ids differ: %s, %s", id, ids[i])
				}
				clean.AddListMembers(cleanList, ids[i])
			}
			cc := clean.Client(klaviyo.WithEndpointLimit(klaviyo.EndpointRequestDeletion, klaviyo.Limit{}))
			for _, who := range asks {
				if _, err := cc.Profiles.RequestDeletion(ctx, who); err != nil {
					t.Fatal(err)
				}
			}
			state := func(s *klaviyotest.Server, list string) (left, members, deleted []string) {
				for _, p := range s.Profiles() {
					left = append(left, p.Email)
				}
				members, _ = s.ListMembers(list)
				for _, d := range s.DeletedProfiles() {
					deleted = append(deleted, d.Email)
				}
				slices.Sort(members)
				slices.Sort(deleted)
				return left, members, deleted
			}
			wl, wm, wd := state(clean, cleanList)
			gl, gm, gd := state(srv, list)
			if len(wd) != len(asks) {
				t.Fatalf("fault-free run deleted %d of %d", len(wd), len(asks))
			}
			for what, d := range map[string]string{"profiles": cmp.Diff(wl, gl), "members": cmp.Diff(wm, gm), "deleted": cmp.Diff(wd, gd)} {
				if d != "" {
					t.Errorf("%s differ from a fault-free run (-want +got):\n%s", what, d)
				}
			}
			lost := 0
			for _, rq := range srv.Requests() {
				if rq.Op == string(klaviyo.EndpointRequestDeletion) && rq.Fault == shopcrmtest.FaultLostResponse {
					lost++
				}
			}
			if lost == 0 {
				t.Error("no deletion acted with its answer lost")
			}
		})
	}
}
