package shopify

import (
	"context"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// WebhooksService manages the shop's webhook subscriptions with HTTPS
// callback URLs (webhookSubscriptionCreate, webhookSubscriptions,
// webhookSubscriptionDelete). Topics are the wire names of [WebhookHandler]
// (the Topic* constants, e.g. [TopicOrdersCreate]); the service maps them to
// and from the GraphQL WebhookSubscriptionTopic enum (ORDERS_CREATE).
//
// List and Delete are idempotent and retried like reads; Create is retried
// only when Shopify refused it (throttling), since a lost answer may hide a
// subscription that exists: list before creating again.
type WebhooksService struct{ c *Client }

// WebhookFormat is the payload format of a subscription
// (WebhookSubscriptionFormat).
type WebhookFormat string

// The formats of the 2025-01 schema.
const (
	WebhookFormatJSON WebhookFormat = "JSON"
	WebhookFormatXML  WebhookFormat = "XML"
)

// subscribableTopics maps the Topic* constants that can be subscribed
// through the Admin API to their WebhookSubscriptionTopic values. The
// mandatory compliance topics (customers/data_request, customers/redact,
// shop/redact) are not in the enum: they are configured in the app's
// settings.
var subscribableTopics = map[string]string{
	TopicCustomersCreate:      "CUSTOMERS_CREATE",
	TopicCustomersUpdate:      "CUSTOMERS_UPDATE",
	TopicOrdersCreate:         "ORDERS_CREATE",
	TopicOrdersPaid:           "ORDERS_PAID",
	TopicCustomerTagsAdded:    "CUSTOMER_TAGS_ADDED",
	TopicCustomerTagsRemoved:  "CUSTOMER_TAGS_REMOVED",
	TopicCustomerJoinedSeg:    "CUSTOMER_JOINED_SEGMENT",
	TopicCustomerLeftSeg:      "CUSTOMER_LEFT_SEGMENT",
	TopicBulkOperationsFinish: "BULK_OPERATIONS_FINISH",
	TopicAppUninstalled:       "APP_UNINSTALLED",
}

var topicsByEnum = func() map[string]string {
	m := make(map[string]string, len(subscribableTopics))
	for wire, enum := range subscribableTopics {
		m[enum] = wire
	}
	return m
}()

// WebhookTopicEnum returns the WebhookSubscriptionTopic value of a topic's
// wire name ("orders/create" → "ORDERS_CREATE"); ok is false for a topic
// the package does not subscribe to, compliance topics included.
func WebhookTopicEnum(topic string) (enum string, ok bool) {
	enum, ok = subscribableTopics[topic]
	return enum, ok
}

// WebhookTopicFromEnum returns the wire name of a WebhookSubscriptionTopic
// value ("CUSTOMER_TAGS_ADDED" → "customer.tags_added"); ok is false for a
// value the package does not know.
func WebhookTopicFromEnum(enum string) (topic string, ok bool) {
	topic, ok = topicsByEnum[enum]
	return topic, ok
}

// WebhookSubscriptionInput is a subscription to create.
type WebhookSubscriptionInput struct {
	// Topic is a Topic* constant such as [TopicOrdersCreate]; required.
	Topic string
	// CallbackURL is the https URL deliveries are posted to; required.
	CallbackURL string
	// Format defaults to JSON on Shopify's side.
	Format WebhookFormat
	// IncludeFields limits the payload to these top-level fields.
	IncludeFields []string
	// MetafieldNamespaces adds the metafields of these namespaces.
	MetafieldNamespaces []string
	// Filter is a search-syntax constraint on the events delivered.
	Filter string
}

// WebhookSubscription is a subscription as Shopify reports it.
type WebhookSubscription struct {
	ID string // GID, gid://shopify/WebhookSubscription/N
	// Topic is the wire name ("orders/create"), or the enum value as
	// Shopify sent it for a topic the package does not know.
	Topic string
	// CallbackURL is the endpoint's URL; empty for an endpoint that is not
	// HTTP (EventBridge, Pub/Sub).
	CallbackURL         string
	Format              WebhookFormat
	IncludeFields       []string
	MetafieldNamespaces []string
	Filter              string
	CreatedAt           time.Time
}

// webhookSubFields is what the documents read of a WebhookSubscription;
// the deprecated callbackUrl is replaced by endpoint.
const webhookSubFields = `id topic endpoint { ... on WebhookHttpEndpoint { callbackUrl } } format includeFields metafieldNamespaces filter createdAt`

type wireWebhookSub struct {
	ID       string `json:"id"`
	Topic    string `json:"topic"`
	Endpoint struct {
		CallbackURL string `json:"callbackUrl"`
	} `json:"endpoint"`
	Format              WebhookFormat `json:"format"`
	IncludeFields       []string      `json:"includeFields"`
	MetafieldNamespaces []string      `json:"metafieldNamespaces"`
	Filter              *string       `json:"filter"`
	CreatedAt           time.Time     `json:"createdAt"`
}

func (w *wireWebhookSub) sub() *WebhookSubscription {
	topic, ok := WebhookTopicFromEnum(w.Topic)
	if !ok {
		topic = w.Topic
	}
	return &WebhookSubscription{ID: w.ID, Topic: topic, CallbackURL: w.Endpoint.CallbackURL, Format: w.Format,
		IncludeFields: w.IncludeFields, MetafieldNamespaces: w.MetafieldNamespaces, Filter: deref(w.Filter), CreatedAt: w.CreatedAt}
}

// checkTopic validates a topic's wire name and returns its enum value.
func checkTopic(field, topic string) (string, error) {
	if topic == "" {
		return "", &InputError{Field: field, Reason: "required"}
	}
	switch topic {
	case TopicCustomersDataRequest, TopicCustomersRedact, TopicShopRedact:
		return "", &InputError{Field: field, Value: topic, Reason: "a mandatory compliance topic: configured in the app's settings, not through the API"}
	}
	enum, ok := WebhookTopicEnum(topic)
	if !ok {
		return "", &InputError{Field: field, Value: short(topic), Reason: "not a topic the package subscribes to (use a Topic* constant)"}
	}
	return enum, nil
}

// checkCallbackURL requires an absolute https URL with a host.
func checkCallbackURL(raw string) error {
	if raw == "" {
		return &InputError{Field: "CallbackURL", Reason: "required"}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return &InputError{Field: "CallbackURL", Value: short(raw), Reason: "not a URL", Err: err}
	}
	if u.Scheme != "https" || u.Host == "" {
		return &InputError{Field: "CallbackURL", Value: short(raw), Reason: "must be an absolute https URL"}
	}
	return nil
}

// Create subscribes in.CallbackURL to in.Topic (webhookSubscriptionCreate).
// The input is checked before sending: a topic the package does not know,
// a compliance topic or a callback URL that is not https is an
// *InputError. A subscription of the same topic and URL already there is a
// *UserErrors. Create is retried only on throttling.
//
//spec:graphql mutation webhookSubscriptionCreate
func (s *WebhooksService) Create(ctx context.Context, in WebhookSubscriptionInput) (*WebhookSubscription, *Response, error) {
	enum, err := checkTopic("Topic", in.Topic)
	if err != nil {
		return nil, nil, err
	}
	if err := checkCallbackURL(in.CallbackURL); err != nil {
		return nil, nil, err
	}
	sub := map[string]any{"callbackUrl": in.CallbackURL}
	switch in.Format {
	case "":
	case WebhookFormatJSON, WebhookFormatXML:
		sub["format"] = string(in.Format)
	default:
		return nil, nil, &InputError{Field: "Format", Value: short(string(in.Format)), Reason: "not JSON or XML"}
	}
	for _, l := range []struct {
		field, key string
		v          []string
	}{{"IncludeFields", "includeFields", in.IncludeFields}, {"MetafieldNamespaces", "metafieldNamespaces", in.MetafieldNamespaces}} {
		if l.v == nil {
			continue
		}
		for _, x := range l.v {
			if x == "" {
				return nil, nil, &InputError{Field: l.field, Reason: "must not hold an empty string"}
			}
		}
		sub[l.key] = l.v
	}
	if in.Filter != "" {
		sub["filter"] = in.Filter
	}
	const op = "webhookSubscriptionCreate"
	q := "mutation " + op + "($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) { " + op +
		"(topic: $topic, webhookSubscription: $webhookSubscription) { webhookSubscription { " + webhookSubFields + " } userErrors { field message } } }"
	p, resp, err := mutateOne[struct {
		WebhookSubscription *wireWebhookSub `json:"webhookSubscription"`
		userErrorsPayload
	}](ctx, s.c, op, q, map[string]any{"topic": enum, "webhookSubscription": sub}, ifRefused)
	if err != nil {
		return nil, resp, err
	}
	if p.WebhookSubscription == nil {
		return nil, resp, errNoPayload(op)
	}
	return p.WebhookSubscription.sub(), resp, nil
}

// List returns the shop's webhook subscriptions, oldest first, 100 per
// request; with topics, only those of these topics (Topic* constants, each
// checked before anything is sent).
//
//spec:graphql query webhookSubscriptions
func (s *WebhooksService) List(ctx context.Context, topics ...string) iter.Seq2[*WebhookSubscription, error] {
	const first = 100
	var enums []string
	var bad error
	for i, t := range topics {
		e, err := checkTopic("topics["+strconv.Itoa(i)+"]", t)
		if err != nil {
			bad = err
			break
		}
		enums = append(enums, e)
	}
	return paginate(ctx, func(ctx context.Context, after string) ([]*WebhookSubscription, pageInfo, error) {
		if bad != nil {
			return nil, pageInfo{}, bad
		}
		q := `query WebhookSubscriptions($first: Int!, $after: String, $topics: [WebhookSubscriptionTopic!]) { webhookSubscriptions(first: $first, after: $after, topics: $topics) { pageInfo { hasNextPage endCursor } nodes { ` + webhookSubFields + ` } } }`
		vars := map[string]any{"first": first}
		if after != "" {
			vars["after"] = after
		}
		if len(enums) > 0 {
			vars["topics"] = enums
		}
		var out struct {
			W struct {
				PageInfo pageInfo          `json:"pageInfo"`
				Nodes    []*wireWebhookSub `json:"nodes"`
			} `json:"webhookSubscriptions"`
		}
		if _, err := s.c.do(ctx, &call{query: q, vars: vars, cost: 2 + first, retry: idempotent}, &out); err != nil {
			return nil, pageInfo{}, err
		}
		if err := nonNil("webhookSubscriptions", out.W.Nodes); err != nil {
			return nil, pageInfo{}, err
		}
		subs := make([]*WebhookSubscription, len(out.W.Nodes))
		for i, w := range out.W.Nodes {
			subs[i] = w.sub()
		}
		return subs, out.W.PageInfo, nil
	})
}

const webhookSubPrefix = "gid://shopify/WebhookSubscription/"

// Delete deletes the subscription id (webhookSubscriptionDelete) and returns
// the deleted subscription's GID. A subscription that does not exist is a
// *UserErrors, which a caller retrying a lost answer may take for success.
// Delete is idempotent and retried like a read.
//
//spec:graphql mutation webhookSubscriptionDelete
func (s *WebhooksService) Delete(ctx context.Context, id string) (string, *Response, error) {
	n, ok := strings.CutPrefix(id, webhookSubPrefix)
	if v, err := strconv.ParseInt(n, 10, 64); !ok || err != nil || v <= 0 || strconv.FormatInt(v, 10) != n {
		return "", nil, &InputError{Field: "id", Value: short(id), Reason: "must be a GID like " + webhookSubPrefix + "123"}
	}
	const op = "webhookSubscriptionDelete"
	q := "mutation " + op + "($id: ID!) { " + op + "(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }"
	p, resp, err := mutateOne[struct {
		DeletedID *string `json:"deletedWebhookSubscriptionId"`
		userErrorsPayload
	}](ctx, s.c, op, q, map[string]any{"id": id}, idempotent)
	if err != nil {
		return "", resp, err
	}
	return deref(p.DeletedID), resp, nil
}
