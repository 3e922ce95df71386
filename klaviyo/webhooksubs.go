package klaviyo

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// WebhooksService manages system webhook subscriptions.
type WebhooksService struct{ c *Client }

// Webhook is a system webhook subscription.
type Webhook struct {
	ID          string
	Name        string
	Description string
	EndpointURL string
	Enabled     bool
	Topics      []string
	Created     time.Time
}

// WebhookInput creates a system webhook.
type WebhookInput struct {
	Name        string
	Description string
	EndpointURL string // https
	// Secret is the secret_key deliveries are signed with; keep it for
	// [WebhookVerifier].
	Secret Secret
	// Topics are topic ids, as Topics lists them
	// ("event:klaviyo.email_delivered").
	Topics []string
}

type webhookWire struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	EndpointURL string `json:"endpoint_url"`
	Enabled     bool   `json:"enabled"`
	CreatedAt   jtime  `json:"created_at"`
}

func toWebhook(r resource[webhookWire]) Webhook {
	a := r.Attributes
	h := Webhook{ID: r.ID, Name: a.Name, Description: a.Description, EndpointURL: a.EndpointURL, Enabled: a.Enabled, Created: a.CreatedAt.Time}
	if rel, ok := r.Relationships["webhook-topics"]; ok {
		h.Topics = rel.ids()
	}
	return h
}

// Create creates a webhook. It is sent once: a retry after a lost answer
// could create a second one.
func (s *WebhooksService) Create(ctx context.Context, in WebhookInput) (*Webhook, *Response, error) {
	switch {
	case in.Name == "":
		return nil, nil, invalid("Name", "", "empty")
	case in.Secret.IsZero():
		return nil, nil, invalid("Secret", "", "empty")
	case len(in.Topics) == 0:
		return nil, nil, invalid("Topics", "", "at least one topic")
	}
	if u, err := url.Parse(in.EndpointURL); err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, nil, invalid("EndpointURL", in.EndpointURL, "must be an https URL")
	}
	s.c.tr.Redactor().AddSecret(in.Secret)
	attrs := map[string]any{"name": in.Name, "endpoint_url": in.EndpointURL, "secret_key": in.Secret.Reveal()}
	if in.Description != "" {
		attrs["description"] = in.Description
	}
	body := resource[map[string]any]{Type: "webhook", Attributes: attrs,
		Relationships: map[string]relationship{"webhook-topics": relMany("webhook-topic", in.Topics...)}}
	var doc document[resource[webhookWire]]
	r, err := s.c.do(ctx, &call{ep: EndpointCreateWebhook, method: http.MethodPost, path: "/api/webhooks",
		body: document[resource[map[string]any]]{body}, retry: transport.RetryIfRefused, out: &doc})
	if err != nil {
		return nil, r, err
	}
	h := toWebhook(doc.Data)
	return &h, r, nil
}

// All lists the account's webhooks with their topics. It asks for the
// topics with include=webhook-topics: under JSON:API a server may leave a
// to-many relationship's data out unless it is included, and Topics would
// then come back empty without a word.
func (s *WebhooksService) All(ctx context.Context) ([]Webhook, *Response, error) {
	var doc collection[resource[webhookWire]]
	r, err := s.c.do(ctx, &call{ep: EndpointGetWebhooks, method: http.MethodGet, path: "/api/webhooks",
		query: url.Values{"include": {"webhook-topics"}}, retry: transport.RetryIdempotent, out: &doc})
	if err != nil {
		return nil, r, err
	}
	out := make([]Webhook, len(doc.Data))
	for i, d := range doc.Data {
		out[i] = toWebhook(d)
	}
	return out, r, nil
}

// Delete deletes a webhook; deleting it again answers 404.
func (s *WebhooksService) Delete(ctx context.Context, id string) (*Response, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	return s.c.do(ctx, &call{ep: EndpointDeleteWebhook, method: http.MethodDelete, path: "/api/webhooks/" + url.PathEscape(id),
		retry: transport.RetryIdempotent})
}

// Topics lists the topic ids webhooks can subscribe to.
func (s *WebhooksService) Topics(ctx context.Context) ([]string, *Response, error) {
	var doc collection[resource[struct{}]]
	r, err := s.c.do(ctx, &call{ep: EndpointGetWebhookTopics, method: http.MethodGet, path: "/api/webhook-topics",
		retry: transport.RetryIdempotent, out: &doc})
	if err != nil {
		return nil, r, err
	}
	out := make([]string, len(doc.Data))
	for i, d := range doc.Data {
		out[i] = d.ID
	}
	return out, r, nil
}
