package shopifytest

import (
	_ "embed"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

//go:embed schema_webhooksubs.graphql
var webhookSubsSDL string

// WebhookSubscription is a webhook subscription as the fake holds it; the
// fake serves HTTP endpoints only.
type WebhookSubscription struct {
	ID                  int64
	Topic               string // a WebhookSubscriptionTopic value, e.g. ORDERS_CREATE
	CallbackURL         string
	Format              string // JSON or XML
	IncludeFields       []string
	MetafieldNamespaces []string
	Filter              string
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

const webhookSubPrefix = "gid://shopify/WebhookSubscription/"

// GID returns the subscription's global id.
func (w WebhookSubscription) GID() string { return webhookSubPrefix + strconv.FormatInt(w.ID, 10) }

// The userErrors messages of the fake. A duplicate (same topic and callback
// URL) is refused as Shopify answers it, with field
// ["webhookSubscription", "callbackUrl"]; the platform notes do not quote
// that message, so it is taken from Shopify's observed answers. The
// others are the fake's own wording.
const (
	MsgWebhookSubTaken    = "Address for this topic has already been taken"
	MsgWebhookSubNotHTTPS = "Address must be an https URL"
	MsgWebhookSubNotFound = "Webhook subscription does not exist"
)

// WebhookSubscriptions returns the webhook subscriptions, by id.
func (s *Server) WebhookSubscriptions() []WebhookSubscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]WebhookSubscription, 0, len(s.whsubs))
	for _, w := range sortedValues(s.whsubs) {
		c := *w
		c.IncludeFields, c.MetafieldNamespaces = slices.Clone(w.IncludeFields), slices.Clone(w.MetafieldNamespaces)
		out = append(out, c)
	}
	return out
}

// withWebhookSubs serves the webhook subscription query and mutations on
// top of root. The caller holds s.mu.
func (s *Server) withWebhookSubs(kind ast.Operation, root *obj, now time.Time) *obj {
	var m map[string]resolver
	if kind == ast.Mutation {
		m = map[string]resolver{
			"webhookSubscriptionCreate": func(a map[string]any) (any, error) { return s.webhookSubCreate(a, now), nil },
			"webhookSubscriptionDelete": s.webhookSubDelete,
		}
	} else {
		m = map[string]resolver{"webhookSubscriptions": s.webhookSubList}
	}
	return &obj{typ: root.typ, get: func(f string, args map[string]any) (any, error) {
		if r, ok := m[f]; ok {
			return r(args)
		}
		return root.get(f, args)
	}}
}

func webhookSubObj(w *WebhookSubscription) *obj {
	return fields("WebhookSubscription", map[string]any{
		"id": w.GID(), "topic": w.Topic, "endpoint": fields("WebhookHttpEndpoint", map[string]any{"callbackUrl": w.CallbackURL}),
		"format": w.Format, "includeFields": nonNil(w.IncludeFields), "metafieldNamespaces": nonNil(w.MetafieldNamespaces),
		"filter": nullable(w.Filter), "createdAt": ts(w.CreatedAt), "updatedAt": ts(w.UpdatedAt),
	})
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func (s *Server) webhookSubCreate(a map[string]any, now time.Time) *obj {
	payload := func(w *WebhookSubscription, errs ...map[string]any) *obj {
		var node any
		if w != nil {
			node = webhookSubObj(w)
		}
		return fields("WebhookSubscriptionCreatePayload", map[string]any{"webhookSubscription": node, "userErrors": userErrs(errs...)})
	}
	in, _ := a["webhookSubscription"].(map[string]any)
	topic, callback := str(a["topic"]), str(in["callbackUrl"])
	field := []string{"webhookSubscription", "callbackUrl"}
	if u, err := url.Parse(callback); err != nil || u.Scheme != "https" || u.Host == "" {
		return payload(nil, uerr(field, MsgWebhookSubNotHTTPS))
	}
	for _, w := range s.whsubs {
		if w.Topic == topic && w.CallbackURL == callback {
			return payload(nil, uerr(field, MsgWebhookSubTaken))
		}
	}
	w := &WebhookSubscription{ID: s.newID(), Topic: topic, CallbackURL: callback, Format: str(in["format"]),
		Filter: str(in["filter"]), CreatedAt: now, UpdatedAt: now}
	if w.Format == "" {
		w.Format = "JSON"
	}
	if in["includeFields"] != nil {
		w.IncludeFields = strList(in["includeFields"])
	}
	if in["metafieldNamespaces"] != nil {
		w.MetafieldNamespaces = strList(in["metafieldNamespaces"])
	}
	if s.whsubs == nil {
		s.whsubs = map[int64]*WebhookSubscription{}
	}
	s.whsubs[w.ID] = w
	return payload(w)
}

func (s *Server) webhookSubDelete(a map[string]any) (any, error) {
	id := str(a["id"])
	n, ok := strings.CutPrefix(id, webhookSubPrefix)
	num, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil || s.whsubs[num] == nil {
		return fields("WebhookSubscriptionDeletePayload", map[string]any{"deletedWebhookSubscriptionId": nil,
			"userErrors": userErrs(uerr([]string{"id"}, MsgWebhookSubNotFound))}), nil
	}
	delete(s.whsubs, num)
	return fields("WebhookSubscriptionDeletePayload", map[string]any{"deletedWebhookSubscriptionId": id, "userErrors": []*obj{}}), nil
}

var webhookSubSorts = map[string]func(*WebhookSubscription) time.Time{
	"ID":         byID[*WebhookSubscription],
	"CREATED_AT": func(w *WebhookSubscription) time.Time { return w.CreatedAt },
}

func (s *Server) webhookSubList(a map[string]any) (any, error) {
	if str(a["query"]) != "" {
		return nil, errors.New("webhookSubscriptions(query:) is not modelled by the fake")
	}
	topics := strList(a["topics"])
	if a["topics"] == nil {
		topics = nil
	}
	list := slices.DeleteFunc(sortedValues(s.whsubs), func(w *WebhookSubscription) bool {
		return (topics != nil && !slices.Contains(topics, w.Topic)) ||
			(a["callbackUrl"] != nil && str(a["callbackUrl"]) != w.CallbackURL) ||
			(a["format"] != nil && str(a["format"]) != w.Format)
	})
	placeOf, err := sortBy(list, str(a["sortKey"]), webhookSubSorts, func(w *WebhookSubscription) int64 { return w.ID })
	if err != nil {
		return nil, err
	}
	return connection("WebhookSubscription", list, a, 250, s.cfg.pageLimit, webhookSubObj, placeOf, nil)
}
