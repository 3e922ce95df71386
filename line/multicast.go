package line

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

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
	// RetryKey is the key of the whole send (generated when empty; taken
	// from Record when it has one). Each chunk carries a key derived from
	// it and the chunk's place in the record.
	RetryKey string
	// Record, when set, is the send record of an earlier run of this send:
	// Multicast resumes from it and updates it in place. Persist it after
	// the call (it marshals to JSON), and in Save for crash safety.
	Record *SendRecord
	// Save, when set, is called with the record once the chunks are
	// planned and before any request goes out; an error from it ends the
	// call with nothing sent. Persisting the record here means that even a
	// process killed mid-send can be resumed without a duplicate.
	Save func(*SendRecord) error
	// Progress, when set, is called after each chunk with the counts of
	// recipients so far, one call at a time, never under a lock.
	Progress func(shopcrm.Progress)
}

// SendRecord is what a multicast sent: which recipients went out under
// which chunk retry key, and with what outcome. It is what makes a rerun
// over a changed recipient list safe: the list is re-read between runs, so
// keys derived from chunk contents or positions would shift with every
// edit.
type SendRecord struct {
	RetryKey string        `json:"retryKey"`
	Chunks   []RecordChunk `json:"chunks"`
}

// RecordChunk is one chunk of a send record.
type RecordChunk struct {
	RetryKey string   `json:"retryKey"`
	To       []string `json:"to"`
	// Outcome is Applied (LINE accepted the chunk: its recipients got the
	// message), Failed (LINE refused it: nobody did), Unknown (the answer
	// was lost), or zero while planned and not yet answered.
	Outcome   shopcrm.Outcome `json:"outcome,omitempty"`
	RequestID string          `json:"requestId,omitempty"`
	// SentAt is when the chunk's key first went out, or was about to: it
	// is set when a run plans to send the chunk, before Save, so that a
	// record saved by a process killed mid-send has it, and cleared again
	// when that run did not send it after all (NotSent). The client's
	// clock, see WithClock. A chunk whose outcome is open is resent under
	// its key only within RetryKeyLifetime of it.
	SentAt time.Time `json:"sentAt,omitzero"`
}

// ChunkResult is the outcome of one chunk request of a multicast.
type ChunkResult struct {
	Index      int // the chunk's place in the send record
	Recipients int
	SendResult       // RetryKey is set even when the chunk failed
	Err        error // nil when sent or already accepted
}

// MulticastResult is the outcome of a multicast.
type MulticastResult struct {
	RetryKey   string
	Recipients int // after de-duplication
	Calls      int // chunk requests made
	Duplicates int // chunks LINE had already accepted
	// Chunks are the chunk requests made, by index.
	Chunks []ChunkResult
	// AlreadySent are the recipients an earlier run of the send reached
	// (per the record); nothing was sent to them now.
	AlreadySent []string
	// Failed are the recipients of chunks LINE refused: they did not get
	// the message; a rerun with the record sends to them under new keys.
	Failed []string
	// Unknown are the recipients of chunks whose answer was lost: a rerun
	// with the record resends those chunks under their old keys, which
	// LINE accepts at most once, as long as the keys are younger than
	// RetryKeyLifetime (older ones are not resent; see Multicast).
	Unknown []string
	// NotSent are the recipients left out because a terminal error
	// (quota, 401, a cancelled context) stopped the send first.
	NotSent []string
	// Record is the send record, updated (the request's, or a new one).
	Record *SendRecord
	// Progress holds the final counts of recipients by outcome.
	Progress shopcrm.Progress
}

// ErrNotSent matches the error of a multicast that left recipients out
// (MulticastResult.NotSent) because a terminal error stopped it first.
var ErrNotSent = shopcrm.ErrNotSent

// job is one chunk request to make: a chunk of the record, whole or, for a
// chunk whose answer was lost, restricted to the current recipients.
type job struct {
	chunk   int
	to      []string
	stamped bool // this run set the chunk's SentAt
}

// Multicast sends messages to r.To in chunks of 500 with several chunks in
// flight (see WithMaxInFlight).
//
// A chunk that fails does not stop the others; a terminal error (the
// monthly quota, 401, a cancelled context) stops the send at once: no
// request starts after it. Every recipient of r.To ends up in exactly one
// place: a chunk LINE accepted (now or, per the record, before), or one of
// the result's AlreadySent, Failed, Unknown and NotSent lists. The error
// joins the chunk errors.
//
// Reruns: run the same send again with the record of the previous run
// (r.Record, or the result's Record, persisted in between) and the
// recipient list as it is now. No recipient whose chunk LINE accepted gets
// the message twice, whatever was added, removed or reordered: accepted
// chunks are skipped; a chunk whose answer was lost is resent under its
// own key, restricted to the recipients still listed (LINE answers 409 if
// it had accepted it, so nobody gets it twice); refused chunks and new
// recipients go out in new chunks with new keys. Without a record, chunk
// keys come from the send key and the chunk's position in the sorted list,
// so only a rerun over the same list is safe.
//
// LINE remembers a retry key for [RetryKeyLifetime] only. A chunk whose
// answer was lost (or that went out and was never answered, as when the
// process was killed; a record saved by Save counts its chunks as gone
// out) that long ago or more is not sent again: LINE would take it as new,
// and its recipients may have the message. They are
// reported in Unknown, with an error matching [ErrRetryKeyExpired]; to send
// to them anyway, set the chunk's Outcome in the record to Failed and run
// again.
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
	rec := r.Record
	if rec == nil {
		rec = &SendRecord{}
	}
	if rec.RetryKey != "" && r.RetryKey != "" && rec.RetryKey != r.RetryKey {
		return nil, invalid("RetryKey", "differs from the record's %s", rec.RetryKey)
	}
	keyIn := r.RetryKey
	if rec.RetryKey != "" {
		keyIn = rec.RetryKey
	}
	key, err := retryKey(keyIn)
	if err != nil {
		return nil, err
	}
	rec.RetryKey = key
	to := slices.Clone(r.To)
	slices.Sort(to)
	to = slices.Compact(to)

	res := &MulticastResult{RetryKey: key, Recipients: len(to), Record: rec}
	jobs, expired, err := plan(rec, to, res, c.now())
	if err != nil {
		return nil, err
	}
	if r.Save != nil {
		if err := r.Save(rec); err != nil {
			return nil, fmt.Errorf("line: saving the send record: %w", err)
		}
	}
	var (
		mu   sync.Mutex
		prog = shopcrm.Progress{Seen: len(to) - len(res.AlreadySent), Unknown: len(res.Unknown)}
	)
	// settle records a chunk request's outcome in the record and the
	// result, and returns the counts so far.
	settle := func(br bulk.Result[job]) shopcrm.Progress {
		j := br.Item
		mu.Lock()
		defer mu.Unlock()
		rc := &rec.Chunks[j.chunk]
		switch br.Outcome {
		case shopcrm.Applied:
			prog.Applied += len(j.to)
		case shopcrm.Failed:
			rc.Outcome = shopcrm.Failed
			res.Failed = append(res.Failed, j.to...)
			prog.Failed += len(j.to)
		case shopcrm.Unknown:
			rc.Outcome = shopcrm.Unknown
			res.Unknown = append(res.Unknown, j.to...)
			prog.Unknown += len(j.to)
		case shopcrm.NotSent:
			if j.stamped {
				rc.SentAt = time.Time{}
			}
			res.NotSent = append(res.NotSent, j.to...)
			prog.NotSent += len(j.to)
		}
		prog.Chunks++
		return prog
	}
	w := bulk.Writer[job]{
		Classify: func(err error) bulk.Class { return classifyChunk(ctx, err) },
		Max:      bulk.Limits{Items: 1},
		InFlight: c.maxInFlight,
		Send: func(ctx context.Context, ch *bulk.Chunk[job]) error {
			j := ch.Items[0]
			mu.Lock()
			k := rec.Chunks[j.chunk].RetryKey
			mu.Unlock()
			sr, _, err := c.send(ctx, EndpointMulticast, "/v2/bot/message/multicast", k,
				&sendBody{To: j.to, Messages: r.Messages, NotificationDisabled: r.NotificationDisabled, CustomAggregationUnits: u}, nil)
			cr := ChunkResult{Index: j.chunk, Recipients: len(j.to), SendResult: SendResult{RetryKey: k}, Err: err}
			if sr != nil {
				cr.SendResult = *sr
			}
			mu.Lock()
			res.Chunks = append(res.Chunks, cr)
			rc := &rec.Chunks[j.chunk]
			switch {
			case err != nil:
			case sr.Duplicate:
				// LINE had accepted this key: the chunk as first sent went
				// out, to all of its recipients.
				rc.Outcome, rc.RequestID = shopcrm.Applied, sr.AcceptedRequestID
			default:
				rc.Outcome, rc.RequestID, rc.To = shopcrm.Applied, sr.RequestID, j.to
			}
			mu.Unlock()
			return err
		},
		OnResult: func(br bulk.Result[job]) {
			p := settle(br)
			if r.Progress != nil {
				r.Progress(p)
			}
		},
	}
	_, terminal := w.Run(ctx, slices.Values(jobs))
	res.Progress = prog
	for _, l := range [][]string{res.AlreadySent, res.Failed, res.Unknown, res.NotSent} {
		slices.Sort(l)
	}
	slices.SortFunc(res.Chunks, func(a, b ChunkResult) int { return a.Index - b.Index })
	var errs []error
	for _, i := range expired {
		errs = append(errs, fmt.Errorf("chunk %d, first sent %s: %w", i, rec.Chunks[i].SentAt.Format(time.RFC3339), ErrRetryKeyExpired))
	}
	for _, ch := range res.Chunks {
		res.Calls++
		if ch.Duplicate {
			res.Duplicates++
		}
		if ch.Err != nil {
			errs = append(errs, fmt.Errorf("chunk %d: %w", ch.Index, ch.Err))
		}
	}
	// Recipients left out are named in the error (matching ErrNotSent and
	// the terminal error that stopped the send), even when chunk errors
	// came first; a terminal error a chunk returned is among the chunk
	// errors already.
	switch {
	case len(res.NotSent) > 0:
		errs = append(errs, fmt.Errorf("%d recipients: %w", len(res.NotSent), &shopcrm.NotSentError{Reason: terminal}))
	case terminal != nil && !errors.Is(errors.Join(errs...), terminal):
		errs = append(errs, terminal)
	}
	return res, errors.Join(errs...)
}

// classifyChunk says what a chunk's error means for its recipients: as
// for any bulk write under ctx, except that a 4xx answer other than 408 is
// LINE refusing the chunk (a malformed user id, a body too large): nobody
// got it, so it failed rather than being unknown.
func classifyChunk(ctx context.Context, err error) bulk.Class {
	c := bulk.ClassifyIn(ctx, err)
	var ae *APIError
	if c.Outcome == shopcrm.Unknown && errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusRequestTimeout {
		c.Outcome = shopcrm.Failed
	}
	return c
}

// plan reads the record against the current recipients to (sorted) and
// returns the chunk requests to make, appending new chunks to rec, and the
// chunks left unsent because their key expired. It fills res.AlreadySent
// and, for those chunks, res.Unknown.
func plan(rec *SendRecord, to []string, res *MulticastResult, now time.Time) (jobs []job, expired []int, err error) {
	want := make(map[string]bool, len(to))
	for _, u := range to {
		want[u] = true
	}
	covered := make(map[string]bool)
	for i := range rec.Chunks {
		rc := &rec.Chunks[i]
		if !ValidRetryKey(rc.RetryKey) {
			return nil, nil, invalid(fmt.Sprintf("Record.Chunks[%d].RetryKey", i), "%q is not a hyphenated hex UUID", rc.RetryKey)
		}
		switch rc.Outcome {
		case shopcrm.Applied:
			for _, u := range rc.To {
				if want[u] && !covered[u] {
					covered[u] = true
					res.AlreadySent = append(res.AlreadySent, u)
				}
			}
		case shopcrm.Failed:
			// Nobody got it: its recipients go out again in new chunks.
		case 0, shopcrm.Unknown:
			var still []string
			for _, u := range rc.To {
				if want[u] && !covered[u] {
					covered[u] = true
					still = append(still, u)
				}
			}
			switch {
			case len(still) == 0:
			case !rc.SentAt.IsZero() && now.Sub(rc.SentAt) >= RetryKeyLifetime:
				rc.Outcome = shopcrm.Unknown
				res.Unknown = append(res.Unknown, still...)
				expired = append(expired, i)
			default:
				stamp := rc.SentAt.IsZero()
				if stamp {
					rc.SentAt = now
				}
				jobs = append(jobs, job{chunk: i, to: still, stamped: stamp})
			}
		default:
			return nil, nil, invalid(fmt.Sprintf("Record.Chunks[%d].Outcome", i), "%v is not a chunk outcome", rc.Outcome)
		}
	}
	var fresh []string
	for _, u := range to {
		if !covered[u] {
			fresh = append(fresh, u)
		}
	}
	for len(fresh) > 0 {
		n := min(len(fresh), MaxMulticastRecipients)
		i := len(rec.Chunks)
		rec.Chunks = append(rec.Chunks, RecordChunk{RetryKey: chunkKey(rec.RetryKey, i), To: slices.Clone(fresh[:n]), SentAt: now})
		jobs = append(jobs, job{chunk: i, to: rec.Chunks[i].To, stamped: true})
		fresh = fresh[n:]
	}
	return jobs, expired, nil
}
