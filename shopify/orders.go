package shopify

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/shopcrm/shopcrm/money"
)

// OrdersService reads orders.
type OrdersService struct{ c *Client }

// Order is a Shopify order with what marketing needs: totals, tags, the
// customer and the customer journey's first and last visit.
type Order struct {
	ID           string // GID
	Name         string // "#1001"
	Email        string
	Tags         []string
	CreatedAt    time.Time
	ProcessedAt  time.Time
	CancelledAt  *time.Time
	Test         bool
	SourceName   string
	CurrencyCode string
	// TotalPrice is the total in the shop's currency; PresentmentTotal in
	// the currency the customer paid in.
	TotalPrice       money.Amount
	PresentmentTotal money.Amount
	// CustomerID and CustomerName are empty for an order without customer.
	CustomerID   string
	CustomerName string
	// Journey is nil when Shopify has no journey for the order.
	Journey *Journey
	// LineItems are the order's first line items, as many as were asked
	// for (ListOptions.LineItems; Get brings up to DefaultLineItems); nil
	// when none were. MoreLineItems reports that the order has more, which
	// OrdersService.LineItems reads.
	LineItems     []LineItem
	MoreLineItems bool
}

// LineItem is a product line of an order.
type LineItem struct {
	ID           string // GID
	Title        string // the product's title when the order was placed
	VariantTitle string
	SKU          string
	Quantity     int
	// ProductID and VariantID are GIDs; empty when the product or variant
	// has since been deleted.
	ProductID string
	VariantID string
	// UnitPrice is the price of one unit before discounts, and
	// DiscountedUnitPrice after the discounts on this line (not those on
	// the whole order), both in the shop's currency.
	UnitPrice           money.Amount
	DiscountedUnitPrice money.Amount
}

// Bounds of the line items read with orders. DefaultLineItems come with
// each order unless ListOptions.LineItems says otherwise; MaxLineItems is
// the most one order can bring and keep its document under the query cost
// limit (a page then holds one order).
const (
	DefaultLineItems = 5
	MaxLineItems     = (MaxQueryCost - 2 - orderCost - 2) / lineItemCost
)

const lineItemFields = `id title variantTitle sku quantity product { id } variant { id }
originalUnitPriceSet { shopMoney { amount currencyCode } }
discountedUnitPriceSet { shopMoney { amount currencyCode } }`

// lineItemCost: the line item, product, variant, and two MoneyBags with
// their shopMoney.
const lineItemCost = 1 + 1 + 1 + 2*2

type wireLineItem struct {
	ID           string  `json:"id"`
	Title        string  `json:"title"`
	VariantTitle *string `json:"variantTitle"`
	SKU          *string `json:"sku"`
	Quantity     int     `json:"quantity"`
	Product      *struct {
		ID string `json:"id"`
	} `json:"product"`
	Variant *struct {
		ID string `json:"id"`
	} `json:"variant"`
	OriginalUnitPriceSet struct {
		ShopMoney money.Amount `json:"shopMoney"`
	} `json:"originalUnitPriceSet"`
	DiscountedUnitPriceSet struct {
		ShopMoney money.Amount `json:"shopMoney"`
	} `json:"discountedUnitPriceSet"`
}

func (w *wireLineItem) lineItem() LineItem {
	li := LineItem{ID: w.ID, Title: w.Title, VariantTitle: str(w.VariantTitle), SKU: str(w.SKU), Quantity: w.Quantity,
		UnitPrice: w.OriginalUnitPriceSet.ShopMoney, DiscountedUnitPrice: w.DiscountedUnitPriceSet.ShopMoney}
	if w.Product != nil {
		li.ProductID = w.Product.ID
	}
	if w.Variant != nil {
		li.VariantID = w.Variant.ID
	}
	return li
}

// wireLineItems is a page of a LineItemConnection.
type wireLineItems struct {
	PageInfo pageInfo       `json:"pageInfo"`
	Nodes    []wireLineItem `json:"nodes"`
}

func (w *wireLineItems) items() []LineItem {
	out := make([]LineItem, len(w.Nodes))
	for i := range w.Nodes {
		out[i] = w.Nodes[i].lineItem()
	}
	return out
}

// lineItemsSelection selects an order's first n line items; cost
// lineItemsCost(n).
func lineItemsSelection(n int) string {
	if n <= 0 {
		return ""
	}
	return "\nlineItems(first: " + strconv.Itoa(n) + ") { pageInfo { hasNextPage endCursor } nodes { " + lineItemFields + " } }"
}

func lineItemsCost(n int) int {
	if n <= 0 {
		return 0
	}
	return 2 + n*lineItemCost
}

// Journey is an order's customerJourneySummary.
type Journey struct {
	// Ready is false while Shopify is still attributing the order; read it
	// again later.
	Ready              bool
	CustomerOrderIndex int
	DaysToConversion   int
	FirstVisit         *Visit
	LastVisit          *Visit
}

// Visit is a session that led to an order.
type Visit struct {
	ID                string
	OccurredAt        time.Time
	LandingPage       string
	ReferrerURL       string
	ReferralCode      string
	Source            string
	SourceDescription string
	SourceType        string // a MarketingTactic
	UTM               UTM
	// MarketingEvent is nil when the visit is not tied to one.
	MarketingEvent *MarketingEvent
}

// UTM holds a visit's UTM parameters.
type UTM struct {
	Campaign, Content, Medium, Source, Term string
}

// MarketingEvent is the marketing activity a visit came from.
type MarketingEvent struct {
	ID              string
	Type            string // a MarketingTactic
	ChannelHandle   string
	RemoteID        string
	UTMCampaign     string
	UTMMedium       string
	UTMSource       string
	SourceAndMedium string
}

const visitFields = `id occurredAt landingPage referrerUrl referralCode source sourceDescription sourceType
utmParameters { campaign content medium source term }
marketingEvent { id type channelHandle remoteId utmCampaign utmMedium utmSource sourceAndMedium }`

const orderFields = `id name email tags createdAt processedAt cancelledAt test sourceName currencyCode
totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
customer { id displayName }
customerJourneySummary { ready customerOrderIndex daysToConversion
  firstVisit { ` + visitFields + ` }
  lastVisit { ` + visitFields + ` } }`

// orderCost: order, totalPriceSet, shopMoney, presentmentMoney, customer,
// journey, and per visit the visit, utmParameters and marketingEvent;
// without line items.
const orderCost = 1 + 3 + 1 + 1 + 2*3

type wireVisit struct {
	ID                string    `json:"id"`
	OccurredAt        time.Time `json:"occurredAt"`
	LandingPage       *string   `json:"landingPage"`
	ReferrerURL       *string   `json:"referrerUrl"`
	ReferralCode      *string   `json:"referralCode"`
	Source            string    `json:"source"`
	SourceDescription *string   `json:"sourceDescription"`
	SourceType        *string   `json:"sourceType"`
	UTMParameters     *struct {
		Campaign, Content, Medium, Source, Term *string
	} `json:"utmParameters"`
	MarketingEvent *struct {
		ID              string  `json:"id"`
		Type            string  `json:"type"`
		ChannelHandle   *string `json:"channelHandle"`
		RemoteID        *string `json:"remoteId"`
		UTMCampaign     *string `json:"utmCampaign"`
		UTMMedium       *string `json:"utmMedium"`
		UTMSource       *string `json:"utmSource"`
		SourceAndMedium string  `json:"sourceAndMedium"`
	} `json:"marketingEvent"`
}

func (w *wireVisit) visit() *Visit {
	if w == nil {
		return nil
	}
	v := &Visit{ID: w.ID, OccurredAt: w.OccurredAt, LandingPage: str(w.LandingPage), ReferrerURL: str(w.ReferrerURL),
		ReferralCode: str(w.ReferralCode), Source: w.Source, SourceDescription: str(w.SourceDescription), SourceType: str(w.SourceType)}
	if u := w.UTMParameters; u != nil {
		v.UTM = UTM{str(u.Campaign), str(u.Content), str(u.Medium), str(u.Source), str(u.Term)}
	}
	if m := w.MarketingEvent; m != nil {
		v.MarketingEvent = &MarketingEvent{ID: m.ID, Type: m.Type, ChannelHandle: str(m.ChannelHandle), RemoteID: str(m.RemoteID),
			UTMCampaign: str(m.UTMCampaign), UTMMedium: str(m.UTMMedium), UTMSource: str(m.UTMSource), SourceAndMedium: m.SourceAndMedium}
	}
	return v
}

type wireOrder struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	Email         *string    `json:"email"`
	Tags          []string   `json:"tags"`
	CreatedAt     time.Time  `json:"createdAt"`
	ProcessedAt   time.Time  `json:"processedAt"`
	CancelledAt   *time.Time `json:"cancelledAt"`
	Test          bool       `json:"test"`
	SourceName    *string    `json:"sourceName"`
	CurrencyCode  string     `json:"currencyCode"`
	TotalPriceSet struct {
		ShopMoney        money.Amount `json:"shopMoney"`
		PresentmentMoney money.Amount `json:"presentmentMoney"`
	} `json:"totalPriceSet"`
	Customer *struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	} `json:"customer"`
	Journey *struct {
		Ready              bool       `json:"ready"`
		CustomerOrderIndex *int       `json:"customerOrderIndex"`
		DaysToConversion   *int       `json:"daysToConversion"`
		FirstVisit         *wireVisit `json:"firstVisit"`
		LastVisit          *wireVisit `json:"lastVisit"`
	} `json:"customerJourneySummary"`
	LineItems *wireLineItems `json:"lineItems"`
}

func (w *wireOrder) order() *Order {
	o := &Order{ID: w.ID, Name: w.Name, Email: str(w.Email), Tags: w.Tags, CreatedAt: w.CreatedAt, ProcessedAt: w.ProcessedAt,
		CancelledAt: w.CancelledAt, Test: w.Test, SourceName: str(w.SourceName), CurrencyCode: w.CurrencyCode,
		TotalPrice: w.TotalPriceSet.ShopMoney, PresentmentTotal: w.TotalPriceSet.PresentmentMoney}
	if o.Tags == nil {
		o.Tags = []string{}
	}
	if w.Customer != nil {
		o.CustomerID, o.CustomerName = w.Customer.ID, w.Customer.DisplayName
	}
	if j := w.Journey; j != nil {
		o.Journey = &Journey{Ready: j.Ready, FirstVisit: j.FirstVisit.visit(), LastVisit: j.LastVisit.visit()}
		if j.CustomerOrderIndex != nil {
			o.Journey.CustomerOrderIndex = *j.CustomerOrderIndex
		}
		if j.DaysToConversion != nil {
			o.Journey.DaysToConversion = *j.DaysToConversion
		}
	}
	if w.LineItems != nil {
		o.LineItems, o.MoreLineItems = w.LineItems.items(), w.LineItems.PageInfo.HasNextPage
	}
	return o
}

// Get reads one order by GID, with its first DefaultLineItems line items;
// one that does not exist is a *NotFoundError, and so is one older than 60
// days without the read_all_orders access scope.
//
//spec:graphql query order
func (s *OrdersService) Get(ctx context.Context, id string) (*Order, *Response, error) {
	if err := checkID("id", id, "Order"); err != nil {
		return nil, nil, err
	}
	var out struct {
		Order *wireOrder `json:"order"`
	}
	q := `query Order($id: ID!) { order(id: $id) { ` + orderFields + lineItemsSelection(DefaultLineItems) + ` } }`
	resp, err := s.c.do(ctx, &call{query: q, vars: map[string]any{"id": id}, cost: orderCost + lineItemsCost(DefaultLineItems), retry: idempotent}, &out)
	if err != nil {
		return nil, resp, err
	}
	if out.Order == nil {
		return nil, resp, &NotFoundError{ID: id}
	}
	return out.Order.order(), resp, nil
}

// List returns every order matching opts, page by page, each with its
// first line items (see ListOptions.LineItems). opts.Query takes Shopify's
// order search syntax: "created_at:>=2025-01-01", "tag:vip",
// "tag_not:test", "customer_id:123", joined by spaces.
//
// "Every order" needs the read_all_orders access scope: without it Shopify
// returns only orders of the last 60 days, with no error. Call
// [Client.RequireScopes] with [ScopeReadAllOrders] first to fail early
// instead.
//
//spec:graphql query orders
func (s *OrdersService) List(ctx context.Context, opts *ListOptions) iter.Seq2[*Order, error] {
	sortKey, lineItems := "", DefaultLineItems
	if opts != nil {
		sortKey = opts.SortKey
		if opts.LineItems != 0 {
			lineItems = max(opts.LineItems, 0)
		}
	}
	var err error
	if lineItems > MaxLineItems {
		err = &InputError{Field: "LineItems", Value: strconv.Itoa(lineItems), Reason: fmt.Sprintf("at most %d line items fit in one order's document", MaxLineItems)}
	}
	nodeCost := orderCost + lineItemsCost(lineItems)
	first, perr := opts.pageSize(50, nodeCost)
	if err == nil {
		err = perr
	}
	if err == nil {
		err = checkSortKey(sortKey, "CREATED_AT", "CUSTOMER_NAME", "DESTINATION", "FINANCIAL_STATUS", "FULFILLMENT_STATUS", "ID",
			"ORDER_NUMBER", "PO_NUMBER", "PROCESSED_AT", "RELEVANCE", "TOTAL_ITEMS_QUANTITY", "TOTAL_PRICE", "UPDATED_AT")
	}
	return paginate(ctx, func(ctx context.Context, after string) ([]*Order, pageInfo, error) {
		if err != nil {
			return nil, pageInfo{}, err
		}
		q := `query Orders($first: Int!, $after: String, $query: String, $reverse: Boolean) {
  orders(first: $first, after: $after, query: $query, reverse: $reverse` + sortArg(sortKey) + `) {
    pageInfo { hasNextPage endCursor }
    nodes { ` + orderFields + lineItemsSelection(lineItems) + ` }
  }
}`
		var out struct {
			Orders struct {
				PageInfo pageInfo    `json:"pageInfo"`
				Nodes    []wireOrder `json:"nodes"`
			} `json:"orders"`
		}
		if _, err := s.c.do(ctx, &call{query: q, vars: listVars(opts, first, after), cost: 2 + first*nodeCost, retry: idempotent}, &out); err != nil {
			return nil, pageInfo{}, err
		}
		res := make([]*Order, len(out.Orders.Nodes))
		for i := range out.Orders.Nodes {
			res[i] = out.Orders.Nodes[i].order()
		}
		return res, out.Orders.PageInfo, nil
	})
}

// LineItems returns every line item of the order id (a GID), page by page,
// as many per request as the query cost limit allows. An order that does
// not exist is a *NotFoundError.
//
//spec:graphql query order
func (s *OrdersService) LineItems(ctx context.Context, id string) iter.Seq2[LineItem, error] {
	err := checkID("id", id, "Order")
	first := min(250, (MaxQueryCost-1-2)/lineItemCost)
	return paginate(ctx, func(ctx context.Context, after string) ([]LineItem, pageInfo, error) {
		if err != nil {
			return nil, pageInfo{}, err
		}
		q := `query OrderLineItems($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    lineItems(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { ` + lineItemFields + ` } }
  }
}`
		vars := map[string]any{"id": id, "first": first}
		if after != "" {
			vars["after"] = after
		}
		var out struct {
			Order *struct {
				LineItems wireLineItems `json:"lineItems"`
			} `json:"order"`
		}
		if _, err := s.c.do(ctx, &call{query: q, vars: vars, cost: 1 + lineItemsCost(first), retry: idempotent}, &out); err != nil {
			return nil, pageInfo{}, err
		}
		if out.Order == nil {
			return nil, pageInfo{}, &NotFoundError{ID: id}
		}
		return out.Order.LineItems.items(), out.Order.LineItems.PageInfo, nil
	})
}
