package shopify

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/attribution"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/segment"
)

// ExportOptions tune [BulkService.ExportCustomers] and
// [BulkService.ExportOrders].
type ExportOptions struct {
	// Since limits orders to those processed (ExportCustomers) or
	// created (ExportOrders) at or after it; zero means all orders.
	Since time.Time
	// Query tunes the bulk query: waiting, partial data, in progress.
	Query BulkQueryOptions
	// SkipScopeCheck skips the access scope check made before the
	// export (one request), for a caller that has made it already.
	SkipScopeCheck bool
}

// recentOrders is how far back Shopify serves orders without
// read_all_orders.
const recentOrders = 60 * 24 * time.Hour

// exportScopes checks the scopes an export needs before it starts, so
// that a missing read_all_orders is an error rather than a quietly short
// export.
func (s *BulkService) exportScopes(ctx context.Context, o *ExportOptions, scopes ...string) error {
	if o.SkipScopeCheck {
		return nil
	}
	if o.Since.IsZero() || time.Since(o.Since) > recentOrders {
		scopes = append(scopes, ScopeReadAllOrders)
	}
	return s.c.RequireScopes(ctx, scopes...)
}

// ExportedCustomer is one customer of [BulkService.ExportCustomers] with
// its orders. Customer holds the customer's id, tags, email and SMS
// consent, creation time, order count and amount spent (its name, email,
// phone and state too); Orders its orders since ExportOptions.Since.
type ExportedCustomer struct {
	Customer
	Orders []CustomerOrder
}

// CustomerOrder is an order as [BulkService.ExportCustomers] reads it.
// Its line items are not read: Shopify allows bulk queries two levels of
// nested connections (customers, orders); [BulkService.ExportOrders]
// reads them.
type CustomerOrder struct {
	ID          string // GID
	CreatedAt   time.Time
	ProcessedAt time.Time
	// Total is currentTotalPriceSet.shopMoney: the total after refunds
	// and edits, in the shop's currency.
	Total      money.Amount
	SourceName string
	Tags       []string
}

const exportCustomerFields = `id firstName lastName displayName email phone tags numberOfOrders
amountSpent { amount currencyCode } state createdAt updatedAt
emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }
smsMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }`

const exportOrderFields = `id createdAt processedAt sourceName tags currentTotalPriceSet { shopMoney { amount currencyCode } }`

// ExportCustomersQuery returns the bulk query ExportCustomers runs.
func ExportCustomersQuery(since time.Time) string {
	return `{ customers { edges { node { ` + exportCustomerFields + `
orders` + sinceArg("processed_at", since) + ` { edges { node { ` + exportOrderFields + ` } } } } } } }`
}

func sinceArg(field string, since time.Time) string {
	if since.IsZero() {
		return ""
	}
	return fmt.Sprintf(`(query: "%s:>=%s")`, field, since.UTC().Format(time.RFC3339))
}

type wireCustomerOrder struct {
	ID                   string    `json:"id"`
	CreatedAt            time.Time `json:"createdAt"`
	ProcessedAt          time.Time `json:"processedAt"`
	SourceName           *string   `json:"sourceName"`
	Tags                 []string  `json:"tags"`
	CurrentTotalPriceSet struct {
		ShopMoney money.Amount `json:"shopMoney"`
	} `json:"currentTotalPriceSet"`
}

// ExportCustomers streams every customer of the shop with its orders
// since opts.Since, in constant memory, through a bulk query: see
// [BulkService.Query] for waiting and errors. It first checks the access
// scopes it needs (read_customers, read_orders, and read_all_orders when
// Since is zero or more than 60 days back) and ends with a
// *MissingScopesError when one is missing. [ExportedCustomer.Segment]
// turns each customer into segment's input.
func (s *BulkService) ExportCustomers(ctx context.Context, opts *ExportOptions) iter.Seq2[*ExportedCustomer, error] {
	return export(ctx, s, opts, ExportCustomersQuery, DecodeExportedCustomer, ScopeReadCustomers, ScopeReadOrders)
}

// export checks the scopes, runs the bulk query built for opts.Since and
// decodes each root row.
func export[T any](ctx context.Context, s *BulkService, opts *ExportOptions, query func(time.Time) string,
	decode func(*BulkRow) (T, error), scopes ...string) iter.Seq2[T, error] {
	var o ExportOptions
	if opts != nil {
		o = *opts
	}
	return func(yield func(T, error) bool) {
		var zero T
		if err := s.exportScopes(ctx, &o, scopes...); err != nil {
			yield(zero, err)
			return
		}
		for row, err := range s.Query(ctx, query(o.Since), &o.Query) {
			v := zero
			if err == nil {
				v, err = decode(row)
			}
			if !yield(v, err) || err != nil {
				return
			}
		}
	}
}

// DecodeExportedCustomer decodes a root row of [ExportCustomersQuery]'s
// result.
func DecodeExportedCustomer(row *BulkRow) (*ExportedCustomer, error) {
	var w wireCustomer
	if err := row.Decode(&w); err != nil {
		return nil, &BulkFormatError{Reason: "customer " + short(row.ID), Err: err}
	}
	c := &ExportedCustomer{Customer: *w.customer(), Orders: make([]CustomerOrder, 0, len(row.Children))}
	for _, ch := range row.Children {
		var wo wireCustomerOrder
		if err := ch.Decode(&wo); err != nil {
			return nil, &BulkFormatError{Reason: "order " + short(ch.ID), Err: err}
		}
		if wo.Tags == nil {
			wo.Tags = []string{}
		}
		c.Orders = append(c.Orders, CustomerOrder{ID: wo.ID, CreatedAt: wo.CreatedAt, ProcessedAt: wo.ProcessedAt,
			Total: wo.CurrentTotalPriceSet.ShopMoney, SourceName: str(wo.SourceName), Tags: wo.Tags})
	}
	return c, nil
}

// Segment returns the customer as segment's input: ids parsed, each
// order's processing time, current total, source name as its channel and
// tags. Line items are not part of a customer export, so rules on
// products match no order of it.
func (c *ExportedCustomer) Segment() (segment.Customer, error) {
	id, err := gid.ParseAs(c.ID, gid.Customer)
	if err != nil {
		return segment.Customer{}, fmt.Errorf("shopify: exported customer: %w", err)
	}
	out := segment.Customer{ID: id, Tags: c.Tags, Created: c.CreatedAt, Orders: make([]segment.Order, len(c.Orders))}
	for i, o := range c.Orders {
		oid, err := gid.ParseAs(o.ID, gid.Order)
		if err != nil {
			return segment.Customer{}, fmt.Errorf("shopify: order of exported customer %s: %w", c.ID, err)
		}
		out.Orders[i] = segment.Order{ID: oid, Time: o.ProcessedAt, Total: o.Total, Channel: o.SourceName, Tags: o.Tags}
	}
	return out, nil
}

// ExportOrdersQuery returns the bulk query ExportOrders runs.
func ExportOrdersQuery(since time.Time) string {
	return `{ orders` + sinceArg("created_at", since) + ` { edges { node { ` + orderFields + `
currentTotalPriceSet { shopMoney { amount currencyCode } }
lineItems { edges { node { ` + lineItemFields + ` } } } } } } }`
}

// ExportedOrder is one order of [BulkService.ExportOrders]: the order with
// all its line items (LineItems complete, MoreLineItems false), its
// customer and customer journey, and its current total.
type ExportedOrder struct {
	Order
	// CurrentTotal is currentTotalPriceSet.shopMoney: the total after
	// refunds and edits, in the shop's currency.
	CurrentTotal money.Amount
}

// ExportOrders streams every order created at or after opts.Since with
// its line items, customer and customer journey (first and last visit
// with UTM parameters and marketing event), in constant memory, through a
// bulk query. It first checks the access scopes it needs (read_orders,
// and read_all_orders when Since is zero or more than 60 days back).
// [ExportedOrder.Conversion] and [ExportedOrder.Touchpoints] turn each
// order into attribution's input.
func (s *BulkService) ExportOrders(ctx context.Context, opts *ExportOptions) iter.Seq2[*ExportedOrder, error] {
	return export(ctx, s, opts, ExportOrdersQuery, DecodeExportedOrder, ScopeReadOrders)
}

// DecodeExportedOrder decodes a root row of [ExportOrdersQuery]'s result.
func DecodeExportedOrder(row *BulkRow) (*ExportedOrder, error) {
	var w struct {
		wireOrder
		CurrentTotalPriceSet struct {
			ShopMoney money.Amount `json:"shopMoney"`
		} `json:"currentTotalPriceSet"`
	}
	if err := row.Decode(&w); err != nil {
		return nil, &BulkFormatError{Reason: "order " + short(row.ID), Err: err}
	}
	o := &ExportedOrder{Order: *w.order(), CurrentTotal: w.CurrentTotalPriceSet.ShopMoney}
	o.LineItems = make([]LineItem, 0, len(row.Children))
	for _, ch := range row.Children {
		var wl wireLineItem
		if err := ch.Decode(&wl); err != nil {
			return nil, &BulkFormatError{Reason: "line item " + short(ch.ID), Err: err}
		}
		o.LineItems = append(o.LineItems, wl.lineItem())
	}
	return o, nil
}

// Conversion returns the order as attribution's conversion: the order and
// customer ids, the processing time, the current total as revenue, and
// whether it was the customer's first order (the journey's
// customerOrderIndex is 1).
func (o *ExportedOrder) Conversion() attribution.Conversion {
	return attribution.Conversion{Order: o.ID, Customer: o.CustomerID, Time: o.ProcessedAt, Revenue: o.CurrentTotal,
		FirstTime: o.Journey != nil && o.Journey.CustomerOrderIndex == 1}
}

// Touchpoints returns the first and last visit of the order's journey as
// attribution's touchpoints (one when they are the same visit), oldest
// first. A visit's action is read from its UTM medium and marketing
// event: email or a newsletter, abandoned cart or transactional message
// is an email click; sms an SMS click; a message or notification a
// message click; any other UTM or marketing event an ad click; a visit
// with neither a direct visit, credited to its referring source when it
// has one ("google") and to attribution.Direct otherwise. Its key is left
// for attribution to derive from the UTM (channel = source, campaign =
// campaign).
func (o *ExportedOrder) Touchpoints() []attribution.Touchpoint {
	if o.Journey == nil {
		return nil
	}
	var out []attribution.Touchpoint
	for _, v := range []*Visit{o.Journey.FirstVisit, o.Journey.LastVisit} {
		if v == nil || len(out) == 1 && v.ID != "" && v.ID == o.Journey.FirstVisit.ID {
			continue
		}
		out = append(out, visitTouchpoint(o.CustomerID, v))
	}
	return out
}

func visitTouchpoint(customer string, v *Visit) attribution.Touchpoint {
	tp := attribution.Touchpoint{Customer: customer, Time: v.OccurredAt,
		UTM: attribution.UTM{Source: v.UTM.Source, Medium: v.UTM.Medium, Campaign: v.UTM.Campaign}}
	tactic := v.SourceType
	if v.MarketingEvent != nil {
		tactic = v.MarketingEvent.Type
		if tp.UTM == (attribution.UTM{}) {
			tp.UTM = attribution.UTM{Source: v.MarketingEvent.UTMSource, Medium: v.MarketingEvent.UTMMedium, Campaign: v.MarketingEvent.UTMCampaign}
		}
	}
	medium := strings.ToLower(tp.UTM.Medium)
	switch {
	case medium == "email" || tactic == "NEWSLETTER" || tactic == "ABANDONED_CART" || tactic == "TRANSACTIONAL":
		tp.Action = attribution.EmailClicked
	case medium == "sms":
		tp.Action = attribution.SMSClicked
	case tactic == "MESSAGE" || tactic == "NOTIFICATION":
		tp.Action = attribution.MessageClicked
	case tp.UTM != (attribution.UTM{}) || tactic != "":
		tp.Action = attribution.AdClick
	default:
		tp.Action = attribution.DirectVisit
		if src := strings.ToLower(v.Source); src != "" && src != "direct" {
			tp.Key.Channel = src
		}
	}
	if tp.UTM.Source == "" && tp.Action != attribution.DirectVisit {
		// Without a UTM source attribution cannot name the channel: the
		// referring source stands for it.
		tp.Key.Channel, tp.Key.Campaign = strings.ToLower(v.Source), tp.UTM.Campaign
		if tp.Key.Channel == "" {
			tp.Key.Channel = attribution.Direct
		}
	}
	return tp
}
