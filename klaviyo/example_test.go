package klaviyo_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
)

// Creating a profile that exists answers 409 duplicate_profile with the
// existing profile's id: update that one instead.
func Example_duplicateProfile() {
	srv := klaviyotest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	srv.AddProfile(klaviyo.ProfileInput{Email: "aiko@example.com"})

	_, _, err := c.Profiles.Create(ctx, klaviyo.ProfileInput{Email: "aiko@example.com", FirstName: "Aiko"})
	var ae *klaviyo.APIError
	if errors.Is(err, klaviyo.ErrDuplicateProfile) && errors.As(err, &ae) {
		id, _ := ae.DuplicateProfileID()
		p, _, err := c.Profiles.Update(ctx, klaviyo.ProfileInput{ID: id, FirstName: "Aiko"})
		fmt.Println(p.Email, p.FirstName, err)
	}
	// Output:
	// aiko@example.com Aiko <nil>
}

// Loyalty events carry a unique_id derived from what happened (here the
// order), so sending them again records nothing twice.
func ExampleLoyalty() {
	srv := klaviyotest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	member := klaviyo.Loyalty{Member: klaviyo.ProfileInput{Email: "aiko@example.com"}, Points: 120, Balance: 480, SetBalance: true,
		Tier: "gold", OrderID: "1001", At: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	events := []klaviyo.Event{member.PointsEarned(), member.VIPTierReached()}
	for range 2 { // a replay
		if _, err := c.Events.BulkCreate(ctx, events); err != nil {
			fmt.Println(err)
		}
	}
	for _, e := range srv.Events() {
		fmt.Println(e.Metric, e.Properties)
	}
	id, _ := srv.ProfileIDByEmail("aiko@example.com")
	p, _ := srv.Profile(id)
	fmt.Println(p.Properties[klaviyo.PropPointsBalance], p.Properties[klaviyo.PropTier])
	// Output:
	// Loyalty Points Earned map[order_id:1001 points:120 points_balance:480]
	// Loyalty VIP Tier Reached map[points_balance:480 previous_tier: tier:gold]
	// 480 gold
}

// An update-only import writes computed properties back to the profiles
// that exist and creates none.
func ExampleProfilesService_Import_updateOnly() {
	srv := klaviyotest.NewServer(klaviyotest.WithJobDuration(10 * time.Millisecond))
	defer srv.Close()
	c := srv.Client(klaviyo.WithPollInterval(5 * time.Millisecond))
	srv.AddProfile(klaviyo.ProfileInput{Email: "aiko@example.com"})

	res, err := c.Profiles.Import(context.Background(), []klaviyo.ProfileInput{
		{Email: "aiko@example.com", Properties: map[string]any{"ltv": 320}},
		{Email: "ghost@example.com", Properties: map[string]any{"ltv": 10}},
	}, klaviyo.ImportOptions{UpdateOnly: true})
	for _, r := range res {
		fmt.Println(r.Index, r.Outcome, errors.Is(r.Err, klaviyo.ErrProfileNotFound))
	}
	fmt.Println(len(srv.Profiles()), "profile(s), error:", err)
	// Output:
	// 0 applied false
	// 1 failed true
	// 1 profile(s), error: <nil>
}

// Members of a list with their consent and suppressions, every page.
func ExampleListsService_Members() {
	srv := klaviyotest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	list := srv.AddList("Newsletter", klaviyo.SingleOptIn)
	_, _ = c.Subscriptions.Subscribe(ctx, klaviyo.SubscribeRequest{ListID: list, Profiles: []klaviyo.Subscriber{
		{Email: "a@example.com", Channels: klaviyo.Channels{Email: true}}, {Email: "b@example.com", Channels: klaviyo.Channels{Email: true}}}})
	b, _ := srv.ProfileIDByEmail("b@example.com")
	srv.SuppressProfile(b, klaviyo.SuppressionHardBounce)

	for p, err := range c.Lists.Members(ctx, list, klaviyo.MemberOptions{Subscriptions: true}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		e := p.Subscriptions.Email
		fmt.Println(p.Email, e.Consent, e.CanReceive, e.Suppressed(klaviyo.SuppressionHardBounce))
	}
	// Output:
	// a@example.com SUBSCRIBED true false
	// b@example.com SUBSCRIBED false true
}

// Filters are checked against what the endpoint allows before sending.
func ExampleFilter() {
	f := klaviyo.Filter{klaviyo.Any("email", "a@example.com", "b@example.com"),
		klaviyo.GreaterThan("updated", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	fmt.Println(f)

	c, _ := klaviyo.New(klaviyo.PrivateKey("pk_example"))
	for _, err := range c.Profiles.List(context.Background(), klaviyo.ProfileListOptions{Filter: klaviyo.Filter{klaviyo.GreaterThan("email", "a")}}) {
		fmt.Println(err)
	}
	// Output:
	// any(email,["a@example.com","b@example.com"]),greater-than(updated,2026-01-01T00:00:00Z)
	// invalid Filter[0] "greater-than(email)": email takes only [any equals]
}

// A GDPR or CCPA erasure: Klaviyo accepts the deletion at once and carries
// it out later, after which the profile is gone from its lists and the
// account's Deleted Profiles page records it.
func ExampleProfilesService_RequestDeletion() {
	srv := klaviyotest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	id := srv.AddProfile(klaviyo.ProfileInput{Email: "aiko@example.com"})
	list := srv.AddList("Newsletter", "")
	srv.AddListMembers(list, id)

	r, err := c.Profiles.RequestDeletion(ctx, klaviyo.ProfileIdentifier{Email: "aiko@example.com"})
	fmt.Println(r.Status, err)
	_, found := srv.ProfileIDByEmail("aiko@example.com")
	fmt.Println("right after the request:", found)

	srv.Advance(klaviyotest.DefaultJobDuration) // the job runs
	_, found = srv.ProfileIDByEmail("aiko@example.com")
	members, _ := srv.ListMembers(list)
	fmt.Println("after the job:", found, len(members), srv.DeletedProfiles()[0].Email)

	_, err = c.Profiles.RequestDeletion(ctx, klaviyo.ProfileIdentifier{Email: "aiko@example.com", PhoneNumber: "+819012345678"})
	fmt.Println(errors.Is(err, klaviyo.ErrInvalidInput))
	// Output:
	// 202 <nil>
	// right after the request: true
	// after the job: false 0 aiko@example.com
	// true
}
