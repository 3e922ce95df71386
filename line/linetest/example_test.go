package linetest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

func Example() {
	srv := linetest.NewServer()
	defer srv.Close()
	srv.SetProfile(line.Profile{UserID: "U00000000000000000000000000000001", DisplayName: "Hanako"})
	c := srv.Client()
	ctx := context.Background()

	p, _, _ := c.Users.Profile(ctx, "U00000000000000000000000000000001")
	_, _, _ = c.Messages.Push(ctx, &line.PushRequest{To: p.UserID, Messages: []line.Message{line.TextMessage{Text: "Hi " + p.DisplayName}}})
	for _, m := range srv.Messages(p.UserID) {
		fmt.Println(string(m.Message))
	}
	// Output: {"type":"text","text":"Hi Hanako"}
}

func ExampleServer_AddFaults() {
	srv := linetest.NewServer()
	defer srv.Close()
	c := srv.Client()

	// The server records the push, then the response is lost: the client
	// retries with the same key and LINE's 409 tells it the push was done.
	srv.AddFaults(linetest.Fault{Op: "push", Kind: shopcrmtest.FaultLostResponse})
	res, _, err := c.Messages.Push(context.Background(), &line.PushRequest{
		To:       "U00000000000000000000000000000001",
		Messages: []line.Message{line.TextMessage{Text: "once"}},
	})
	fmt.Println(res.Duplicate, err, len(srv.Messages("U00000000000000000000000000000001")))
	// Output: true <nil> 1
}

func ExampleServer_Stats() {
	srv := linetest.NewServer(linetest.WithRateLimit(line.EndpointPush, shopcrm.RateLimit{PerSecond: 0.001, Burst: 1}))
	defer srv.Close()
	// A client without its own gate and without retries runs into the limit.
	c := srv.Client(line.WithEndpointLimit(line.EndpointPush, line.RateLimit{}), line.WithRetryPolicy(noRetry()))
	ctx := context.Background()
	msg := []line.Message{line.TextMessage{Text: "hi"}}
	_, _, err1 := c.Messages.Push(ctx, &line.PushRequest{To: linetest.UserID(1), Messages: msg})
	_, _, err2 := c.Messages.Push(ctx, &line.PushRequest{To: linetest.UserID(1), Messages: msg})
	fmt.Println(err1 == nil, errors.Is(err2, line.ErrRateLimited), srv.Stats().Ops["push"].Throttled)
	// Output: true true 1
}
