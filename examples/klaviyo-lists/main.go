// Command klaviyo-lists (W3) keeps a Klaviyo list equal to a Shopify
// segment, so Klaviyo flows and campaigns can target it: customers who
// carry the segment's tag and are missing from the list are imported into
// it (a profile is created for a new email), and profiles in the list
// whose customer left the segment are removed from the list, never
// unsubscribed: their consent stays as it was. A second run finds nothing
// to do.
package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "klaviyo-lists:", err)
		os.Exit(1)
	}
}

// The segment's tag in Shopify and the list that mirrors it in Klaviyo.
const (
	segmentTag = "ecp-repeat"
	listName   = "Repeat buyers"
)

func run(ctx context.Context) error {
	store := shopifytest.NewServer()
	defer store.Close()
	crm := klaviyotest.NewServer(klaviyotest.WithJobDuration(0))
	defer crm.Close()
	store.AddCustomer(shopifytest.Customer{Email: "ann@example.com", Tags: []string{segmentTag}})
	store.AddCustomer(shopifytest.Customer{Email: "bo@example.com", Tags: []string{segmentTag, "line"}})
	store.AddCustomer(shopifytest.Customer{Email: "cy@example.com"}) // left the segment
	bo := crm.AddProfile(klaviyo.ProfileInput{Email: "bo@example.com"})
	cy := crm.AddProfile(klaviyo.ProfileInput{Email: "cy@example.com"})
	crm.AddListMembers(crm.AddList(listName, klaviyo.SingleOptIn), bo, cy)

	shop, esp := store.Client(), crm.Client()
	for run := 1; run <= 2; run++ {
		if err := mirror(ctx, shop, esp); err != nil {
			return err
		}
	}
	list, err := findList(ctx, esp)
	if err != nil {
		return err
	}
	var members []string
	for p, err := range esp.Lists.Members(ctx, list.ID, klaviyo.MemberOptions{}) {
		if err != nil {
			return err
		}
		members = append(members, p.Email)
	}
	slices.Sort(members)
	fmt.Println(listName+":", members)
	return nil
}

// mirror makes the list's members equal to the customers carrying the
// segment's tag, matched by email.
func mirror(ctx context.Context, shop *shopify.Client, esp *klaviyo.Client) error {
	want := map[string]bool{}
	for c, err := range shop.Customers.List(ctx, nil) {
		if err != nil {
			return err
		}
		if c.Email != "" && slices.Contains(c.Tags, segmentTag) {
			want[strings.ToLower(c.Email)] = true
		}
	}
	list, err := findList(ctx, esp)
	if err != nil {
		return err
	}
	if list == nil {
		if list, _, err = esp.Lists.Create(ctx, listName, klaviyo.SingleOptIn); err != nil {
			return err
		}
	}
	var remove []string
	for p, err := range esp.Lists.Members(ctx, list.ID, klaviyo.MemberOptions{PageSize: 100}) {
		if err != nil {
			return err
		}
		if e := strings.ToLower(p.Email); want[e] {
			delete(want, e) // already a member
		} else {
			remove = append(remove, p.ID)
		}
	}
	var add []klaviyo.ProfileInput
	for _, e := range slices.Sorted(maps.Keys(want)) {
		add = append(add, klaviyo.ProfileInput{Email: e})
	}
	fmt.Printf("to add %v, to remove %d\n", slices.Sorted(maps.Keys(want)), len(remove))
	if len(add) > 0 {
		if err := applied(esp.Profiles.Import(ctx, add, klaviyo.ImportOptions{ListID: list.ID})); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	if len(remove) > 0 {
		if err := applied(esp.Lists.RemoveProfiles(ctx, list.ID, remove)); err != nil {
			return fmt.Errorf("remove: %w", err)
		}
	}
	return nil
}

// findList returns the list named listName, or nil when there is none.
func findList(ctx context.Context, esp *klaviyo.Client) (*klaviyo.List, error) {
	for l, err := range esp.Lists.All(ctx, klaviyo.Filter{klaviyo.Equals("name", listName)}) {
		if err != nil {
			return nil, err
		}
		return &l, nil
	}
	return nil, nil
}

// applied turns a per-item result into an error naming the first item
// that was not applied: a rerun retries it.
func applied(res []klaviyo.ItemResult, err error) error {
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != nil {
			return fmt.Errorf("item %d: %s: %w", r.Index, r.Outcome, r.Err)
		}
	}
	return nil
}
