package line_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// TestMulticastRerunAfterKeyExpiry: a chunk LINE accepted but whose answer
// was lost is Unknown in the record. Rerun within 24 hours, it goes out
// again under its key and LINE answers 409; rerun after LINE has forgotten
// the key, it would be a new send and deliver twice, so it is not sent:
// its recipients stay Unknown and the error matches ErrRetryKeyExpired.
func TestMulticastRerunAfterKeyExpiry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		advance time.Duration
		expired bool
	}{
		{"within 24h", 23 * time.Hour, false},
		{"after 24h", 25 * time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := linetest.NewServer(linetest.WithRateLimit(line.EndpointMulticast, line.RateLimit{}))
			t.Cleanup(srv.Close)
			c := srv.Client(line.WithRetryPolicy(line.RetryPolicy{}))
			ctx := context.Background()
			to := users(3)
			srv.AddFaults(linetest.Fault{Op: "multicast", Kind: shopcrmtest.FaultLostResponse})
			res, err := c.Messages.Multicast(ctx, &line.MulticastRequest{To: to, Messages: text("sale")})
			if err == nil || len(res.Unknown) != 3 {
				t.Fatalf("first run: unknown %v, err %v; want 3 unknown and an error", res.Unknown, err)
			}
			// The record goes through storage between the runs.
			b, err := json.Marshal(res.Record)
			if err != nil {
				t.Fatal(err)
			}
			rec := new(line.SendRecord)
			if err := json.Unmarshal(b, rec); err != nil {
				t.Fatal(err)
			}
			if !rec.Chunks[0].SentAt.Equal(res.Record.Chunks[0].SentAt) || rec.Chunks[0].SentAt.IsZero() {
				t.Fatalf("chunk not dated after a round trip: %s", b)
			}
			srv.Advance(tc.advance)
			before := len(srv.Requests())
			res, err = c.Messages.Multicast(ctx, &line.MulticastRequest{To: to, Messages: text("sale"), Record: rec})
			for _, u := range to {
				if n := len(srv.Messages(u)); n != 1 {
					t.Errorf("%s got %d messages, want 1", u, n)
				}
			}
			if !tc.expired {
				if err != nil || res.Duplicates != 1 || len(res.Unknown) != 0 {
					t.Errorf("rerun: %+v, %v; want one duplicate chunk", res, err)
				}
				return
			}
			if !errors.Is(err, line.ErrRetryKeyExpired) {
				t.Errorf("rerun error = %v, want ErrRetryKeyExpired", err)
			}
			if n := len(srv.Requests()) - before; n != 0 {
				t.Errorf("%d requests sent for an expired chunk", n)
			}
			if diff := cmp.Diff(to, res.Unknown); diff != "" {
				t.Errorf("unknown (-want +got):\n%s", diff)
			}
			if res.Progress.Unknown != 3 || rec.Chunks[0].Outcome != shopcrm.Unknown {
				t.Errorf("progress %+v, chunk %+v", res.Progress, rec.Chunks[0])
			}
			// The caller who knows better marks the chunk failed; it then goes
			// out under a new key.
			rec.Chunks[0].Outcome = shopcrm.Failed
			if _, err := c.Messages.Multicast(ctx, &line.MulticastRequest{To: to, Messages: text("sale"), Record: rec}); err != nil {
				t.Fatal(err)
			}
			if n := len(srv.Messages(to[0])); n != 2 {
				t.Errorf("after marking the chunk failed, %s got %d messages, want 2", to[0], n)
			}
		})
	}
}

func TestWithClockNil(t *testing.T) {
	_, err := line.New(line.StaticToken("t"), line.WithClock(nil))
	var ie *line.InputError
	if !errors.As(err, &ie) || ie.Field != "WithClock" {
		t.Errorf("WithClock(nil): %v, want an *InputError", err)
	}
}

// TestMulticastSavedRecordAfterKeyExpiry: the record saved before sending
// (Save) already dates its chunks, so a process killed after a chunk went
// out and rerun a day later from that record does not send it again;
// chunks a terminal error kept from going out are undated again and go out
// on the rerun, however late.
func TestMulticastSavedRecordAfterKeyExpiry(t *testing.T) {
	srv := linetest.NewServer(linetest.WithRateLimit(line.EndpointMulticast, line.RateLimit{}))
	t.Cleanup(srv.Close)
	c := srv.Client(line.WithRetryPolicy(line.RetryPolicy{}), line.WithMaxInFlight(1))
	ctx := context.Background()
	to := users(line.MaxMulticastRecipients)
	// The chunk goes out and its answer is lost: the process "dies" then,
	// and only the record saved before sending is left.
	srv.AddFaults(linetest.Fault{Op: "multicast", Kind: shopcrmtest.FaultLostResponse})
	var saved []byte
	if _, err := c.Messages.Multicast(ctx, &line.MulticastRequest{To: to, Messages: text("sale"),
		Save: func(r *line.SendRecord) (err error) { saved, err = json.Marshal(r); return err }}); err == nil {
		t.Fatal("first run: want the lost answer's error")
	}
	rec := new(line.SendRecord)
	if err := json.Unmarshal(saved, rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Chunks) != 1 || rec.Chunks[0].SentAt.IsZero() || rec.Chunks[0].Outcome != 0 {
		t.Fatalf("saved record: %s", saved)
	}
	srv.Advance(25 * time.Hour)
	res, err := c.Messages.Multicast(ctx, &line.MulticastRequest{To: to, Messages: text("sale"), Record: rec})
	if !errors.Is(err, line.ErrRetryKeyExpired) || len(res.Unknown) != line.MaxMulticastRecipients {
		t.Errorf("rerun from the saved record: unknown %d, %v", len(res.Unknown), err)
	}
	for _, u := range to {
		if n := len(srv.Messages(u)); n != 1 {
			t.Fatalf("%s got %d messages, want 1", u, n)
		}
	}

	// A run stopped before a chunk went out leaves that chunk undated.
	srv.AddFaults(linetest.Fault{Op: "multicast", Kind: shopcrmtest.FaultStatus, Status: 401})
	more := users(2*line.MaxMulticastRecipients + 1)[len(to):]
	res, err = c.Messages.Multicast(ctx, &line.MulticastRequest{To: more, Messages: text("news")})
	if !errors.Is(err, line.ErrNotSent) || len(res.NotSent) != 1 {
		t.Fatalf("stopped run: not sent %d, %v", len(res.NotSent), err)
	}
	last := res.Record.Chunks[len(res.Record.Chunks)-1]
	if !last.SentAt.IsZero() || last.Outcome != 0 {
		t.Fatalf("chunk never sent: %+v", last)
	}
	srv.Advance(25 * time.Hour)
	res, err = c.Messages.Multicast(ctx, &line.MulticastRequest{To: more[len(more)-1:], Messages: text("news"), Record: res.Record})
	if err != nil || len(srv.Messages(more[len(more)-1])) != 1 {
		t.Errorf("rerun of the chunk never sent: %+v, %v", res, err)
	}
}

// TestDoRetryKeyConflict: through Do, a retry key LINE already accepted
// is an *APIError matching ErrConflict and naming the accepted request, as
// ErrConflict's documentation says.
func TestDoRetryKeyConflict(t *testing.T) {
	srv := linetest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.Client()
	r := &line.RawRequest{Method: "POST", Path: "/v2/bot/message/push", RetryKey: line.NewRetryKey(),
		Body: map[string]any{"to": linetest.UserID(1), "messages": []any{map[string]string{"type": "text", "text": "hi"}}}}
	first, err := c.Do(context.Background(), r, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), r, nil)
	var ae *line.APIError
	if !errors.As(err, &ae) || !errors.Is(err, line.ErrConflict) || ae.AcceptedRequestID != first.RequestID {
		t.Errorf("second Do with the key: %v, want a 409 naming %s", err, first.RequestID)
	}
}
