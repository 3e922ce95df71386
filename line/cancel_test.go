package line_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// TestMulticastCancelAfterChunkFailure: a chunk LINE refused with a 400 is
// Failed (nobody got it), not Unknown; and it does not hide a cancellation
// that came next: the error still matches context.Canceled and
// ErrNotSent, with the recipients left out in NotSent.
func TestMulticastCancelAfterChunkFailure(t *testing.T) {
	srv := linetest.NewServer(linetest.WithRateLimit(line.EndpointMulticast, line.RateLimit{}))
	t.Cleanup(srv.Close)
	c := srv.Client(line.WithRetryPolicy(line.RetryPolicy{}), line.WithMaxInFlight(1))
	srv.AddFaults(linetest.Fault{Op: "multicast", Kind: shopcrmtest.FaultStatus, Status: 400})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := c.Messages.Multicast(ctx, &line.MulticastRequest{
		To: users(3 * line.MaxMulticastRecipients), Messages: text("sale"),
		Progress: func(shopcrm.Progress) { cancel() },
	})
	if len(res.Failed) != line.MaxMulticastRecipients || len(res.NotSent) == 0 {
		t.Fatalf("failed %d, not sent %d: want one chunk failed and the rest not sent", len(res.Failed), len(res.NotSent))
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not match context.Canceled", err)
	}
	if !errors.Is(err, line.ErrNotSent) {
		t.Errorf("error %v does not match ErrNotSent", err)
	}
	var ae *line.APIError
	if !errors.As(err, &ae) || ae.Status != 400 {
		t.Errorf("error %v does not carry the chunk's 400", err)
	}
}
