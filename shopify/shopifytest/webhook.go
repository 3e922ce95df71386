package shopifytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/shopify"
)

// ClientSecret returns the app's client secret ([WithOAuthClient]), which
// signs the webhooks the server sends: give it to shopify.WebhookHandler or
// shopify.VerifyWebhook.
func (s *Server) ClientSecret() shopcrm.Secret {
	_, secret := s.oauthApp()
	return shopcrm.NewSecret(secret)
}

// WebhookTimeout is how long SendWebhook waits for an answer: Shopify's 1
// second to connect plus 5 to respond.
const WebhookTimeout = 6 * time.Second

// WebhookDelivery is a webhook the server sent and the answer it got.
type WebhookDelivery struct {
	URL         string
	Topic       string
	EventID     string // X-Shopify-Event-Id, kept by Redeliver
	WebhookID   string // X-Shopify-Webhook-Id, kept by Redeliver
	TriggeredAt time.Time
	Header      http.Header // every header sent, the signature included
	Body        []byte
	Status      int    // the receiver's HTTP status
	Err         string // why an emitted delivery got no status
}

// SendWebhook POSTs a webhook for topic to url, as Shopify does: payload
// (JSON-encoded unless it is []byte or json.RawMessage) signed with the
// server's client secret in X-Shopify-Hmac-Sha256, the topic, shop domain
// (Shop), API version, a new random webhook and event id and the server's
// clock as triggered-at. A non-2xx answer is not an error: see Status.
func (s *Server) SendWebhook(ctx context.Context, url, topic string, payload any) (*WebhookDelivery, error) {
	d, err := s.newDelivery(url, topic, payload)
	if err != nil {
		return nil, err
	}
	return d, d.send(ctx)
}

// newDelivery builds a signed delivery of payload for topic to url, with
// new webhook and event ids.
func (s *Server) newDelivery(url, topic string, payload any) (*WebhookDelivery, error) {
	var body []byte
	switch p := payload.(type) {
	case []byte:
		body = p
	case json.RawMessage:
		body = p
	default:
		b, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("shopifytest: webhook payload: %w", err)
		}
		body = b
	}
	version := s.cfg.version
	if version == "" {
		version = shopify.DefaultAPIVersion
	}
	d := &WebhookDelivery{URL: url, Topic: topic, EventID: randomID(), WebhookID: randomID(),
		TriggeredAt: s.Now().UTC(), Body: body}
	d.Header = http.Header{}
	d.Header.Set("Content-Type", "application/json")
	d.Header.Set(shopify.HeaderTopic, topic)
	d.Header.Set(shopify.HeaderHmac, shopify.SignWebhook(body, s.ClientSecret()))
	d.Header.Set(shopify.HeaderShopDomain, Shop)
	d.Header.Set(shopify.HeaderAPIVersion, version)
	d.Header.Set(shopify.HeaderWebhookID, d.WebhookID)
	d.Header.Set(shopify.HeaderEventID, d.EventID)
	d.Header.Set(shopify.HeaderTriggeredAt, d.TriggeredAt.Format(time.RFC3339Nano))
	return d, nil
}

// Redeliver sends d again with the same body, signature and headers (the
// same event id), as Shopify's retries do, and returns the new delivery.
func (s *Server) Redeliver(ctx context.Context, d *WebhookDelivery) (*WebhookDelivery, error) {
	again := *d
	again.Header, again.Status = d.Header.Clone(), 0
	return &again, again.send(ctx)
}

func (d *WebhookDelivery) send(ctx context.Context) error {
	return d.sendWith(ctx, http.DefaultClient)
}

func (d *WebhookDelivery) sendWith(ctx context.Context, hc *http.Client) error {
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return fmt.Errorf("shopifytest: webhook request: %w", err)
	}
	req.Header = d.Header.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("shopifytest: webhook delivery: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	d.Status = resp.StatusCode
	return nil
}

// randomID returns an opaque random id; Shopify documents the ids as
// opaque strings.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
