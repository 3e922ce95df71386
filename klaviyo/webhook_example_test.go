package klaviyo_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
)

// A system webhook handler: deliveries are verified against the raw body
// with every configured secret, and each event is handled once by its
// external_id, however often Klaviyo delivers it.
func ExampleWebhookHandler() {
	srv := klaviyotest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	hook, _, _ := c.Webhooks.Create(ctx, klaviyo.WebhookInput{Name: "bounces", EndpointURL: "https://app.example.com/klaviyo",
		Secret: klaviyo.NewSecret("whsec-2026"), Topics: []string{"event:klaviyo.bounced_email"}})

	h := &klaviyo.WebhookHandler{
		Secrets: []klaviyo.Secret{klaviyo.NewSecret("whsec-2025"), klaviyo.NewSecret("whsec-2026")},
		Dedupe:  shopcrm.NewMemoryDedupe(0, 0),
		Handle: func(ctx context.Context, e klaviyo.WebhookEvent) error {
			fmt.Println("handled", e.Topic, e.ExternalID, e.Event.Properties["Bounce Type"])
			return nil
		},
	}
	receiver := httptest.NewServer(h)
	defer receiver.Close()

	p := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	srv.AddEvent("Bounced Email", p, time.Now(), map[string]any{"Bounce Type": "hard"})
	e := klaviyotest.WebhookEvent{Topic: "event:klaviyo.bounced_email", ExternalID: "evt-1", Event: srv.Events()[0]}
	for range 2 { // a redelivery
		resp, err := srv.SendWebhook(ctx, receiver.Client(), receiver.URL, hook.ID, e)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// handled event:klaviyo.bounced_email evt-1 hard
	// 200
	// 200
}

// The OAuth authorization-code flow with PKCE, against the fake's token
// endpoint: the merchant's approval is simulated by Authorize.
func ExampleOAuthConfig() {
	srv := klaviyotest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	cfg := srv.OAuthConfig("profiles:read", "events:write")

	pkce, _ := klaviyo.NewPKCE()
	if _, err := cfg.AuthCodeURL("state-123", pkce); err != nil { // redirect the merchant there
		fmt.Println(err)
		return
	}
	code := srv.Authorize(pkce.Challenge, cfg.RedirectURI, "profiles:read events:write") // the redirect's ?code=
	tok, err := cfg.Exchange(ctx, code, pkce.Verifier)
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := klaviyo.NewOAuthTokenSource(cfg, *tok, func(klaviyo.OAuthToken) { /* store the new tokens */ })
	c, _ := klaviyo.New(klaviyo.OAuth(ts), klaviyo.WithBaseURL(srv.URL()))
	id := srv.AddProfile(klaviyo.ProfileInput{Email: "a@example.com"})
	p, _, err := c.Profiles.Get(ctx, id, false)
	fmt.Println(tok.Scope, p.Email, err, tok.AccessToken)
	// Output:
	// profiles:read events:write a@example.com <nil> [REDACTED]
}
