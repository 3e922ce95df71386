package shopifytest

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm/gid"
)

// ShopID is the fake shop's numeric id, as webhook payloads carry it.
const ShopID int64 = 1

// The webhooks the fake emits by itself, to the subscriptions created with
// webhookSubscriptionCreate: the subscription topic (the enum value) and
// the X-Shopify-Topic header it is delivered under.
var emittedTopics = map[string]string{
	"CUSTOMER_TAGS_ADDED":     "customer.tags_added",
	"CUSTOMER_TAGS_REMOVED":   "customer.tags_removed",
	"CUSTOMER_JOINED_SEGMENT": "customer.joined_segment",
	"CUSTOMER_LEFT_SEGMENT":   "customer.left_segment",
	"BULK_OPERATIONS_FINISH":  "bulk_operations/finish",
}

// Defaults of the emitter's retry schedule. Shopify retries a failed
// delivery 8 times over 4 hours; the fake keeps the count and compresses
// the schedule so that a test sees the retries.
const (
	DefaultWebhookRetries = 8
	DefaultWebhookBackoff = 50 * time.Millisecond
)

// WithWebhookClient sends the webhooks the fake emits through hc, e.g. the
// Client of an httptest TLS server (subscriptions take https URLs only).
func WithWebhookClient(hc *http.Client) Option { return func(c *config) { c.hookClient = hc } }

// WithWebhookRetries sets how many times a failed emitted delivery is
// retried and the first wait, doubled on each retry (default
// [DefaultWebhookRetries], [DefaultWebhookBackoff]).
func WithWebhookRetries(n int, first time.Duration) Option {
	return func(c *config) { c.hookRetries, c.hookBackoff = &n, first }
}

// emitter delivers emitted webhooks one at a time, in the order the
// changes happened, each failed one again after its backoff. It runs
// outside the server's lock: a receiver may call the fake back.
type emitter struct {
	client  *http.Client
	retries int
	backoff time.Duration
	ctx     context.Context
	stop    context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	queue   []*emitJob
	pending int // queued or being sent
	sent    []WebhookDelivery
	kick    chan struct{}
}

type emitJob struct {
	d       *WebhookDelivery
	tries   int
	readyAt time.Time
}

func newEmitter(c config) *emitter {
	e := &emitter{client: c.hookClient, retries: DefaultWebhookRetries, backoff: DefaultWebhookBackoff, kick: make(chan struct{}, 1)}
	if e.client == nil {
		e.client = &http.Client{Timeout: WebhookTimeout}
	}
	if c.hookRetries != nil {
		e.retries, e.backoff = max(*c.hookRetries, 0), c.hookBackoff
	}
	e.ctx, e.stop = context.WithCancel(context.Background())
	e.wg.Add(1)
	go e.run()
	return e
}

func (e *emitter) add(d *WebhookDelivery) {
	e.mu.Lock()
	e.queue = append(e.queue, &emitJob{d: d})
	e.pending++
	e.mu.Unlock()
	e.wake()
}

func (e *emitter) wake() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

func (e *emitter) run() {
	defer e.wg.Done()
	for {
		j, wait := e.next()
		if j == nil {
			t := time.NewTimer(wait)
			select {
			case <-e.ctx.Done():
				t.Stop()
				return
			case <-e.kick:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		d := *j.d
		d.Header, d.Status = j.d.Header.Clone(), 0
		err := d.sendWith(e.ctx, e.client)
		if e.ctx.Err() != nil {
			return
		}
		e.mu.Lock()
		if err != nil {
			d.Err = err.Error()
		}
		e.sent = append(e.sent, d)
		if (err != nil || d.Status/100 != 2) && j.tries < e.retries {
			j.readyAt = time.Now().Add(e.backoff << j.tries)
			j.tries++
			e.queue = append(e.queue, j)
		} else {
			e.pending--
		}
		e.mu.Unlock()
	}
}

// next takes the first job that is due, or says how long until one is.
func (e *emitter) next() (*emitJob, time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now, wait := time.Now(), time.Hour
	for i, j := range e.queue {
		if !j.readyAt.After(now) {
			e.queue = slices.Delete(e.queue, i, i+1)
			return j, 0
		}
		wait = min(wait, j.readyAt.Sub(now))
	}
	return nil, wait
}

func (e *emitter) close() {
	e.stop()
	e.wg.Wait()
}

// EmittedWebhooks returns every delivery attempt of the webhooks the
// server emitted by itself, in the order they were made; a retry keeps
// the event and webhook ids of the first attempt.
func (s *Server) EmittedWebhooks() []WebhookDelivery {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	out := make([]WebhookDelivery, len(s.hooks.sent))
	for i, d := range s.hooks.sent {
		out[i] = d
		out[i].Header = d.Header.Clone()
	}
	return out
}

// WaitWebhooks waits until every emitted webhook has been delivered or has
// used up its retries.
func (s *Server) WaitWebhooks(ctx context.Context) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		s.hooks.mu.Lock()
		n := s.hooks.pending
		s.hooks.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// emit queues a webhook for every subscription to topic (an enum value).
// A subscription with a filter, includeFields, metafieldNamespaces or the
// XML format is refused with a failed delivery, since the fake does not
// shape payloads that way and must not pretend to. The caller holds s.mu.
func (s *Server) emit(topic string, payload any) {
	for _, w := range sortedValues(s.whsubs) {
		if w.Topic != topic {
			continue
		}
		d, err := s.newDelivery(w.CallbackURL, emittedTopics[topic], payload)
		if what := unmodelledSub(w); err == nil && what != "" {
			d.Err = "shopifytest: subscription " + what + " not modelled; nothing was sent"
			s.hooks.mu.Lock()
			s.hooks.sent = append(s.hooks.sent, *d)
			s.hooks.mu.Unlock()
			continue
		}
		if err == nil {
			s.hooks.add(d)
		}
	}
}

// unmodelledSub names what of w the fake cannot honour ("" when nothing).
func unmodelledSub(w *WebhookSubscription) string {
	switch {
	case w.Filter != "":
		return "filters are"
	case len(w.IncludeFields) > 0:
		return "includeFields are"
	case len(w.MetafieldNamespaces) > 0:
		return "metafieldNamespaces are"
	case w.Format != "" && w.Format != "JSON":
		return w.Format + " payloads are"
	}
	return ""
}

// customerChanged emits the webhooks of a change to c whose state before
// was old: the tags added and removed, and the segments joined and left.
// The caller holds s.mu.
func (s *Server) customerChanged(old *Customer, c *Customer, now time.Time) {
	if len(s.whsubs) == 0 {
		return
	}
	id := gid.New(gid.Customer, c.ID).String()
	if added := tagDiff(c.Tags, old.Tags); len(added) > 0 {
		s.emit("CUSTOMER_TAGS_ADDED", map[string]any{"customerId": id, "tags": added, "occurredAt": now.UTC().Format(time.RFC3339Nano)})
	}
	if removed := tagDiff(old.Tags, c.Tags); len(removed) > 0 {
		s.emit("CUSTOMER_TAGS_REMOVED", map[string]any{"customerId": id, "tags": removed, "occurredAt": now.UTC().Format(time.RFC3339Nano)})
	}
	for _, g := range sortedValues(s.segments) {
		was, is := g.match(old), g.match(c)
		if was == is {
			continue
		}
		topic := "CUSTOMER_LEFT_SEGMENT"
		if is {
			topic = "CUSTOMER_JOINED_SEGMENT"
		}
		s.emit(topic, map[string]any{"shop_id": "gid://shopify/Shop/" + strconv.FormatInt(ShopID, 10),
			"customer_id": id, "segment_id": gid.New(gid.Segment, g.id).String()})
	}
}

// tagDiff returns the tags of a that b lacks, compared as Shopify compares
// tags (case-insensitively).
func tagDiff(a, b []string) []string {
	var out []string
	for _, t := range a {
		if !slices.ContainsFunc(b, func(u string) bool { return strings.EqualFold(t, u) }) {
			out = append(out, t)
		}
	}
	return out
}
