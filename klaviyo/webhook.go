package klaviyo

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// The headers of a system webhook delivery.
const (
	HeaderWebhookID = "Klaviyo-Webhook-Id"
	HeaderSignature = "Klaviyo-Signature"
	HeaderTimestamp = "Klaviyo-Timestamp"
)

// DefaultWebhookMaxAge is how far a delivery's time may be from now before
// Verify refuses it as a replay.
const DefaultWebhookMaxAge = 5 * time.Minute

// DefaultMaxWebhookBody caps the body WebhookHandler reads.
const DefaultMaxWebhookBody = 5 << 20

// SignWebhook returns the Klaviyo-Signature of a delivery: the hex HMAC-SHA256
// of the raw body followed by the Klaviyo-Timestamp value, exactly as sent,
// keyed with the webhook's secret_key.
//
// What is known: Klaviyo's "Working with system webhooks" page names the
// three headers, HMAC-SHA256 and hex signatures (its example signature is
// 64 hex digits). The signing input, body then timestamp, is what two
// independent third-party implementations use, one of which reports
// checking it against live deliveries; Klaviyo's own code sample could not
// be read here, so no known-answer test from Klaviyo backs it. Keep it
// behind this one function.
func SignWebhook(secret Secret, body []byte, timestamp string) string {
	return hex.EncodeToString(webhookMAC(body, timestamp, secret))
}

func webhookMAC(body []byte, timestamp string, secret Secret) []byte {
	m := hmac.New(sha256.New, []byte(secret.Reveal()))
	m.Write(body)
	m.Write([]byte(timestamp))
	return m.Sum(nil)
}

// WebhookVerifier checks system webhook deliveries. Several secrets are
// accepted so that a secret can be rotated: add the new one, update the
// webhook, drop the old one.
type WebhookVerifier struct {
	Secrets []Secret
	// MaxAge bounds the age of the delivery, either way (default
	// DefaultWebhookMaxAge); a negative value turns the check off. The
	// age is read from the signed body's meta.timestamp, and from
	// Klaviyo-Timestamp only when the body has none: see Verify.
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// WebhookDelivery is a verified delivery: its events and metadata.
type WebhookDelivery struct {
	WebhookID string
	AccountID string
	// Timestamp is when Klaviyo sent the delivery: the body's
	// meta.timestamp, or Klaviyo-Timestamp when the body has none; zero
	// when neither is readable.
	Timestamp time.Time
	Events    []WebhookEvent
}

// WebhookEvent is one event of a delivery.
type WebhookEvent struct {
	// Topic is the topic id, e.g. "event:klaviyo.email_delivered".
	Topic string
	// ExternalID identifies the event: the key to deduplicate
	// redeliveries with ([WebhookEvent.DedupeKey]).
	ExternalID string
	// Event is the payload, in the shape of GET /api/events/{id}.
	Event EventRecord
}

// DedupeKey returns the key WebhookHandler claims for the event in its
// DedupeStore: ExternalID, prefixed so that one store can serve several
// platforms.
func (e WebhookEvent) DedupeKey() string { return "klaviyo:" + e.ExternalID }

func webhookError(cause error, reason string) error {
	return shopcrm.NewWebhookError("klaviyo", cause, reason)
}

// parseTimestamp reads a delivery's time. Klaviyo's documentation names
// Klaviyo-Timestamp but not its format: deliveries seen by others carry an
// HTTP-date ("Tue, 14 Apr 2026 03:50:12 GMT"); Unix seconds and RFC 3339
// (the format of meta.timestamp) are read too.
func parseTimestamp(v string) (time.Time, bool) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), true
	}
	t, err := http.ParseTime(v)
	return t.UTC(), err == nil
}

// Verify checks a delivery's signature against the raw body in constant
// time with each secret, decodes it with ParseWebhook, then checks its age.
// It returns an *InputError when no usable secret is configured, and a
// *WebhookError otherwise: matching ErrInvalidSignature when a header is
// missing or the signature is not hex or made with none of the secrets,
// ErrMalformedWebhook when the body does not decode, and ErrStaleWebhook
// when the delivery's time is further than MaxAge from now or unreadable.
//
// The age is that of the body's meta.timestamp, which the signature
// covers. Klaviyo-Timestamp is signed too but serves only when the body
// has no meta.timestamp: it has been reported to carry local time labelled
// GMT, hours off, which would refuse every delivery.
func (v WebhookVerifier) Verify(h http.Header, body []byte) (*WebhookDelivery, error) {
	if !slices.ContainsFunc(v.Secrets, func(s Secret) bool { return !s.IsZero() }) {
		return nil, invalid("Secrets", "", "at least one webhook secret_key is needed")
	}
	sig, ts, id := h.Get(HeaderSignature), h.Get(HeaderTimestamp), h.Get(HeaderWebhookID)
	if sig == "" || ts == "" || id == "" {
		return nil, webhookError(ErrInvalidSignature, "missing "+HeaderSignature+", "+HeaderTimestamp+" or "+HeaderWebhookID)
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha256.Size {
		return nil, webhookError(ErrInvalidSignature, HeaderSignature+" is not hex of 32 bytes")
	}
	ok := false
	for _, s := range v.Secrets {
		// every secret is tried: no early exit to time
		ok = (!s.IsZero() && hmac.Equal(got, webhookMAC(body, ts, s))) || ok
	}
	if !ok {
		return nil, webhookError(ErrInvalidSignature, "no secret gives the signature of the body and timestamp")
	}
	d, err := ParseWebhook(h, body)
	if err != nil {
		return nil, err
	}
	maxAge, now := v.MaxAge, time.Now
	if maxAge == 0 {
		maxAge = DefaultWebhookMaxAge
	}
	if v.Now != nil {
		now = v.Now
	}
	if maxAge < 0 {
		return d, nil
	}
	if d.Timestamp.IsZero() {
		return nil, webhookError(ErrStaleWebhook, "neither meta.timestamp nor "+HeaderTimestamp+" is a readable time")
	}
	if age := now().Sub(d.Timestamp); age > maxAge || age < -maxAge {
		return nil, webhookError(ErrStaleWebhook, fmt.Sprintf("sent at %s, %s away from now, more than %s: a replay or a skewed clock",
			d.Timestamp.Format(time.RFC3339), age.Round(time.Second), maxAge))
	}
	return d, nil
}

// ParseWebhook decodes a delivery's body and checks that its
// meta.klaviyo_webhook_id equals the Klaviyo-Webhook-Id header and that
// every event has an external_id. Call WebhookVerifier.Verify instead, or
// first, on the same bytes. Its errors are *WebhookError matching
// ErrMalformedWebhook. Timestamp is meta.timestamp, or Klaviyo-Timestamp
// when the body has none, zero when neither is readable.
func ParseWebhook(h http.Header, body []byte) (*WebhookDelivery, error) {
	var w struct {
		Data []struct {
			Topic      string          `json:"topic"`
			ExternalID string          `json:"external_id"`
			Payload    json.RawMessage `json:"payload"`
		} `json:"data"`
		Meta struct {
			AccountID string `json:"klaviyo_account_id"`
			WebhookID string `json:"klaviyo_webhook_id"`
			Timestamp string `json:"timestamp"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, webhookError(ErrMalformedWebhook, "body: "+err.Error())
	}
	id := h.Get(HeaderWebhookID)
	if w.Meta.WebhookID != id {
		return nil, webhookError(ErrMalformedWebhook, "meta.klaviyo_webhook_id does not match "+HeaderWebhookID)
	}
	d := &WebhookDelivery{WebhookID: id, AccountID: w.Meta.AccountID}
	if w.Meta.Timestamp != "" {
		at, ok := parseTimestamp(w.Meta.Timestamp)
		if !ok {
			return nil, webhookError(ErrMalformedWebhook, "meta.timestamp is not a time")
		}
		d.Timestamp = at
	} else {
		d.Timestamp, _ = parseTimestamp(h.Get(HeaderTimestamp))
	}
	for i, x := range w.Data {
		if x.ExternalID == "" {
			return nil, webhookError(ErrMalformedWebhook, fmt.Sprintf("data[%d] has no external_id", i))
		}
		e := WebhookEvent{Topic: x.Topic, ExternalID: x.ExternalID}
		var doc document[resource[eventWire]]
		if len(x.Payload) > 0 && json.Unmarshal(x.Payload, &doc) == nil && doc.Data.ID != "" {
			e.Event = toEventRecord(doc.Data)
		} else {
			var r resource[eventWire]
			if err := json.Unmarshal(x.Payload, &r); err != nil {
				return nil, webhookError(ErrMalformedWebhook, fmt.Sprintf("data[%d].payload: %v", i, err))
			}
			e.Event = toEventRecord(r)
		}
		d.Events = append(d.Events, e)
	}
	return d, nil
}

// WebhookHandler is an http.Handler for system webhook deliveries: it
// reads the raw body (POST only, at most MaxBody bytes: 413 beyond, 405 to
// another method), verifies it (401 on a bad signature or a timestamp
// outside MaxAge, 400 on a body that does not decode), and calls Handle
// once per event not handled before, by [WebhookEvent.DedupeKey], in
// Dedupe. When Handle fails, the event's key is released and the answer is
// 500, so Klaviyo's redelivery is handled again; the events handled before
// it in the same delivery stay claimed. A delivery whose events were all
// handled already is answered 200. Every refusal is reported to OnError,
// as a *WebhookError when the delivery is at fault.
//
// The signature covers the body and its meta.timestamp, so a captured
// delivery replayed after MaxAge is refused; within it, the dedupe drops
// it.
type WebhookHandler struct {
	Secrets []Secret // the webhook's secret_key; two during a rotation
	MaxBody int64    // DefaultMaxWebhookBody when 0
	Handle  func(ctx context.Context, e WebhookEvent) error
	// Dedupe remembers handled events; nil means an in-process
	// shopcrm.MemoryDedupe created on first use. Share a store between
	// processes that serve the same account.
	Dedupe shopcrm.DedupeStore
	// MaxAge bounds the age of the delivery, either way
	// (DefaultWebhookMaxAge when 0, no bound when negative); see
	// WebhookVerifier.Verify for where the age is read.
	MaxAge time.Duration
	// Now is the clock for MaxAge (default time.Now).
	Now func() time.Time
	// OnError, when set, is told why a delivery was not handled: a
	// *WebhookError (413, 405, 401, 400), an *InputError (no secret), the
	// dedupe store's or Handle's error. The errors never hold a secret or
	// a signature; log them from here.
	OnError func(r *http.Request, err error)

	dedupe transport.DefaultDedupe
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := transport.ReadWebhook(w, r, "klaviyo", h.MaxBody, DefaultMaxWebhookBody, h.OnError)
	if !ok {
		return
	}
	d, err := WebhookVerifier{Secrets: h.Secrets, MaxAge: h.MaxAge, Now: h.Now}.Verify(r.Header, body)
	if err != nil {
		transport.RejectWebhook(w, r, err, h.OnError)
		return
	}
	ctx := r.Context()
	st := h.dedupe.Or(h.Dedupe)
	for _, e := range d.Events {
		key := e.DedupeKey()
		fresh, err := st.Claim(ctx, key)
		if err != nil {
			transport.RejectWebhook(w, r, fmt.Errorf("klaviyo: dedupe store: %w", err), h.OnError)
			return
		}
		if !fresh || h.Handle == nil {
			continue
		}
		if err := h.Handle(ctx, e); err != nil {
			transport.ReleaseWebhook(ctx, st, key)
			transport.RejectWebhook(w, r, err, h.OnError)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}
