package shopifytest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
)

type resolver = func(map[string]any) (any, error)

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func moneyObj(a money.Amount) *obj {
	return fields("MoneyV2", map[string]any{"amount": a.Decimal(), "currencyCode": string(a.Currency)})
}

func customerObj(c *Customer) *obj {
	display := strings.TrimSpace(c.FirstName + " " + c.LastName)
	if display == "" {
		display = c.Email
	}
	var email, sms any
	if c.Email != "" {
		email = fields("CustomerEmailMarketingConsentState", map[string]any{
			"marketingState": c.EmailState, "marketingOptInLevel": cmp.Or(c.EmailOptInLevel, "SINGLE_OPT_IN"), "consentUpdatedAt": ts(c.EmailConsentAt),
		})
	}
	if c.Phone != "" {
		sms = fields("CustomerSmsMarketingConsentState", map[string]any{
			"marketingState": c.SMSState, "marketingOptInLevel": cmp.Or(c.SMSOptInLevel, "SINGLE_OPT_IN"), "consentUpdatedAt": ts(c.SMSConsentAt),
			"consentCollectedFrom": "OTHER",
		})
	}
	return fields("Customer", map[string]any{
		"id": c.GID(), "firstName": nullable(c.FirstName), "lastName": nullable(c.LastName), "displayName": display,
		"email": nullable(c.Email), "phone": nullable(c.Phone), "tags": slices.Clone(c.Tags),
		"numberOfOrders": strconv.FormatInt(c.NumberOfOrders, 10), "amountSpent": moneyObj(c.AmountSpent),
		"createdAt": ts(c.CreatedAt), "updatedAt": ts(c.UpdatedAt), "state": "ENABLED", "emailMarketingConsent": email, "smsMarketingConsent": sms,
	})
}

func visitObj(v *Visit, id int64) any {
	if v == nil {
		return nil
	}
	var me any
	if v.MarketingEventType != "" {
		me = fields("MarketingEvent", map[string]any{
			"id": gid.New(gid.MarketingEvent, max(v.MarketingEventID, 1)).String(), "type": v.MarketingEventType,
			"channelHandle": nil, "remoteId": nil, "utmCampaign": nullable(v.UTMCampaign), "utmMedium": nullable(v.UTMMedium),
			"utmSource": nullable(v.UTMSource), "sourceAndMedium": strings.Trim(v.UTMSource+" "+v.UTMMedium, " "),
		})
	}
	var utm any
	if v.UTMCampaign != "" || v.UTMMedium != "" || v.UTMSource != "" {
		utm = fields("UTMParameters", map[string]any{"campaign": nullable(v.UTMCampaign), "content": nil,
			"medium": nullable(v.UTMMedium), "source": nullable(v.UTMSource), "term": nil})
	}
	src := v.Source
	if src == "" {
		src = "direct"
	}
	return fields("CustomerVisit", map[string]any{
		"id": gid.New(gid.CustomerVisit, id).String(), "occurredAt": ts(v.OccurredAt), "landingPage": nullable(v.LandingPage),
		"referrerUrl": nullable(v.ReferrerURL), "referralCode": nil, "source": src, "sourceDescription": nil, "sourceType": nil,
		"utmParameters": utm, "marketingEvent": me,
	})
}

func (s *Server) orderObj(o *Order) *obj {
	var cust any
	if c := s.customers[o.CustomerID]; c != nil {
		cust = customerObj(c)
	}
	var journey any
	if o.FirstVisit != nil || o.LastVisit != nil {
		index, days := s.journey(o)
		journey = fields("CustomerJourneySummary", map[string]any{
			"ready": true, "customerOrderIndex": index, "daysToConversion": days,
			"firstVisit": visitObj(o.FirstVisit, o.ID*10+1), "lastVisit": visitObj(o.LastVisit, o.ID*10+2),
		})
	}
	lines := make([]int, len(o.LineItems))
	for i := range lines {
		lines[i] = i
	}
	return fields("Order", map[string]any{
		"lineItems": resolver(func(a map[string]any) (any, error) {
			return connection("LineItem", lines, a, 250, s.cfg.pageLimit, func(i int) *obj { return lineItemObj(o, i) },
				func(i int) place { return place{id: int64(i)} }, nil)
		}),
		"id": o.GID(), "name": o.Name, "tags": slices.Clone(o.Tags), "customer": cust, "email": nullable(o.Email),
		"createdAt": ts(o.CreatedAt), "processedAt": ts(o.ProcessedAt), "cancelledAt": nil, "test": false,
		"currencyCode": string(o.Total.Currency), "sourceName": nullable(o.SourceName), "customerJourneySummary": journey,
		"totalPriceSet": fields("MoneyBag", map[string]any{"shopMoney": moneyObj(o.Total), "presentmentMoney": moneyObj(o.Total)}),
	})
}

// lineItemObj is the i-th line item of o.
func lineItemObj(o *Order, i int) *obj {
	li := &o.LineItems[i]
	var product, variant any
	if li.ProductID != 0 {
		product = fields("Product", map[string]any{"id": gid.New(gid.Product, li.ProductID).String(), "title": li.Title})
	}
	if li.VariantID != 0 {
		variant = fields("ProductVariant", map[string]any{"id": gid.New(gid.ProductVariant, li.VariantID).String(),
			"title": cmp.Or(li.VariantTitle, "Default Title"), "sku": nullable(li.SKU)})
	}
	bag := func(a money.Amount) *obj {
		return fields("MoneyBag", map[string]any{"shopMoney": moneyObj(a), "presentmentMoney": moneyObj(a)})
	}
	return fields("LineItem", map[string]any{
		"id": gid.New(gid.LineItem, o.ID*1000+int64(i)+1).String(), "title": li.Title, "variantTitle": nullable(li.VariantTitle),
		"sku": nullable(li.SKU), "quantity": li.Quantity, "product": product, "variant": variant,
		"originalUnitPriceSet": bag(li.Price), "discountedUnitPriceSet": bag(li.DiscountedPrice),
	})
}

func segmentObj(g *segment) *obj {
	return fields("Segment", map[string]any{"id": segGID(g.id), "name": g.name, "query": g.query,
		"creationDate": ts(g.created), "lastEditDate": ts(g.lastEditted)})
}

func memberObj(c *Customer) *obj {
	o := customerObj(c)
	var email, phone any
	if c.Email != "" {
		st := c.EmailState
		if st == "REDACTED" {
			st = "UNSUBSCRIBED"
		}
		email = fields("CustomerEmailAddress", map[string]any{"emailAddress": c.Email, "marketingState": st})
	}
	if c.Phone != "" {
		phone = fields("CustomerPhoneNumber", map[string]any{"phoneNumber": c.Phone, "marketingState": c.SMSState})
	}
	base := o.get
	return &obj{typ: "CustomerSegmentMember", get: func(f string, args map[string]any) (any, error) {
		switch f {
		case "id":
			return gid.New(gid.CustomerSegmentMember, c.ID).String(), nil
		case "defaultEmailAddress":
			return email, nil
		case "defaultPhoneNumber":
			return phone, nil
		}
		return base(f, args)
	}}
}

func (s *Server) queryRoot() *obj {
	return fields("QueryRoot", map[string]any{
		"customer": resolver(func(a map[string]any) (any, error) {
			if c := s.customerByGID(str(a["id"])); c != nil {
				return customerObj(c), nil
			}
			return nil, nil
		}),
		"order": resolver(func(a map[string]any) (any, error) {
			if o := s.orderByGID(str(a["id"])); o != nil && s.readable(o) {
				return s.orderObj(o), nil
			}
			return nil, nil
		}),
		"segment": resolver(func(a map[string]any) (any, error) {
			g, err := gid.Parse(str(a["id"]))
			if err == nil && g.Type == gid.Segment && s.segments[g.Num] != nil {
				return segmentObj(s.segments[g.Num]), nil
			}
			return nil, nil
		}),
		"customers": resolver(func(a map[string]any) (any, error) {
			list, err := filter("customers", str(a["query"]), customerSearch, sortedValues(s.customers))
			var placeOf func(*Customer) place
			if err == nil {
				placeOf, err = sortBy(list, str(a["sortKey"]), customerSorts, func(c *Customer) int64 { return c.ID })
			}
			if err != nil {
				return nil, err
			}
			return connection("Customer", list, a, 250, s.cfg.pageLimit, customerObj, placeOf, nil)
		}),
		"orders": resolver(func(a map[string]any) (any, error) {
			if a["savedSearchId"] != nil {
				return nil, errors.New("savedSearchId is not modelled by the fake")
			}
			list, err := filter("orders", str(a["query"]), orderSearch, slices.DeleteFunc(sortedValues(s.orders), func(o *Order) bool { return !s.readable(o) }))
			var placeOf func(*Order) place
			if err == nil {
				placeOf, err = sortBy(list, str(a["sortKey"]), orderSorts, func(o *Order) int64 { return o.ID })
			}
			if err != nil {
				return nil, err
			}
			return connection("Order", list, a, 250, s.cfg.pageLimit, s.orderObj, placeOf, nil)
		}),
		"segments": resolver(func(a map[string]any) (any, error) {
			if str(a["query"]) != "" {
				return nil, errors.New("segments(query:) is not modelled by the fake")
			}
			list := sortedValues(s.segments)
			placeOf, err := sortBy(list, str(a["sortKey"]), segmentSorts, func(g *segment) int64 { return g.id })
			if err != nil {
				return nil, err
			}
			return connection("Segment", list, a, 250, s.cfg.pageLimit, segmentObj, placeOf, nil)
		}),
		"currentAppInstallation": fields("AppInstallation", map[string]any{
			"id": "gid://shopify/AppInstallation/1", "accessScopes": s.accessScopes(),
		}),
		"customerSegmentMembers": resolver(func(a map[string]any) (any, error) {
			var match func(*Customer) bool
			switch {
			case a["segmentId"] != nil:
				g, err := gid.Parse(str(a["segmentId"]))
				if err != nil || s.segments[g.Num] == nil {
					return nil, errors.New("Segment does not exist")
				}
				match = s.segments[g.Num].match
			case a["query"] != nil:
				m, err := parseSegmentQuery(str(a["query"]))
				if err != nil {
					return nil, err
				}
				match = m
			default:
				return nil, errors.New("the fake needs segmentId or query")
			}
			var list []*Customer
			for _, id := range sortedKeys(s.customers) {
				if c := s.customers[id]; match(c) {
					list = append(list, c)
				}
			}
			// Counts stop one past the pagination limit: "more than that".
			count := min(len(list), s.cfg.pageLimit+1)
			return connection("CustomerSegmentMember", list, a, 1000, s.cfg.pageLimit, memberObj,
				func(c *Customer) place { return place{id: c.ID} }, map[string]any{"totalCount": count})
		}),
	})
}

func str(v any) string { s, _ := v.(string); return s }

// strList reads a [String!] argument; GraphQL coerces a single string to a
// list of one.
func strList(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		out = append(out, str(x))
	}
	return out
}

func userErrs(list ...map[string]any) []*obj {
	out := make([]*obj, 0, len(list))
	for _, m := range list {
		typ := "UserError"
		if _, ok := m["code"]; ok {
			typ = "CustomerEmailMarketingConsentUpdateUserError"
		}
		out = append(out, fields(typ, m))
	}
	return out
}

func uerr(field []string, msg string) map[string]any {
	return map[string]any{"field": field, "message": msg}
}

func (s *Server) mutationRoot(now time.Time) *obj {
	tagEdit := func(add bool) resolver {
		return func(a map[string]any) (any, error) {
			id := str(a["id"])
			tags := strList(a["tags"])
			typ := "TagsRemovePayload"
			if add {
				typ = "TagsAddPayload"
			}
			payload := func(node any, errs ...map[string]any) *obj {
				return fields(typ, map[string]any{"node": node, "userErrors": userErrs(errs...)})
			}
			var target *[]string
			var node func() *obj
			maxLen := MaxTagLength
			if c := s.customerByGID(id); c != nil {
				old := *c
				target, node = &c.Tags, func() *obj {
					c.UpdatedAt = now
					s.customerChanged(&old, c, now)
					return customerObj(c)
				}
			} else if o := s.orderByGID(id); o != nil {
				target, node = &o.Tags, func() *obj { return s.orderObj(o) }
				maxLen = MaxOrderTagLength
			} else {
				return payload(nil, uerr([]string{"id"}, "Resource not found")), nil
			}
			if len(splitTags(tags)) == 0 {
				return payload(nil, uerr([]string{"tags"}, "Tags can't be blank")), nil
			}
			if add {
				next, err := addTags(*target, tags, maxLen)
				if err != nil {
					return payload(nil, uerr([]string{"tags"}, err.Error())), nil
				}
				*target = next
			} else {
				*target = removeTags(*target, tags)
			}
			return payload(node()), nil
		}
	}
	segPayload := func(typ string, g *segment, errs ...map[string]any) *obj {
		var seg any
		if g != nil {
			seg = segmentObj(g)
		}
		return fields(typ, map[string]any{"segment": seg, "userErrors": userErrs(errs...)})
	}
	nameTaken := func(name string, except int64) bool {
		for _, g := range s.segments {
			if g.id != except && strings.EqualFold(g.name, name) {
				return true
			}
		}
		return false
	}
	consent := func(typ, key string, email bool) resolver {
		return func(a map[string]any) (any, error) {
			in, _ := a["input"].(map[string]any)
			c := s.customerByGID(str(in["customerId"]))
			cons, _ := in[key].(map[string]any)
			errp := func(field []string, msg, code string) *obj {
				return fields(typ, map[string]any{"customer": nil, "userErrors": []*obj{fields(typ+"Error", map[string]any{"field": field, "message": msg, "code": code})}})
			}
			switch {
			case c == nil:
				return errp([]string{"input", "customerId"}, "Customer not found", "INVALID"), nil
			case email && c.Email == "":
				return errp([]string{"input", "customerId"}, "Customer must have an email address", "INVALID"), nil
			case !email && c.Phone == "":
				return errp([]string{"input", "customerId"}, "Customer must have a phone number", "INVALID"), nil
			}
			at := now
			if t, err := time.Parse(time.RFC3339, str(cons["consentUpdatedAt"])); err == nil {
				at = t.UTC()
			}
			old := *c
			defer s.customerChanged(&old, c, now)
			state, level, when := &c.SMSState, &c.SMSOptInLevel, &c.SMSConsentAt
			if email {
				state, level, when = &c.EmailState, &c.EmailOptInLevel, &c.EmailConsentAt
			}
			*state, *when = str(cons["marketingState"]), at
			if l := str(cons["marketingOptInLevel"]); l != "" {
				*level = l
			}
			c.UpdatedAt = now
			return fields(typ, map[string]any{"customer": customerObj(c), "userErrors": []*obj{}}), nil
		}
	}
	return fields("Mutation", map[string]any{
		"tagsAdd":    tagEdit(true),
		"tagsRemove": tagEdit(false),
		"segmentCreate": resolver(func(a map[string]any) (any, error) {
			name, q := str(a["name"]), str(a["query"])
			if nameTaken(name, 0) {
				return segPayload("SegmentCreatePayload", nil, uerr([]string{"name"}, "Name has already been taken")), nil
			}
			m, err := parseSegmentQuery(q)
			if err != nil {
				return segPayload("SegmentCreatePayload", nil, uerr([]string{"query"}, err.Error())), nil
			}
			g := &segment{id: s.newID(), name: name, query: q, created: now, lastEditted: now, match: m}
			s.segments[g.id] = g
			return segPayload("SegmentCreatePayload", g), nil
		}),
		"segmentUpdate": resolver(func(a map[string]any) (any, error) {
			id, err := gid.Parse(str(a["id"]))
			g := s.segments[id.Num]
			if err != nil || g == nil {
				return segPayload("SegmentUpdatePayload", nil, uerr([]string{"id"}, "Segment does not exist")), nil
			}
			if name, ok := a["name"].(string); ok {
				if nameTaken(name, g.id) {
					return segPayload("SegmentUpdatePayload", nil, uerr([]string{"name"}, "Name has already been taken")), nil
				}
				g.name = name
			}
			if q, ok := a["query"].(string); ok {
				m, err := parseSegmentQuery(q)
				if err != nil {
					return segPayload("SegmentUpdatePayload", nil, uerr([]string{"query"}, err.Error())), nil
				}
				g.query, g.match = q, m
			}
			g.lastEditted = now
			return segPayload("SegmentUpdatePayload", g), nil
		}),
		"segmentDelete": resolver(func(a map[string]any) (any, error) {
			id, err := gid.Parse(str(a["id"]))
			if err != nil || s.segments[id.Num] == nil {
				return fields("SegmentDeletePayload", map[string]any{"deletedSegmentId": nil, "userErrors": userErrs(uerr([]string{"id"}, "Segment does not exist"))}), nil
			}
			delete(s.segments, id.Num)
			return fields("SegmentDeletePayload", map[string]any{"deletedSegmentId": str(a["id"]), "userErrors": []*obj{}}), nil
		}),
		"customerEmailMarketingConsentUpdate": consent("CustomerEmailMarketingConsentUpdatePayload", "emailMarketingConsent", true),
		"customerSmsMarketingConsentUpdate":   consent("CustomerSmsMarketingConsentUpdatePayload", "smsMarketingConsent", false),
	})
}

// parseSegmentQuery understands the part of the segment query language the
// fake evaluates: customer_tags CONTAINS 'x', customer_tags NOT CONTAINS
// 'x', email_subscription_status = 'STATE', combined with AND, OR, NOT and
// parentheses.
func parseSegmentQuery(q string) (func(*Customer) bool, error) {
	p := &segParser{toks: segTokens(q)}
	f, err := p.or()
	if err == nil && p.i < len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.toks[p.i])
	}
	if err != nil {
		return nil, fmt.Errorf("Query is invalid or not supported by the fake: %v", err)
	}
	return f, nil
}

func segTokens(q string) []string {
	var toks []string
	for i := 0; i < len(q); {
		switch c := q[i]; {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(' || c == ')' || c == '=':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(q) && q[j] != '\'' {
				if q[j] == '\\' && j+1 < len(q) {
					j++
				}
				b.WriteByte(q[j])
				j++
			}
			toks = append(toks, "'"+b.String())
			i = j + 1
		default:
			j := i
			for j < len(q) && !strings.ContainsRune(" \t\n()='", rune(q[j])) {
				j++
			}
			toks = append(toks, q[i:j])
			i = j
		}
	}
	return toks
}

type segParser struct {
	toks []string
	i    int
}

func (p *segParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *segParser) next() string { t := p.peek(); p.i++; return t }

func (p *segParser) or() (func(*Customer) bool, error) {
	l, err := p.and()
	for err == nil && strings.EqualFold(p.peek(), "OR") {
		p.next()
		var r func(*Customer) bool
		if r, err = p.and(); err == nil {
			a, b := l, r
			l = func(c *Customer) bool { return a(c) || b(c) }
		}
	}
	return l, err
}

func (p *segParser) and() (func(*Customer) bool, error) {
	l, err := p.term()
	for err == nil && strings.EqualFold(p.peek(), "AND") {
		p.next()
		var r func(*Customer) bool
		if r, err = p.term(); err == nil {
			a, b := l, r
			l = func(c *Customer) bool { return a(c) && b(c) }
		}
	}
	return l, err
}

func (p *segParser) term() (func(*Customer) bool, error) {
	switch t := p.next(); {
	case strings.EqualFold(t, "NOT"):
		f, err := p.term()
		if err != nil {
			return nil, err
		}
		return func(c *Customer) bool { return !f(c) }, nil
	case t == "(":
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, errors.New("missing )")
		}
		return f, nil
	case t == "customer_tags":
		neg := false
		if strings.EqualFold(p.peek(), "NOT") {
			p.next()
			neg = true
		}
		if !strings.EqualFold(p.next(), "CONTAINS") {
			return nil, errors.New("expected CONTAINS")
		}
		v := p.next()
		if !strings.HasPrefix(v, "'") {
			return nil, errors.New("expected a quoted tag")
		}
		tag := v[1:]
		return func(c *Customer) bool { return hasTag(c.Tags, tag) != neg }, nil
	case t == "email_subscription_status":
		if p.next() != "=" {
			return nil, errors.New("expected =")
		}
		v := p.next()
		if !strings.HasPrefix(v, "'") {
			return nil, errors.New("expected a quoted state")
		}
		st := v[1:]
		return func(c *Customer) bool { return c.Email != "" && c.EmailState == st }, nil
	default:
		return nil, fmt.Errorf("unsupported %q", t)
	}
}
