package shopify_test

import (
	"context"
	"fmt"

	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

// An install, end to end against the fake: send the merchant to the
// authorize URL, verify the callback, exchange the code for an expiring
// offline token, store it, and build a client whose token source refreshes
// it.
func ExampleApp_install() {
	srv := shopifytest.NewServer()
	defer srv.Close()
	// In production: shopify.NewApp(clientID, shopify.NewSecret(clientSecret))
	app := srv.App()
	ctx := context.Background()

	// 1. The install request: keep state with the browser session.
	state, _ := shopify.NewState()
	authURL, err := app.AuthorizeURL(shopifytest.Shop, shopify.AuthorizeRequest{
		Scopes:      []string{shopify.ScopeReadCustomers},
		RedirectURI: "https://app.example.com/auth/callback",
		State:       state,
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// 2. The redirect back (here the fake plays the merchant approving):
	// in a handler, the query is r.URL.Query().
	query, _ := srv.Approve(authURL)
	cb, err := app.VerifyCallback(query, state)
	if err != nil {
		fmt.Println(err) // a *shopify.CallbackError naming the check
		return
	}

	// 3. The code for an expiring offline token, kept per shop.
	tok, err := app.ExchangeCode(ctx, cb, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	store := shopify.NewMemoryTokenStore()
	if err := store.Save(ctx, tok); err != nil {
		fmt.Println(err)
		return
	}

	// 4. A client for the shop, refreshing its token before it expires.
	c, err := shopify.New(cb.Shop, app.TokenSource(store, cb.Shop), shopify.WithBaseURL(srv.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Shop(), tok.Expiring(), tok.Token)
	// Output: shopcrm-test.myshopify.com true [REDACTED]
}
