package line

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
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
	// Progress, when set, is called after each chunk (from several
	// goroutines, one call at a time).
	Progress func(MulticastProgress)
}

// MulticastProgress reports a multicast's progress.
type MulticastProgress struct {
	Chunks, Done, Failed int
	Recipients, Sent     int // Sent counts recipients of chunks done (duplicates included)
}

// ChunkResult is the outcome of one chunk of a multicast.
type ChunkResult struct {
	Index      int
	Recipients int
	SendResult       // zero when the chunk was not sent
	Err        error // nil when sent or already accepted
}

// MulticastResult is the outcome of a multicast.
type MulticastResult struct {
	RetryKey   string
	Recipients int // after de-duplication
	Calls      int // chunks attempted
	Duplicates int // chunks LINE had already accepted
	Chunks     []ChunkResult
}

// ErrNotSent marks chunks that were not attempted because an earlier chunk
// failed; running the same send again (same RetryKey) sends them.
var ErrNotSent = errors.New("line: not sent after an earlier failure")

// Multicast sends messages to r.To in chunks of 500 with bounded concurrency
// (see WithMaxInFlight). After the first failed chunk no new chunk starts;
// the returned error joins the chunk errors and the result tells which
// chunks were sent. Rerunning with the same RetryKey completes the send.
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

	n := (len(to) + MaxMulticastRecipients - 1) / MaxMulticastRecipients
	res := &MulticastResult{RetryKey: key, Recipients: len(to), Chunks: make([]ChunkResult, n)}
	var (
		mu     sync.Mutex
		prog   = MulticastProgress{Chunks: n, Recipients: len(to)}
		failed bool
		wg     sync.WaitGroup
		sem    = make(chan struct{}, c.maxInFlight)
	)
	for i := range n {
		lo, hi := i*MaxMulticastRecipients, min((i+1)*MaxMulticastRecipients, len(to))
		ch := &res.Chunks[i]
		ch.Index, ch.Recipients = i, hi-lo
		acquired := false
		select {
		case sem <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
		mu.Lock()
		stop := failed || ctx.Err() != nil
		mu.Unlock()
		if stop {
			if ctx.Err() != nil {
				ch.Err = ctx.Err()
			} else {
				ch.Err = ErrNotSent
			}
			if acquired {
				<-sem
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			k := chunkKey(key, i)
			sr, _, err := c.send(ctx, EndpointMulticast, "/v2/bot/message/multicast", k,
				&sendBody{To: to[lo:hi], Messages: r.Messages, NotificationDisabled: r.NotificationDisabled, CustomAggregationUnits: u}, nil)
			mu.Lock()
			defer mu.Unlock()
			res.Calls++
			if err != nil {
				ch.SendResult.RetryKey = k
				ch.Err = err
				failed = true
				prog.Failed++
			} else {
				ch.SendResult = *sr
				if sr.Duplicate {
					res.Duplicates++
				}
				prog.Done++
				prog.Sent += hi - lo
			}
			if r.Progress != nil {
				r.Progress(prog)
			}
		}()
	}
	wg.Wait()
	var errs []error
	for i := range res.Chunks {
		if e := res.Chunks[i].Err; e != nil && !errors.Is(e, ErrNotSent) {
			errs = append(errs, fmt.Errorf("chunk %d: %w", i, e))
		}
	}
	if len(errs) == 0 {
		for i := range res.Chunks {
			if res.Chunks[i].Err != nil {
				errs = append(errs, res.Chunks[i].Err)
				break
			}
		}
	}
	return res, errors.Join(errs...)
}
