package line_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
)

func ExampleMessagesService_Push() {
	srv := linetest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	// A key derived from the order makes the send idempotent: running it
	// twice delivers once.
	req := &line.PushRequest{
		To:       "U4af4980629a1b2c3d4e5f60718293a4b",
		Messages: []line.Message{line.TextMessage{Text: "Thanks for your order #1001!"}},
		RetryKey: line.KeyFrom("order", "1001", "thanks"),
	}
	first, _, err := c.Messages.Push(ctx, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	second, _, err := c.Messages.Push(ctx, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(first.Duplicate, second.Duplicate, second.AcceptedRequestID == first.RequestID)
	fmt.Println(len(srv.Messages(req.To)))
	// Output:
	// false true true
	// 1
}

func ExampleMessagesService_Multicast() {
	srv := linetest.NewServer()
	defer srv.Close()
	c := srv.Client()

	to := make([]string, 1200)
	for i := range to {
		to[i] = fmt.Sprintf("U%032x", i)
	}
	res, err := c.Messages.Multicast(context.Background(), &line.MulticastRequest{
		To:       to,
		Messages: []line.Message{line.TextMessage{Text: "Spring sale starts today"}},
		RetryKey: line.KeyFrom("campaign", "spring-2026"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Calls, "calls for", res.Recipients, "users")
	// Output: 3 calls for 1200 users
}

func ExampleMessagesService_Narrowcast() {
	srv := linetest.NewServer()
	defer srv.Close()
	// LINE narrowcasts only to audiences of at least 50 users.
	buyers := make([]string, 50)
	for i := range buyers {
		buyers[i] = fmt.Sprintf("U%032x", i+1)
	}
	srv.AddFollowers(buyers...)
	c := srv.Client()
	ctx := context.Background()

	g, _, err := c.Audiences.Create(ctx, "repeat buyers", buyers)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.Audiences.WaitReady(ctx, g.AudienceGroupID, 10*time.Millisecond); err != nil {
		fmt.Println(err)
		return
	}
	res, _, err := c.Messages.Narrowcast(ctx, &line.NarrowcastRequest{
		Messages:  []line.Message{line.TextMessage{Text: "A gift for our regulars"}},
		Recipient: line.AudienceRecipient{AudienceGroupID: g.AudienceGroupID},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := res.Wait(ctx, 10*time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Phase, *p.SuccessCount)
	// Output: succeeded 50
}

func ExampleAPIError() {
	srv := linetest.NewServer(linetest.WithQuota(0))
	defer srv.Close()
	c := srv.Client()

	_, _, err := c.Messages.Push(context.Background(), &line.PushRequest{
		To:       "U00000000000000000000000000000001",
		Messages: []line.Message{line.TextMessage{Text: "hi"}},
	})
	var ae *line.APIError
	fmt.Println(errors.Is(err, line.ErrQuotaExceeded), errors.Is(err, line.ErrRateLimited))
	fmt.Println(errors.As(err, &ae), ae.Status, ae.Message)
	// Output:
	// true false
	// true 429 You have reached your monthly limit.
}

func ExampleVerify() {
	srv := linetest.NewServer()
	defer srv.Close()
	body, sig := srv.WebhookBody(srv.FollowEvent("U00000000000000000000000000000001"))

	// During a secret rotation, accept the old and the new secret.
	if err := line.Verify(body, sig, line.NewSecret("old-channel-secret"), srv.ChannelSecret()); err != nil {
		fmt.Println(err)
		return
	}
	cb, err := line.Parse(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range cb.Events {
		if f, ok := e.(*line.FollowEvent); ok {
			fmt.Println("follow from", f.Source.UserID, len(f.WebhookEventID) > 0)
		}
	}
	// Output: follow from U00000000000000000000000000000001 true
}

func ExampleAccountLinkURL() {
	// A nonce is 10 to 255 characters; LINE recommends 128 random bits or
	// more, Base64-encoded.
	u, err := line.AccountLinkURL("", "NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY", "3Fk9dJ2pQmT8sLx1vB7cZw")
	fmt.Println(u, err)
	// Output: https://access.line.me/dialog/bot/accountLink?linkToken=NMZTNuVrPTqlr2IF8Bnymkb7rXfYv5EY&nonce=3Fk9dJ2pQmT8sLx1vB7cZw <nil>
}

func ExampleKeyFrom() {
	fmt.Println(line.KeyFrom("order", "1001") == line.KeyFrom("order", "1001"), line.ValidRetryKey(line.KeyFrom("order", "1001")))
	// Output: true true
}

func ExampleWebhookHandler() {
	srv := linetest.NewServer()
	defer srv.Close()

	seen := map[string]bool{} // a real program keeps this in its store
	h := &line.WebhookHandler{
		Secrets: []line.Secret{srv.ChannelSecret()},
		Handle: func(ctx context.Context, cb *line.Callback) error {
			for _, e := range cb.Events {
				if seen[e.Base().DedupeKey()] {
					continue // a redelivery
				}
				seen[e.Base().DedupeKey()] = true
				switch e := e.(type) {
				case *line.AccountLinkEvent:
					fmt.Println("link", e.Result, "nonce", e.Nonce, "user", e.Source.UserID)
				case *line.UnfollowEvent:
					fmt.Println("opted out", e.Source.UserID)
				}
			}
			return nil
		},
	}
	hs := httptest.NewServer(h)
	defer hs.Close()

	resp, err := srv.SendWebhook(context.Background(), hs.URL,
		srv.AccountLinkEvent("U00000000000000000000000000000001", "b2c3d4", true),
		srv.UnfollowEvent("U00000000000000000000000000000002"))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// link ok nonce b2c3d4 user U00000000000000000000000000000001
	// opted out U00000000000000000000000000000002
	// 200
}

func ExampleNewTokenIssuer() {
	srv := linetest.NewServer()
	defer srv.Close()

	// Stateless tokens last 15 minutes; the issuer caches each one and
	// replaces it shortly before it expires.
	tokens, err := line.NewTokenIssuer(line.Stateless, srv.ChannelID(), srv.ChannelSecret(), line.WithTokenBaseURL(srv.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := line.New(tokens, line.WithBaseURL(srv.URL()), line.WithDataURL(srv.URL()))
	if err != nil {
		fmt.Println(err)
		return
	}
	q, _, err := c.Messages.Quota(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q.Type, tokens)
	// Output: none line.TokenIssuer{channel: 1234567890}
}
