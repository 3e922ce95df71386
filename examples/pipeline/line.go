package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/line"
)

// SendLINE (W3) sends the day's LINE message to the members of one
// segment who have a LINE user id. The members are the segment's stored
// snapshot, that is, the customers [Segments] tagged. The send is
// recorded in the state before anything goes out and updated as chunks
// are answered, under a retry key made of the shop, the day and the
// segment: a rerun of the day, even after a crash mid-send and over a
// changed member list, sends each user the message at most once.
func SendLINE(ctx context.Context, env *Env) (*StepReport, error) {
	rep := newStep("line", !env.Apply)
	start := time.Now()
	defer func() { rep.Elapsed = time.Since(start) }()
	if err := env.check(); err != nil {
		return nil, err
	}
	switch {
	case env.LINEMessage == nil:
		rep.Skipped = "no LINE message configured"
		return rep, nil
	case env.Clients.LINE == nil:
		rep.Skipped = "no LINE client"
		return rep, nil
	case env.LINEMessage.UserID == nil:
		return nil, &shopcrm.InputError{Field: "LINESend.UserID", Reason: "must be set"}
	}
	snap, ok, err := env.State.Segments().Load(ctx, env.LINEMessage.Segment)
	if err != nil {
		return nil, fmt.Errorf("line: %w", err)
	}
	if !ok {
		rep.Skipped = fmt.Sprintf("segment %q has no snapshot yet (run Segments first)", env.LINEMessage.Segment)
		return rep, nil
	}
	var to []string
	for _, id := range snap.Members {
		if u, ok := env.LINEMessage.UserID(id.String()); ok {
			to = append(to, u)
		}
	}
	rep.add("members", len(snap.Members))
	rep.add("LINE-linked", len(to))
	if len(to) == 0 || !env.Apply {
		return rep, nil
	}

	name := "line-" + env.Day.String() + "-" + env.LINEMessage.Segment
	var rec line.SendRecord
	if _, err := env.State.load(name, &rec); err != nil {
		return nil, err
	}
	res, err := env.Clients.LINE.Messages.Multicast(ctx, &line.MulticastRequest{
		To:       to,
		Messages: env.LINEMessage.Messages,
		RetryKey: line.KeyFrom(env.Shop, env.Day.String(), "line", env.LINEMessage.Segment),
		Record:   &rec,
		Save:     func(r *line.SendRecord) error { return env.State.save(name, r) },
		Progress: func(p shopcrm.Progress) { env.progress("line", p) },
	})
	if res != nil {
		if serr := env.State.save(name, res.Record); serr != nil {
			return nil, errors.Join(err, serr)
		}
		rep.add("sent", res.Progress.Applied)
		rep.add("already sent", len(res.AlreadySent))
		rep.need(PlatformLINE, lineMinimum(env, len(to)-len(res.AlreadySent)))
		rep.add("calls", res.Calls)
		if n := len(res.Unknown); n > 0 {
			rep.add("unknown", n)
			rep.notef("%d recipients' outcome unknown: a rerun resends them under their old keys", n)
		}
		if n := len(res.Failed) + len(res.NotSent); n > 0 {
			rep.add("not sent", n)
		}
	}
	if err != nil {
		return rep, fmt.Errorf("line: %w", err)
	}
	return rep, nil
}

// lineMinimum is what SendLINE needs from LINE: a multicast call per 500
// users not sent the message yet, at the client's multicast gate.
func lineMinimum(env *Env, users int) Minimum {
	calls := ceilDiv(users, line.MaxMulticastRecipients)
	l := env.Clients.LINE.EndpointLimit(line.EndpointMulticast)
	m := Minimum{Requests: calls}
	m.pace(bucketFloor(float64(calls), float64(l.Burst), l.PerSecond), fmt.Sprintf("%g multicast calls/s", l.PerSecond))
	return m
}
