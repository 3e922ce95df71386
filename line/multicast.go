package line

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/bulk"
)

// MaxMulticastRecipients is LINE's limit of user ids per multicast call.
const MaxMulticastRecipients = 500

// MulticastRequest sends the same messages to any number of users.
type MulticastRequest struct {
	To                    []string // user ids; sorted and de-duplicated before chunking
	Messages              []Message
	NotificationDisabled  bool
	CustomAggregationUnit string // optional, ^[a-zA-Z0-9_]{1,30}$
	// RetryKey is the key of the whole send (generated when empty). Chunk i
	// carries a key derived from it and i, so a rerun with the same key and
	// recipients sends nothing twice.
	RetryKey string
	// Progress, when set, is called after each chunk with the counts of
	// recipients so far, one call at a time, never under a lock.
	Progress func(shopcrm.Progress)
}

// ChunkResult is the outcome of one chunk of a multicast that was sent.
type ChunkResult struct {
	Index      int
	Recipients int
	SendResult       // RetryKey is set even when the chunk failed
	Err        error // nil when sent or already accepted
}

// MulticastResult is the outcome of a multicast.
type MulticastResult struct {
	RetryKey   string
	Recipients int // after de-duplication
	Calls      int // chunks sent
	Duplicates int // chunks LINE had already accepted
	// Chunks are the chunks sent, by index.
	Chunks []ChunkResult
	// NotSent are the recipients left out because a terminal error
	// (quota, 401, a cancelled context) stopped the send first.
	NotSent []string
	// Progress holds the final counts of recipients by outcome.
	Progress shopcrm.Progress
}

// ErrNotSent matches the error of recipients a terminal error kept from
// being sent.
var ErrNotSent = shopcrm.ErrNotSent

// Multicast sends messages to r.To in chunks of 500 with several chunks in
// flight (see WithMaxInFlight). A chunk that fails does not stop the
// others; a terminal error (the monthly quota, 401, a cancelled context)
// stops the send at once: no request starts after it, and the recipients
// not yet sent are listed in NotSent. The error joins the chunk errors.
// Rerunning with the same RetryKey and recipients completes the send:
// chunks LINE already accepted come back as duplicates.
func (s *MessagesService) Multicast(ctx context.Context, r *MulticastRequest) (*MulticastResult, error) {
	c := s.c
	if r == nil {
		return nil, invalid("MulticastRequest", "nil")
	}
	if len(r.To) == 0 {
		return nil, invalid("To", "no recipients")
	}
	for i, id := range r.To {
		if id == "" {
			return nil, invalid(fmt.Sprintf("To[%d]", i), "empty user id")
		}
	}
	if err := validateMessages(r.Messages); err != nil {
		return nil, err
	}
	u, err := units(r.CustomAggregationUnit)
	if err != nil {
		return nil, err
	}
	key, err := retryKey(r.RetryKey)
	if err != nil {
		return nil, err
	}
	to := slices.Clone(r.To)
	slices.Sort(to)
	to = slices.Compact(to)

	res := &MulticastResult{RetryKey: key, Recipients: len(to)}
	var mu sync.Mutex
	w := bulk.Writer[string]{
		Max:      bulk.Limits{Items: MaxMulticastRecipients},
		InFlight: c.maxInFlight,
		Progress: r.Progress,
		Send: func(ctx context.Context, ch *bulk.Chunk[string]) error {
			k := chunkKey(key, ch.Seq)
			sr, _, err := c.send(ctx, EndpointMulticast, "/v2/bot/message/multicast", k,
				&sendBody{To: ch.Items, Messages: r.Messages, NotificationDisabled: r.NotificationDisabled, CustomAggregationUnits: u}, nil)
			cr := ChunkResult{Index: ch.Seq, Recipients: len(ch.Items), SendResult: SendResult{RetryKey: k}, Err: err}
			if sr != nil {
				cr.SendResult = *sr
			}
			mu.Lock()
			res.Chunks = append(res.Chunks, cr)
			mu.Unlock()
			return err
		},
		OnResult: func(r bulk.Result[string]) {
			if r.Outcome == shopcrm.NotSent {
				res.NotSent = append(res.NotSent, r.Item)
			}
		},
	}
	p, terminal := w.Run(ctx, slices.Values(to))
	res.Progress = p
	slices.SortFunc(res.Chunks, func(a, b ChunkResult) int { return a.Index - b.Index })
	var errs []error
	for _, ch := range res.Chunks {
		res.Calls++
		if ch.Duplicate {
			res.Duplicates++
		}
		if ch.Err != nil {
			errs = append(errs, fmt.Errorf("chunk %d: %w", ch.Index, ch.Err))
		}
	}
	if terminal != nil && len(errs) == 0 {
		errs = append(errs, terminal)
	}
	return res, errors.Join(errs...)
}
