// Command omnisend-tags (W3) carries Shopify customer tags to Omnisend
// contacts, so Omnisend automations can target a segment: the tags the
// integration owns (here every tag starting "ecp-") are made equal to the
// customer's in Shopify, adding what is missing and removing what the
// customer no longer carries, while every other tag on the contact (the
// merchant's, another app's) is left alone.
package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "omnisend-tags:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	store := shopifytest.NewServer()
	defer store.Close()
	esp := omnisendtest.NewServer()
	defer esp.Close()
	for _, c := range []struct {
		email         string
		shopify, omni []string
	}{
		{"ann@example.com", []string{"ecp-repeat", "line"}, nil},
		{"bo@example.com", []string{"ecp-first"}, []string{"ecp-repeat", "black-friday"}}, // left repeat, joined first
		{"cy@example.com", nil, []string{"ecp-first", "newsletter"}},                      // left every segment
	} {
		store.AddCustomer(shopifytest.Customer{Email: c.email, Tags: c.shopify})
		esp.AddContact(omnisend.ContactInput{Identifiers: []omnisend.Identifier{omnisend.Email(c.email, omnisend.Subscribed)}, Tags: c.omni})
	}
	owned := func(tag string) bool { return strings.HasPrefix(tag, "ecp-") }

	// What each contact should carry: its customer's owned tags.
	desired := map[string][]string{}
	for c, err := range store.Client().Customers.List(ctx, nil) {
		if err != nil {
			return err
		}
		desired[c.Email] = slices.DeleteFunc(slices.Clone(c.Tags), func(t string) bool { return !owned(t) })
	}
	emailOf := map[string]string{}
	for _, c := range esp.Contacts() {
		emailOf[c.ID] = c.Email
	}
	bot := esp.Client()
	for run := 1; run <= 2; run++ {
		rep, err := bot.Tags.Mirror(ctx, desired, omnisend.OwnedPrefix("ecp-"))
		if err != nil {
			return err
		}
		fmt.Printf("run %d: %d contacts changed, %d unchanged\n", run, len(rep.Results), rep.Unchanged)
		for _, r := range rep.Results {
			fmt.Printf("  %s +%v -%v: %s\n", emailOf[r.Change.ContactID], r.Change.Add, r.Change.Remove, r.Outcome)
		}
	}
	for _, email := range []string{"ann@example.com", "bo@example.com", "cy@example.com"} {
		c, _ := esp.Contact(email)
		tags := slices.Clone(c.Tags)
		slices.Sort(tags)
		fmt.Println(email, tags)
	}
	return nil
}
