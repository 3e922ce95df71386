package klaviyotest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/klaviyo"
)

// webhook is a system webhook subscription.
type webhook struct {
	id, name, description, endpoint string
	secret                          string
	topics                          []string
	created                         time.Time
}

// DefaultWebhookTopics are the topics the server offers: email metrics
// from Klaviyo's "Working with system webhooks" topic table.
var DefaultWebhookTopics = []string{"event:klaviyo.bounced_email", "event:klaviyo.clicked_email",
	"event:klaviyo.dropped_email", "event:klaviyo.email_delivered"}

func webhookJSON(r *http.Request, h *webhook) map[string]any {
	refs := make([]any, len(h.topics))
	for i, t := range h.topics {
		refs[i] = map[string]any{"type": "webhook-topic", "id": t}
	}
	return map[string]any{"type": "webhook", "id": h.id,
		"attributes": map[string]any{"name": h.name, "description": nullable(h.description), "endpoint_url": h.endpoint,
			"enabled": true, "created_at": timeStr(h.created), "updated_at": timeStr(h.created)},
		"relationships": map[string]any{"webhook-topics": map[string]any{"data": refs}},
		"links":         map[string]any{"self": baseURL(r) + "/api/webhooks/" + h.id + "/"}}
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, q url.Values) {
	if !checkQuery(w, q, "include") {
		return
	}
	inc := q.Get("include")
	if inc != "" && inc != "webhook-topics" {
		invalidParam(w, "include", "Invalid include %q: only webhook-topics.", inc)
		return
	}
	out := make([]any, 0, len(s.st.hookIDs))
	included := []any{}
	seen := map[string]bool{}
	for _, id := range s.st.hookIDs {
		h := s.st.hooks[id]
		out = append(out, webhookJSON(r, h))
		for _, t := range h.topics {
			if inc != "" && !seen[t] {
				seen[t] = true
				included = append(included, topicJSON(r, t))
			}
		}
	}
	body := map[string]any{"data": out, "links": map[string]any{"self": baseURL(r) + "/api/webhooks/"}}
	if inc != "" {
		body["included"] = included
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, body []byte) {
	res, ok := decode(w, body, "webhook")
	if !ok {
		return
	}
	h := &webhook{created: s.base.Now()}
	for k, raw := range res.Attributes {
		v, _, err := str(raw)
		if err != nil {
			invalidAt(w, "/data/attributes/"+k, "%s must be a string.", k)
			return
		}
		switch k {
		case "name":
			h.name = v
		case "description":
			h.description = v
		case "endpoint_url":
			h.endpoint = v
		case "secret_key":
			h.secret = v
		default:
			invalidAt(w, "/data/attributes/"+k, "'%s' is not a valid field for the resource 'webhook'.", k)
			return
		}
	}
	switch {
	case h.name == "":
		invalidAt(w, "/data/attributes/name", "This field is required.")
		return
	case !strings.HasPrefix(h.endpoint, "https://"):
		invalidAt(w, "/data/attributes/endpoint_url", "The endpoint must be an https URL.")
		return
	case h.secret == "":
		invalidAt(w, "/data/attributes/secret_key", "This field is required.")
		return
	}
	var refs []struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if err := json.Unmarshal(res.Relationships["webhook-topics"].Data, &refs); err != nil || len(refs) == 0 {
		invalidAt(w, "/data/relationships/webhook-topics", "At least one topic is required.")
		return
	}
	for _, t := range refs {
		if t.Type != "webhook-topic" || !contains(DefaultWebhookTopics, t.ID) {
			invalidAt(w, "/data/relationships/webhook-topics", "Unknown topic %q.", t.ID)
			return
		}
		h.topics = append(h.topics, t.ID)
	}
	h.id = newUUID()
	s.st.hooks[h.id] = h
	s.st.hookIDs = append(s.st.hookIDs, h.id)
	writeJSON(w, http.StatusCreated, map[string]any{"data": webhookJSON(r, h)})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Server) deleteWebhook(w http.ResponseWriter, id string) {
	if s.st.hooks[id] == nil {
		notFound(w, "Webhook")
		return
	}
	delete(s.st.hooks, id)
	for i, x := range s.st.hookIDs {
		if x == id {
			s.st.hookIDs = append(s.st.hookIDs[:i], s.st.hookIDs[i+1:]...)
			break
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listWebhookTopics(w http.ResponseWriter, r *http.Request) {
	out := make([]any, len(DefaultWebhookTopics))
	for i, t := range DefaultWebhookTopics {
		out[i] = topicJSON(r, t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "links": map[string]any{"self": baseURL(r) + "/api/webhook-topics/"}})
}

func topicJSON(r *http.Request, t string) map[string]any {
	return map[string]any{"type": "webhook-topic", "id": t, "links": map[string]any{"self": baseURL(r) + "/api/webhook-topics/" + t + "/"}}
}

// AccountID is the klaviyo_account_id of the server's deliveries.
const AccountID = "KTEST1"

// WebhookEvent is one event of a delivery the server signs.
type WebhookEvent struct {
	Topic      string // "event:klaviyo.email_delivered"
	ExternalID string // the event's id, the receiver's dedupe key
	Event      StoredEvent
}

// WebhookDelivery returns the body and headers of a delivery to the
// webhook with id, signed with its secret_key at the server's clock: the
// hex HMAC-SHA256 of the body followed by the Klaviyo-Timestamp value (see
// klaviyo.SignWebhook for what is known of it). The body's meta.timestamp
// is RFC 3339 and the header an HTTP-date, as deliveries seen by others
// carry; [WithWebhookTimestampSkew] shifts the header. ok is false when
// there is no such webhook.
func (s *Server) WebhookDelivery(webhookID string, events ...WebhookEvent) (body []byte, h http.Header, ok bool) {
	s.mu.Lock()
	hook := s.st.hooks[webhookID]
	now := s.base.Now()
	s.mu.Unlock()
	if hook == nil {
		return nil, nil, false
	}
	data := make([]any, len(events))
	for i, e := range events {
		ev := e.Event
		props := copyMap(ev.Properties)
		data[i] = map[string]any{"topic": e.Topic, "external_id": e.ExternalID, "payload": map[string]any{"data": map[string]any{
			"type": "event", "id": ev.ID,
			"attributes":    map[string]any{"timestamp": ev.Time.Unix(), "datetime": timeStr(ev.Time), "event_properties": props, "uuid": ev.ID},
			"relationships": eventRelationships(ev.MetricID, ev.ProfileID),
			"links":         map[string]any{"self": klaviyo.DefaultBaseURL + "/api/events/" + ev.ID + "/"}}}}
	}
	ts := now.Add(s.cfg.hookSkew).UTC().Format(http.TimeFormat)
	body, _ = json.Marshal(map[string]any{"data": data,
		"meta": map[string]any{"klaviyo_account_id": AccountID, "klaviyo_webhook_id": webhookID, "timestamp": timeStr(now)}})
	mac := hmac.New(sha256.New, []byte(hook.secret))
	mac.Write(body)
	mac.Write([]byte(ts))
	h = http.Header{"Content-Type": {"application/json"}}
	h.Set("Klaviyo-Webhook-Id", webhookID)
	h.Set("Klaviyo-Timestamp", ts)
	h.Set("Klaviyo-Signature", hex.EncodeToString(mac.Sum(nil)))
	return body, h, true
}

// SendWebhook posts a signed delivery to url: a webhook's endpoint_url is
// https and out of a test's reach, so the receiver under test gives its
// own.
func (s *Server) SendWebhook(ctx context.Context, hc *http.Client, url, webhookID string, events ...WebhookEvent) (*http.Response, error) {
	body, h, ok := s.WebhookDelivery(webhookID, events...)
	if !ok {
		return nil, fmt.Errorf("klaviyotest: no webhook %s", webhookID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = h
	return hc.Do(req)
}

// Webhooks returns the ids of the webhook subscriptions, oldest first.
func (s *Server) Webhooks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.st.hookIDs...)
}
