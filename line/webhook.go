package line

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// SignatureHeader is the header carrying a webhook body's signature.
const SignatureHeader = "X-Line-Signature"

// DefaultMaxWebhookBody caps webhook bodies read by WebhookHandler.
const DefaultMaxWebhookBody = 1 << 20

// Sign returns the signature LINE sends for body: base64 of
// HMAC-SHA256(channel secret, body).
func Sign(body []byte, secret Secret) string {
	m := hmac.New(sha256.New, []byte(secret.Reveal()))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify checks signature (the X-Line-Signature header) against the raw
// body with each secret (several during a rotation), in constant time and
// without stopping at the first match. It returns an *InputError when no
// usable secret is given, and a *WebhookError matching ErrInvalidSignature
// when the signature is missing, not base64 of 32 bytes, or made with none
// of the secrets.
func Verify(body []byte, signature string, secrets ...Secret) error {
	if !slices.ContainsFunc(secrets, func(s Secret) bool { return !s.IsZero() }) {
		return invalid("secrets", "at least one channel secret is needed")
	}
	if signature == "" {
		return webhookError(ErrInvalidSignature, SignatureHeader+" missing")
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return webhookError(ErrInvalidSignature, SignatureHeader+" is not base64 of 32 bytes")
	}
	ok := false
	for _, s := range secrets {
		if s.IsZero() {
			continue
		}
		m := hmac.New(sha256.New, []byte(s.Reveal()))
		m.Write(body)
		if hmac.Equal(got, m.Sum(nil)) {
			ok = true
		}
	}
	if !ok {
		return webhookError(ErrInvalidSignature, "no secret gives the signature of the body")
	}
	return nil
}

func webhookError(cause error, reason string) error {
	return shopcrm.NewWebhookError("line", cause, reason)
}

// Callback is a webhook body.
type Callback struct {
	Destination string  // the bot's user id
	Events      []Event // may be empty (LINE's connectivity check)
}

// Event is a webhook event: *FollowEvent, *UnfollowEvent, *MessageEvent,
// *PostbackEvent, *AccountLinkEvent or *UnknownEvent.
type Event interface {
	// Base returns the properties common to every event.
	Base() *EventBase
}

// Source is where an event came from.
type Source struct {
	Type    string `json:"type"` // user, group or room
	UserID  string `json:"userId,omitempty"`
	GroupID string `json:"groupId,omitempty"`
	RoomID  string `json:"roomId,omitempty"`
}

// EventBase holds the properties common to every event.
type EventBase struct {
	Type           string
	Timestamp      time.Time
	Mode           string // active or standby
	WebhookEventID string // unique per event: the dedupe key
	IsRedelivery   bool
	Source         *Source
}

// Base returns b.
func (b *EventBase) Base() *EventBase { return b }

// DedupeKey returns WebhookEventID, the key to drop redelivered events.
func (b *EventBase) DedupeKey() string { return b.WebhookEventID }

// FollowEvent is sent when a user adds the account as a friend.
type FollowEvent struct {
	EventBase
	ReplyToken  string
	IsUnblocked bool // the user unblocked the account
}

// UnfollowEvent is sent when a user blocks the account.
type UnfollowEvent struct{ EventBase }

// MessageEvent is a message from a user. Text is set for text messages; Raw
// keeps the message object of every kind.
type MessageEvent struct {
	EventBase
	ReplyToken  string
	MessageID   string
	MessageType string
	Text        string
	QuoteToken  string
	Raw         json.RawMessage
}

// PostbackEvent is a postback action.
type PostbackEvent struct {
	EventBase
	ReplyToken string
	Data       string
	Params     map[string]string
}

// AccountLinkEvent reports an account link; Nonce is the one given to
// AccountLinkURL.
type AccountLinkEvent struct {
	EventBase
	ReplyToken string // absent when linking failed
	Result     string // "ok" or "failed"
	Nonce      string
}

// UnknownEvent is an event of a type this package does not model (or one
// that did not decode); Raw keeps its JSON.
type UnknownEvent struct {
	EventBase
	Raw json.RawMessage
	Err error // set when a known type failed to decode
}

type rawEvent struct {
	Type            string  `json:"type"`
	Timestamp       int64   `json:"timestamp"`
	Mode            string  `json:"mode"`
	WebhookEventID  string  `json:"webhookEventId"`
	Source          *Source `json:"source"`
	DeliveryContext struct {
		IsRedelivery bool `json:"isRedelivery"`
	} `json:"deliveryContext"`
	ReplyToken string `json:"replyToken"`
	Follow     struct {
		IsUnblocked bool `json:"isUnblocked"`
	} `json:"follow"`
	Message  json.RawMessage `json:"message"`
	Postback struct {
		Data   string            `json:"data"`
		Params map[string]string `json:"params"`
	} `json:"postback"`
	Link struct {
		Result string `json:"result"`
		Nonce  string `json:"nonce"`
	} `json:"link"`
}

// Parse decodes a webhook body. Call Verify first, on the same bytes. An
// event that is unknown or fails to decode becomes an *UnknownEvent; only a
// body that is not a callback object is an error, a *WebhookError matching
// ErrMalformedWebhook.
func Parse(body []byte) (*Callback, error) {
	var cb struct {
		Destination string            `json:"destination"`
		Events      []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(body, &cb); err != nil {
		return nil, webhookError(ErrMalformedWebhook, "body: "+err.Error())
	}
	if cb.Events == nil {
		return nil, webhookError(ErrMalformedWebhook, "body has no events array")
	}
	out := &Callback{Destination: cb.Destination, Events: make([]Event, 0, len(cb.Events))}
	for _, raw := range cb.Events {
		out.Events = append(out.Events, parseEvent(raw))
	}
	return out, nil
}

func parseEvent(raw json.RawMessage) Event {
	var r rawEvent
	if err := json.Unmarshal(raw, &r); err != nil {
		return &UnknownEvent{Raw: raw, Err: err}
	}
	b := EventBase{Type: r.Type, Timestamp: time.UnixMilli(r.Timestamp).UTC(), Mode: r.Mode,
		WebhookEventID: r.WebhookEventID, IsRedelivery: r.DeliveryContext.IsRedelivery, Source: r.Source}
	switch r.Type {
	case "follow":
		return &FollowEvent{EventBase: b, ReplyToken: r.ReplyToken, IsUnblocked: r.Follow.IsUnblocked}
	case "unfollow":
		return &UnfollowEvent{EventBase: b}
	case "message":
		var m struct {
			ID         string `json:"id"`
			Type       string `json:"type"`
			Text       string `json:"text"`
			QuoteToken string `json:"quoteToken"`
		}
		if err := json.Unmarshal(r.Message, &m); err != nil {
			return &UnknownEvent{EventBase: b, Raw: raw, Err: err}
		}
		return &MessageEvent{EventBase: b, ReplyToken: r.ReplyToken, MessageID: m.ID, MessageType: m.Type, Text: m.Text, QuoteToken: m.QuoteToken, Raw: r.Message}
	case "postback":
		return &PostbackEvent{EventBase: b, ReplyToken: r.ReplyToken, Data: r.Postback.Data, Params: r.Postback.Params}
	case "accountLink":
		return &AccountLinkEvent{EventBase: b, ReplyToken: r.ReplyToken, Result: r.Link.Result, Nonce: r.Link.Nonce}
	}
	return &UnknownEvent{EventBase: b, Raw: raw}
}

// WebhookHandler is an http.Handler for LINE webhooks: it reads at most
// MaxBody bytes, answers 413 beyond, 405 to another method than POST, 401
// on a bad signature, 400 on a bad body, drops events it has handled
// before, calls Handle with the rest and answers 200 (500 when Handle
// fails, and when Secrets holds no usable secret). Every refusal is
// reported to OnError, as a *WebhookError when the delivery is at fault.
//
// LINE redelivers an event whose delivery failed (with isRedelivery set),
// and anyone who captured a signed body can replay it: the signature has
// no timestamp. Events are therefore deduplicated on their webhookEventId
// through Dedupe; an event whose handling fails is released, so that LINE's
// redelivery is handled again. A webhook whose events were all handled
// already is answered 200 without calling Handle.
type WebhookHandler struct {
	Secrets []Secret // the channel secret; two during a rotation
	MaxBody int64    // DefaultMaxWebhookBody when 0
	Handle  func(ctx context.Context, cb *Callback) error
	// Dedupe remembers handled events; nil means an in-process
	// MemoryDedupe created on first use. Share a store between processes
	// that serve the same channel.
	Dedupe DedupeStore
	// MaxAge, when positive, drops events older than this (by their
	// timestamp). Redelivered events keep their original timestamp, so a
	// short MaxAge also drops legitimate redeliveries; it is off by
	// default and dedupe alone stops replays within the store's memory.
	MaxAge time.Duration
	// OnError, when set, is told why a delivery was not handled: a
	// *WebhookError (413, 405, 401, 400), an *InputError (no secret), the
	// dedupe store's or Handle's error. The errors never hold a secret or
	// a signature; log them from here.
	OnError func(r *http.Request, err error)

	dedupe transport.DefaultDedupe
}

func (h *WebhookHandler) store() DedupeStore { return h.dedupe.Or(h.Dedupe) }

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := transport.ReadWebhook(w, r, "line", h.MaxBody, DefaultMaxWebhookBody, h.OnError)
	if !ok {
		return
	}
	cb, err := h.verify(r.Header, body)
	if err != nil {
		transport.RejectWebhook(w, r, err, h.OnError)
		return
	}
	ctx := r.Context()
	fresh, claimed, err := h.claim(ctx, cb.Events)
	if err != nil {
		transport.RejectWebhook(w, r, fmt.Errorf("line: dedupe store: %w", err), h.OnError)
		return
	}
	if len(cb.Events) > 0 && len(fresh) == 0 {
		w.WriteHeader(http.StatusOK)
		return
	}
	cb.Events = fresh
	if h.Handle != nil {
		if err := h.Handle(ctx, cb); err != nil {
			transport.ReleaseWebhook(ctx, h.store(), claimed...)
			transport.RejectWebhook(w, r, err, h.OnError)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (h *WebhookHandler) verify(header http.Header, body []byte) (*Callback, error) {
	if err := Verify(body, header.Get(SignatureHeader), h.Secrets...); err != nil {
		return nil, err
	}
	return Parse(body)
}

// claim keeps the events not handled before and not too old, and returns
// the keys it claimed for them.
func (h *WebhookHandler) claim(ctx context.Context, events []Event) (fresh []Event, claimed []string, err error) {
	for _, e := range events {
		b := e.Base()
		if h.MaxAge > 0 && time.Since(b.Timestamp) > h.MaxAge {
			continue
		}
		if b.WebhookEventID == "" {
			fresh = append(fresh, e)
			continue
		}
		ok, err := h.store().Claim(ctx, b.WebhookEventID)
		if err != nil {
			transport.ReleaseWebhook(ctx, h.store(), claimed...)
			return nil, nil, err
		}
		if ok {
			fresh = append(fresh, e)
			claimed = append(claimed, b.WebhookEventID)
		}
	}
	return fresh, claimed, nil
}
