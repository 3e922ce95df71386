package line_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// TestMulticastRerunWithChangedList is the send record's contract, checked
// on random cases: a first run meets random faults (lost answers, refusals,
// dropped connections, rate limits); between runs recipients are added,
// removed and reordered; the rerun with the persisted record (or, as after
// a crash, with the record as saved before sending) must leave every
// current recipient with exactly one message, and nobody with two.
func TestMulticastRerunWithChangedList(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2026, 11))
	kinds := []shopcrmtest.FaultKind{shopcrmtest.FaultNone, shopcrmtest.FaultNone, shopcrmtest.FaultLostResponse,
		shopcrmtest.FaultStatus, shopcrmtest.FaultDrop, shopcrmtest.FaultRateLimit}
	const cases = 30
	edits, next := 0, 1
	newUser := func() string { next++; return fmt.Sprintf("U%032x", next) }
	for n := range cases {
		srv := linetest.NewServer()
		c := srv.Client(line.WithSleep(noSleep), line.WithMaxInFlight(3), line.WithRetryPolicy(line.RetryPolicy{}))
		ctx := context.Background()
		var list []string
		for range 500 + rnd.IntN(2000) {
			list = append(list, newUser())
		}
		var faults []shopcrmtest.Fault
		// One fault (or none) per chunk request of the first run, which
		// makes one attempt per chunk: the rerun meets no fault.
		for range (len(list) + line.MaxMulticastRecipients - 1) / line.MaxMulticastRecipients {
			faults = append(faults, shopcrmtest.Fault{Op: "multicast", Kind: kinds[rnd.IntN(len(kinds))]})
		}
		srv.AddFaults(faults...)

		var saved []byte
		key := line.KeyFrom("rerun", fmt.Sprint(n))
		res, _ := c.Messages.Multicast(ctx, &line.MulticastRequest{To: list, Messages: text("sale"), RetryKey: key,
			Save: func(r *line.SendRecord) (err error) { saved, err = json.Marshal(r); return err }})
		crashed := rnd.IntN(3) == 0
		if !crashed {
			var err error
			if saved, err = json.Marshal(res.Record); err != nil {
				t.Fatal(err)
			}
		}
		first := slices.Clone(list)

		// Edit the list: remove some, add some, reorder.
		for range rnd.IntN(12) {
			i := rnd.IntN(len(list))
			list = slices.Delete(list, i, i+1)
			edits++
		}
		for range rnd.IntN(12) {
			list = append(list, newUser())
			edits++
		}
		rnd.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
		edits++

		var rec line.SendRecord
		if err := json.Unmarshal(saved, &rec); err != nil {
			t.Fatal(err)
		}
		res2, err := c.Messages.Multicast(ctx, &line.MulticastRequest{To: list, Messages: text("sale"), RetryKey: key, Record: &rec})
		if err != nil {
			t.Fatalf("case %d (crashed %v): rerun: %v", n, crashed, err)
		}
		if len(res2.Failed)+len(res2.Unknown)+len(res2.NotSent) != 0 {
			t.Fatalf("case %d: rerun without faults left recipients out: %+v", n, res2)
		}
		for _, u := range list {
			if got := len(srv.Messages(u)); got != 1 {
				t.Fatalf("case %d (crashed %v): current recipient %s has %d messages", n, crashed, u, got)
			}
		}
		for _, u := range first {
			if got := len(srv.Messages(u)); got > 1 {
				t.Fatalf("case %d (crashed %v): first-run recipient %s has %d messages", n, crashed, u, got)
			}
		}
		srv.Close()
	}
	t.Logf("%d cases, %d random edits", cases, edits)
}

// TestMulticastResultNamesEveryone: with a record, every recipient of a
// run is either in an accepted chunk or named in a result list.
func TestMulticastResultNamesEveryone(t *testing.T) {
	srv, c := newFake(t)
	c = srv.Client(line.WithSleep(noSleep), line.WithMaxInFlight(1), line.WithRetryPolicy(line.RetryPolicy{}))
	srv.AddFaults(shopcrmtest.Fault{Op: "multicast", Kind: shopcrmtest.FaultNone},
		shopcrmtest.Fault{Op: "multicast", Kind: shopcrmtest.FaultLostResponse},
		shopcrmtest.Fault{Op: "multicast", Kind: shopcrmtest.FaultRateLimit})
	to := users(1400)
	res, err := c.Messages.Multicast(context.Background(), &line.MulticastRequest{To: to, Messages: text("x")})
	if err == nil {
		t.Fatal("want the chunk errors")
	}
	applied := 0
	for _, ch := range res.Chunks {
		if ch.Err == nil {
			applied += ch.Recipients
		}
	}
	if applied != 500 || len(res.Unknown) != 500 || len(res.Failed) != 400 {
		t.Fatalf("applied %d, unknown %d, failed %d", applied, len(res.Unknown), len(res.Failed))
	}
	// The rerun: the lost chunk was accepted (409), the refused one goes
	// out under a new key.
	res2, err := c.Messages.Multicast(context.Background(), &line.MulticastRequest{To: to, Messages: text("x"), Record: res.Record})
	if err != nil || res2.Duplicates != 1 || len(res2.AlreadySent) != 500 || len(res.Record.Chunks) != 4 {
		t.Fatalf("rerun = %+v, %v", res2, err)
	}
	for _, u := range to {
		if n := len(srv.Messages(u)); n != 1 {
			t.Fatalf("%s has %d messages", u, n)
		}
	}
}

// TestPushChaos pushes to many users through every kind of fault the fake
// injects. Each push either succeeds or fails with a *line.SendError
// carrying its retry key (after a bad body as much as after a lost
// answer); resending with that key until it succeeds leaves every user
// with exactly one message.
func TestPushChaos(t *testing.T) {
	srv := linetest.NewServer(linetest.WithChaos(7, 0.3, shopcrmtest.FaultStatus, shopcrmtest.FaultRateLimit, shopcrmtest.FaultDrop,
		shopcrmtest.FaultLostResponse, shopcrmtest.FaultTimeout, shopcrmtest.FaultMalformed))
	defer srv.Close()
	c := srv.Client(line.WithSleep(noSleep), line.WithRetryPolicy(line.RetryPolicy{MaxRetries: 1}),
		line.WithHTTPClient(&http.Client{Timeout: 150 * time.Millisecond}))
	ctx := context.Background()
	to := users(150)
	resent := 0
	for _, u := range to {
		req := &line.PushRequest{To: u, Messages: text("hello")}
		for attempt := 0; ; attempt++ {
			res, _, err := c.Messages.Push(ctx, req)
			if err == nil {
				if res.RetryKey == "" {
					t.Fatalf("%s: result without its retry key", u)
				}
				break
			}
			var se *line.SendError
			if !errors.As(err, &se) || !line.ValidRetryKey(se.RetryKey) {
				t.Fatalf("%s: %v carries no retry key", u, err)
			}
			if attempt == 20 {
				t.Fatalf("%s: still failing: %v", u, err)
			}
			req.RetryKey = se.RetryKey
			resent++
		}
	}
	for _, u := range to {
		if n := len(srv.Messages(u)); n != 1 {
			t.Fatalf("%s has %d messages", u, n)
		}
	}
	if srv.Stats().Faults == 0 || resent == 0 {
		t.Errorf("no faults met (faults %d, resends %d)", srv.Stats().Faults, resent)
	}
	t.Logf("faults %d, resends %d", srv.Stats().Faults, resent)
}
