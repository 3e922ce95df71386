package omnisend_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
)

func Example() {
	srv := omnisendtest.NewServer()
	defer srv.Close()
	c, err := omnisend.New(omnisend.APIKey(omnisendtest.DefaultAPIKey), omnisend.WithBaseURL(srv.URL()))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	contact, created, _, err := c.Contacts.Upsert(ctx, &omnisend.ContactInput{
		Identifiers: []omnisend.Identifier{omnisend.Email("jane@example.com", omnisend.Subscribed)},
		FirstName:   "Jane",
		Tags:        []string{"source: shopify"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(contact.Email, contact.Status, created)
	// Output: jane@example.com subscribed true
}

// Mirror keeps the tags a caller owns equal to Shopify's and leaves the
// others alone.
func ExampleTagsService_Mirror() {
	srv := omnisendtest.NewServer()
	defer srv.Close()
	srv.AddContact(omnisend.ContactInput{
		Identifiers: []omnisend.Identifier{omnisend.Email("jane@example.com", "")},
		Tags:        []string{"shopify:first-order", "line"},
	})
	c := srv.Client()
	rep, err := c.Tags.Mirror(context.Background(),
		map[string][]string{"jane@example.com": {"shopify:repeat", "shopify:vip"}},
		omnisend.OwnedPrefix("shopify:"))
	if err != nil {
		panic(err)
	}
	got, _ := srv.Contact("jane@example.com")
	fmt.Println(rep.Results[0].Outcome, slices.Sorted(slices.Values(got.Tags)))
	// Output: applied [line shopify:repeat shopify:vip]
}

// A historical event carries a deterministic id and its time, so a rerun
// sends the same event, which Omnisend records once.
func ExampleEventsService_Send() {
	srv := omnisendtest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ev := &omnisend.Event{
		Name:       "points earned",
		ID:         omnisend.EventID("points earned", "shop-1", "order-1001"),
		Time:       time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		Historical: true,
		Contact:    omnisend.EventContact{Email: "jane@example.com"},
		Properties: map[string]any{"points": 120},
	}
	for range 2 {
		if _, err := c.Events.Send(context.Background(), ev); err != nil {
			panic(err)
		}
	}
	fmt.Println(len(srv.Events()), ev.ID)
	// Output: 1 7c7e097d-217f-5585-a1b6-a0127b6c7f11
}
