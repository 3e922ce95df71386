package shopifytest

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/shopify"
)

// Shopify's limits on tags as the fake enforces them: 255 characters per
// customer tag and 250 tags per resource (the Admin GraphQL schema's
// Customer.tags), 40 characters per order tag (Shopify's Order resource
// documentation).
const (
	MaxTagLength      = 255
	MaxOrderTagLength = 40
	MaxTags           = 250
)

// Customer is a customer held by the fake.
type Customer struct {
	ID        int64 // 0: assigned by AddCustomer
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Tags      []string // trimmed and deduplicated case-insensitively when seeded
	// NumberOfOrders and AmountSpent are kept by the fake from the seeded
	// orders naming the customer: their count and the sum of their totals
	// (a customer without orders has spent 0 in the currency seeded here,
	// or USD). Seeding other values panics: add orders instead.
	NumberOfOrders int64
	AmountSpent    money.Amount
	EmailState     string // CustomerEmailMarketingState; "" with an email: NOT_SUBSCRIBED
	SMSState       string // CustomerSmsMarketingState; "" with a phone: NOT_SUBSCRIBED
	// EmailOptInLevel and SMSOptInLevel are CustomerMarketingOptInLevel
	// values ("": SINGLE_OPT_IN); EmailConsentAt and SMSConsentAt when the
	// consent was last recorded (zero: unknown, read as null). The consent
	// mutations set them.
	EmailOptInLevel, SMSOptInLevel string
	EmailConsentAt, SMSConsentAt   time.Time
	CreatedAt                      time.Time // zero: the server's clock when seeded
	UpdatedAt                      time.Time // zero: CreatedAt
}

// GID returns the customer's global id.
func (c Customer) GID() string { return shopify.CustomerGID(c.ID) }

// Order is an order held by the fake. Its customer journey reports the
// order's position among the customer's orders (by creation time) and the
// whole days from the first visit to the order's creation.
type Order struct {
	ID          int64 // 0: assigned by AddOrder
	Name        string
	CustomerID  int64 // 0: no customer; else counted in that customer's NumberOfOrders and AmountSpent
	Email       string
	Tags        []string  // trimmed and deduplicated case-insensitively when seeded
	CreatedAt   time.Time // zero: the server's clock when seeded
	ProcessedAt time.Time // zero: CreatedAt
	// Total is the order's total in the shop's currency; zero value: the
	// line items' discounted prices times their quantities, or 0 USD
	// without line items.
	Total      money.Amount
	SourceName string // "web", "pos", ...
	// LineItems are the products ordered, in one currency (the Total's).
	LineItems []LineItem
	// FirstVisit and LastVisit make the customer journey; both nil: none.
	// Shopify attributes sessions of the 30 days before an order, so
	// AddOrder panics on a visit after the order was created or more than
	// 30 days before, or a last visit before the first.
	FirstVisit *Visit
	LastVisit  *Visit
}

// GID returns the order's global id.
func (o Order) GID() string { return shopify.OrderGID(o.ID) }

// LineItem is a product line of an order held by the fake. Its id is the
// order's id times 1000 plus its position from 1, so an order holds at most
// 999 of them.
type LineItem struct {
	ProductID    int64 // 0: a deleted product (null)
	VariantID    int64 // 0: a deleted variant (null)
	Title        string
	VariantTitle string
	SKU          string
	Quantity     int          // at least 1
	Price        money.Amount // one unit before discounts
	// DiscountedPrice is one unit after this line's discounts; zero value:
	// Price.
	DiscountedPrice money.Amount
}

// Visit is a session in an order's customer journey.
type Visit struct {
	OccurredAt  time.Time // zero: when the order was created
	Source      string
	LandingPage string
	ReferrerURL string
	UTMCampaign string
	UTMMedium   string
	UTMSource   string
	// MarketingEventType is a MarketingTactic; empty: no marketing event.
	MarketingEventType string
	MarketingEventID   int64
}

type segment struct {
	id                   int64
	name, query          string
	created, lastEditted time.Time
	match                func(*Customer) bool
}

// Segment is a saved customer segment as the fake holds it.
type Segment struct {
	ID    int64 // 0: assigned by AddSegment
	Name  string
	Query string // in the part of the segment query language the fake evaluates
}

// GID returns the segment's global id.
func (g Segment) GID() string { return segGID(g.ID) }

func (s *Server) newID() int64 { s.nextID++; return s.nextID }

// seedID returns id, or a new id when it is 0 (s.mu held).
func (s *Server) seedID(id int64) int64 {
	if id == 0 {
		return s.newID()
	}
	s.nextID = max(s.nextID, id)
	return id
}

// AddCustomer seeds a customer, replacing one with the same ID, and
// returns its id.
func (s *Server) AddCustomer(c Customer) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.NumberOfOrders != 0 || !c.AmountSpent.IsZero() {
		panic("shopifytest: AddCustomer: NumberOfOrders and AmountSpent follow the customer's orders; seed orders instead")
	}
	c.ID = s.seedID(c.ID)
	if c.AmountSpent.Currency == "" {
		c.AmountSpent = money.Zero("USD")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.base.Now().UTC().Truncate(time.Second)
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	if c.Email != "" && c.EmailState == "" {
		c.EmailState = "NOT_SUBSCRIBED"
	}
	if c.Phone != "" && c.SMSState == "" {
		c.SMSState = "NOT_SUBSCRIBED"
	}
	c.Tags, _ = addTags(nil, c.Tags, MaxTagLength)
	s.customers[c.ID] = &c
	s.syncTotals(c.ID)
	return c.ID
}

// AddOrder seeds an order, replacing one with the same ID, and returns its
// id. CustomerID names a seeded customer's id (or 0).
func (s *Server) AddOrder(o Order) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	o.ID = s.seedID(o.ID)
	if o.Name == "" {
		o.Name = "#" + strconv.Itoa(1000+len(s.orders)+1)
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = s.base.Now().UTC().Truncate(time.Second)
	}
	if o.ProcessedAt.IsZero() {
		o.ProcessedAt = o.CreatedAt
	}
	if err := checkLineItems(&o); err != nil {
		panic("shopifytest: AddOrder: " + err.Error())
	}
	if o.Total.Currency == "" {
		o.Total = money.Zero("USD")
	}
	if err := checkJourney(&o); err != nil {
		panic("shopifytest: AddOrder: " + err.Error())
	}
	o.Tags, _ = addTags(nil, o.Tags, MaxTagLength) // seeded as given: a shop may hold older, longer tags
	if old := s.orders[o.ID]; old != nil {
		s.countOrder(old, -1)
	}
	s.countOrder(&o, 1)
	s.orders[o.ID] = &o
	s.byCustomer = nil
	return o.ID
}

// checkLineItems fills the line items' discounted prices and the order's
// total from them when it was not given, and refuses line items Shopify
// could not hold.
func checkLineItems(o *Order) error {
	if len(o.LineItems) > 999 {
		return errors.New("the fake holds at most 999 line items per order")
	}
	o.LineItems = slices.Clone(o.LineItems)
	cur := o.Total.Currency
	sum := money.Zero(cur)
	for i := range o.LineItems {
		li := &o.LineItems[i]
		if li.Quantity < 1 {
			return fmt.Errorf("line item %d: quantity %d, want at least 1", i, li.Quantity)
		}
		if li.DiscountedPrice.Currency == "" {
			li.DiscountedPrice = li.Price
		}
		if cur == "" {
			cur, sum = li.Price.Currency, money.Zero(li.Price.Currency)
		}
		if li.Price.Currency != cur || li.DiscountedPrice.Currency != cur {
			return fmt.Errorf("line item %d: prices in %s and %s, the order is in %s", i, li.Price.Currency, li.DiscountedPrice.Currency, cur)
		}
		line, err := li.DiscountedPrice.MulDiv(int64(li.Quantity), 1)
		if err == nil {
			sum, err = sum.Add(line)
		}
		if err != nil {
			return fmt.Errorf("line item %d: %v", i, err)
		}
	}
	if o.Total.Currency == "" && len(o.LineItems) > 0 {
		o.Total = sum
	}
	return nil
}

// attributionWindow is how far back Shopify looks for an order's sessions.
const attributionWindow = 30 * 24 * time.Hour

// checkJourney fills the visits' times and refuses a journey Shopify could
// not report.
func checkJourney(o *Order) error {
	for _, v := range []*Visit{o.FirstVisit, o.LastVisit} {
		if v == nil {
			continue
		}
		if v.OccurredAt.IsZero() {
			v.OccurredAt = o.CreatedAt
		}
		if v.OccurredAt.After(o.CreatedAt) {
			return fmt.Errorf("a visit at %s is after the order was created (%s)", v.OccurredAt.Format(time.RFC3339), o.CreatedAt.Format(time.RFC3339))
		}
		if o.CreatedAt.Sub(v.OccurredAt) > attributionWindow {
			return fmt.Errorf("a visit at %s is more than 30 days before the order (%s): Shopify attributes the 30 days before an order", v.OccurredAt.Format(time.RFC3339), o.CreatedAt.Format(time.RFC3339))
		}
	}
	if f, l := o.FirstVisit, o.LastVisit; f != nil && l != nil && l.OccurredAt.Before(f.OccurredAt) {
		return errors.New("the last visit is before the first")
	}
	return nil
}

// orderTotals are a customer's orders: their count and total.
type orderTotals struct {
	n     int64
	spent money.Amount
}

// countOrder adds o (sign 1) to its customer's totals or takes it away
// (sign -1) (s.mu held). Shopify sums amountSpent in the shop's currency,
// so one customer's orders in two currencies panic.
func (s *Server) countOrder(o *Order, sign int64) {
	if o.CustomerID == 0 {
		return
	}
	t := s.totals[o.CustomerID]
	if t == nil || t.n == 0 {
		t = &orderTotals{spent: money.Zero(o.Total.Currency)}
		s.totals[o.CustomerID] = t
	}
	amt := o.Total
	if sign < 0 {
		amt, _ = amt.Neg()
	}
	sum, err := t.spent.Add(amt)
	if err != nil {
		panic(fmt.Sprintf("shopifytest: AddOrder: customer %d has orders in %s and %s; Shopify sums amountSpent in the shop's currency", o.CustomerID, t.spent.Currency, o.Total.Currency))
	}
	t.n, t.spent = t.n+sign, sum
	s.syncTotals(o.CustomerID)
}

// syncTotals copies a customer's order totals onto its record (s.mu held).
func (s *Server) syncTotals(id int64) {
	c := s.customers[id]
	if c == nil {
		return
	}
	if t := s.totals[id]; t != nil && t.n > 0 {
		c.NumberOfOrders, c.AmountSpent = t.n, t.spent
		return
	}
	c.NumberOfOrders, c.AmountSpent = 0, money.Zero(c.AmountSpent.Currency)
}

// journey returns an order's position among its customer's orders (by
// creation time, then id) and the whole days from its first visit to its
// creation; nil for what Shopify would report as null (s.mu held).
func (s *Server) journey(o *Order) (index, days any) {
	if o.CustomerID != 0 {
		n := 1
		for _, x := range s.customerOrders()[o.CustomerID] {
			if x.CreatedAt.Before(o.CreatedAt) || x.CreatedAt.Equal(o.CreatedAt) && x.ID < o.ID {
				n++
			}
		}
		index = n
	}
	if v := cmp.Or(o.FirstVisit, o.LastVisit); v != nil {
		days = int(o.CreatedAt.Sub(v.OccurredAt) / (24 * time.Hour))
	}
	return index, days
}

// AddSegment seeds a saved segment and returns its id. It panics when the
// name is empty or taken by another segment, or the query is outside what
// the fake evaluates.
func (s *Server) AddSegment(g Segment) int64 {
	m, err := parseSegmentQuery(g.Query)
	if err != nil {
		panic("shopifytest: AddSegment: " + err.Error())
	}
	if g.Name == "" {
		panic("shopifytest: AddSegment: a segment needs a name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, have := range s.segments {
		if have.id != g.ID && strings.EqualFold(have.name, g.Name) {
			panic(fmt.Sprintf("shopifytest: AddSegment: name %q is taken", g.Name))
		}
	}
	g.ID = s.seedID(g.ID)
	now := s.base.Now().UTC().Truncate(time.Second)
	s.segments[g.ID] = &segment{id: g.ID, name: g.Name, query: g.Query, created: now, lastEditted: now, match: m}
	return g.ID
}

// Customer returns a copy of the customer with that id.
func (s *Server) Customer(id int64) (Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.customers[id]
	if c == nil {
		return Customer{}, false
	}
	cp := *c
	cp.Tags = slices.Clone(c.Tags)
	return cp, true
}

// Order returns a copy of the order with that id.
func (s *Server) Order(id int64) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil {
		return Order{}, false
	}
	cp := *o
	cp.Tags = slices.Clone(o.Tags)
	cp.LineItems = slices.Clone(o.LineItems)
	return cp, true
}

// Segment returns the saved segment with that id.
func (s *Server) Segment(id int64) (Segment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.segments[id]
	if g == nil {
		return Segment{}, false
	}
	return Segment{ID: g.id, Name: g.name, Query: g.query}, true
}

// Customers returns copies of every customer, ordered by id.
func (s *Server) Customers() []Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Customer, 0, len(s.customers))
	for _, id := range sortedKeys(s.customers) {
		c := *s.customers[id]
		c.Tags = slices.Clone(c.Tags)
		out = append(out, c)
	}
	return out
}

// Orders returns copies of every order, ordered by id.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.orders))
	for _, id := range sortedKeys(s.orders) {
		o := *s.orders[id]
		o.Tags = slices.Clone(o.Tags)
		o.LineItems = slices.Clone(o.LineItems)
		out = append(out, o)
	}
	return out
}

// Segments returns the saved segments ordered by id.
func (s *Server) Segments() []Segment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Segment
	for _, id := range sortedKeys(s.segments) {
		g := s.segments[id]
		out = append(out, Segment{ID: g.id, Name: g.name, Query: g.query})
	}
	return out
}

// CustomerTags returns the tags of the customer with that id, sorted; nil
// when there is no such customer.
func (s *Server) CustomerTags(id int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.customers[id]; c != nil {
		return sortedClone(c.Tags)
	}
	return nil
}

// OrderTags returns the tags of the order with that id, sorted; nil when
// there is no such order.
func (s *Server) OrderTags(id int64) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o := s.orders[id]; o != nil {
		return sortedClone(o.Tags)
	}
	return nil
}

func sortedClone(tags []string) []string {
	t := slices.Clone(tags)
	slices.Sort(t)
	return t
}

func segGID(id int64) string { return gid.New(gid.Segment, id).String() }

// sortedValues returns m's values ordered by key.
func sortedValues[V any](m map[int64]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (s *Server) customerByGID(id string) *Customer {
	g, err := gid.Parse(id)
	if err != nil || g.Type != gid.Customer {
		return nil
	}
	return s.customers[g.Num]
}

// unscopedOrders is how far back an app without read_all_orders sees
// orders.
const unscopedOrders = 60 * 24 * time.Hour

// readable reports whether the app may read o: without read_all_orders,
// only orders of the last 60 days (s.mu held).
func (s *Server) readable(o *Order) bool {
	return slices.Contains(s.cfg.scopes, shopify.ScopeReadAllOrders) || !o.CreatedAt.Before(s.base.Now().Add(-unscopedOrders))
}

// accessScopes are the granted scopes as AccessScope objects.
func (s *Server) accessScopes() []*obj {
	out := make([]*obj, len(s.cfg.scopes))
	for i, h := range s.cfg.scopes {
		action, resource, _ := strings.Cut(h, "_")
		out[i] = fields("AccessScope", map[string]any{"handle": h, "description": action + " " + strings.ReplaceAll(resource, "_", " ")})
	}
	return out
}

func (s *Server) orderByGID(id string) *Order {
	g, err := gid.Parse(id)
	if err != nil || g.Type != gid.Order {
		return nil
	}
	return s.orders[g.Num]
}

// splitTags reads tagsAdd/tagsRemove input as Shopify does: every string
// may hold several comma-separated tags; each is trimmed, empties dropped.
func splitTags(in []string) []string {
	var out []string
	for _, s := range in {
		for _, t := range strings.Split(s, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

func hasTag(tags []string, t string) bool {
	for _, have := range tags {
		if strings.EqualFold(have, t) {
			return true
		}
	}
	return false
}

var (
	errTagTooLong = errors.New("tag too long")
	errTooMany    = errors.New("too many tags")
)

// addTags adds in to tags case-insensitively, enforcing the limits: at
// most maxLen characters a tag.
func addTags(tags, in []string, maxLen int) ([]string, error) {
	out := slices.Clone(tags)
	for _, t := range splitTags(in) {
		if utf8.RuneCountInString(t) > maxLen {
			return tags, fmt.Errorf("%w: %q exceeds %d characters", errTagTooLong, t, maxLen)
		}
		if !hasTag(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return tags, fmt.Errorf("%w: a resource can have at most %d tags", errTooMany, MaxTags)
	}
	return out, nil
}

func removeTags(tags, in []string) []string {
	rm := splitTags(in)
	return slices.DeleteFunc(slices.Clone(tags), func(t string) bool { return hasTag(rm, t) })
}

// place is where an item sits in a sorted list: the value it is sorted by
// (zero when sorted by id) and its id.
type place struct {
	at time.Time
	id int64
}

func (p place) compare(q place) int { return cmp.Or(p.at.Compare(q.at), cmp.Compare(p.id, q.id)) }

// cursor names the item at p, as Shopify's cursors do (its sort value and
// id, not its index): the next page starts after that place in the list
// as it is then, so items added, removed or moved meanwhile shift nothing.
// An item whose sort value grew past the cursor (a customer updated during
// a listing by UPDATED_AT) is met again, as on Shopify.
func cursor(p place) string {
	at := ""
	if !p.at.IsZero() {
		at = p.at.UTC().Format(time.RFC3339Nano)
	}
	return base64.StdEncoding.EncodeToString([]byte("at:" + strconv.FormatInt(p.id, 10) + ":" + at))
}

// decodeCursor reads a cursor: a place, or (in the fake's tests) "pos:N",
// the item at index N.
func decodeCursor(c string) (p place, index int, err error) {
	index = -1
	b, err := base64.StdEncoding.DecodeString(c)
	if err == nil {
		if n, ok := strings.CutPrefix(string(b), "pos:"); ok {
			if i, err := strconv.Atoi(n); err == nil && i >= 0 {
				return place{}, i, nil
			}
		}
		if rest, ok := strings.CutPrefix(string(b), "at:"); ok {
			id, at, _ := strings.Cut(rest, ":")
			p.id, err = strconv.ParseInt(id, 10, 64)
			if err == nil && at != "" {
				p.at, err = time.Parse(time.RFC3339Nano, at)
			}
			if err == nil {
				return p, -1, nil
			}
		}
	}
	return place{}, -1, errors.New("Invalid cursor for current pagination sort.")
}

// connection pages items (sorted; placeOf says where each sits) per
// first/after and builds the connection object. Pagination reaches the
// first limit items only, as Shopify's stops at 25,000: the page holding
// the last of them says there is no next page, and a cursor beyond them is
// an error.
func connection[T any](typ string, items []T, args map[string]any, maxFirst, limit int, node func(T) *obj, placeOf func(T) place, extra map[string]any) (any, error) {
	if args["last"] != nil || args["before"] != nil {
		return nil, errors.New("the fake supports only forward pagination (first, after)")
	}
	first, ok := intArg(args["first"])
	if !ok {
		return nil, errors.New("you must provide one of first or last")
	}
	if first < 0 || first > maxFirst {
		return nil, fmt.Errorf("The first argument must be at most %d.", maxFirst)
	}
	rev, _ := args["reverse"].(bool)
	if rev {
		items = slices.Clone(items)
		slices.Reverse(items)
	}
	start := 0
	if a, _ := args["after"].(string); a != "" {
		p, i, err := decodeCursor(a)
		if err != nil {
			return nil, err
		}
		start = i + 1
		if i < 0 {
			// The first item past the cursor's place, in the list's
			// direction.
			start = sort.Search(len(items), func(j int) bool {
				c := placeOf(items[j]).compare(p)
				return c > 0 && !rev || c < 0 && rev
			})
		}
	}
	if len(items) > limit {
		if start >= limit {
			return nil, fmt.Errorf("Pagination is limited to %d objects; use a bulk operation to read more.", limit)
		}
		items = items[:limit]
	}
	start = min(start, len(items))
	end := min(start+first, len(items))
	nodes := make([]*obj, 0, end-start)
	edges := make([]*obj, 0, end-start)
	for i := start; i < end; i++ {
		n := node(items[i])
		nodes = append(nodes, n)
		edges = append(edges, fields(typ+"Edge", map[string]any{"cursor": cursor(placeOf(items[i])), "node": n}))
	}
	pi := map[string]any{"hasNextPage": end < len(items), "hasPreviousPage": start > 0, "startCursor": nil, "endCursor": nil}
	if end > start {
		pi["startCursor"], pi["endCursor"] = cursor(placeOf(items[start])), cursor(placeOf(items[end-1]))
	}
	m := map[string]any{"nodes": nodes, "edges": edges, "pageInfo": fields("PageInfo", pi)}
	for k, v := range extra {
		m[k] = v
	}
	return fields(typ+"Connection", m), nil
}
