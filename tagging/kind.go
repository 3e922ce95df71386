package tagging

import (
	"strconv"

	"github.com/shopcrm/shopcrm/calendar"
)

// Kind is the kind of a subscription tag. Customer kinds describe one
// subscription contract (or, for the rank, the customer); order kinds
// describe the order a contract produced.
type Kind uint8

// The tag kinds. The layouts shown are the defaults; see [NewSchema] for the
// prefixes and templates that change them.
const (
	KindUnknown        Kind = iota // not a tag of the schema
	KindPlan                       // customer: subscription-{id}-plan:PLAN
	KindProduct                    // customer: subscription-{id}-product:PRODUCT
	KindCancel                     // customer: subscription-{id}-cancel:YYYY-MM-DD
	KindSkipCount                  // customer: subscription-{id}-skip-count:N
	KindPause                      // customer, template: subscription-{id}-pause:YYYY-MM-DD
	KindRank                       // customer, template: subscription-rank:RANK
	KindStatus                     // customer, template: subscription-{id}-status:STATUS
	KindOrderCount                 // order: subscription-count:N
	KindSubscriptionID             // order: subscription-id:NNNNNNNNNN
	KindDelivery                   // order: delivery-{id}:YYYY-MM-DD TIME
	numKinds
)

// String returns the kind's name as the grammar spells it ("plan",
// "skip-count", "subscription-count", ...).
func (k Kind) String() string {
	switch k {
	case KindUnknown:
		return "unknown"
	case KindPlan:
		return "plan"
	case KindProduct:
		return "product"
	case KindCancel:
		return "cancel"
	case KindSkipCount:
		return "skip-count"
	case KindPause:
		return "pause"
	case KindRank:
		return "rank"
	case KindStatus:
		return "status"
	case KindOrderCount:
		return "subscription-count"
	case KindSubscriptionID:
		return "subscription-id"
	case KindDelivery:
		return "delivery"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Order reports whether tags of kind k go on orders rather than customers.
func (k Kind) Order() bool {
	return k == KindOrderCount || k == KindSubscriptionID || k == KindDelivery
}

// templated reports whether the kind's layout comes from a template; the
// seed documents the others exactly.
func (k Kind) templated() bool { return k == KindPause || k == KindRank || k == KindStatus }

// Tag is one parsed subscription tag. Each kind uses only some fields; the
// others are zero:
//
//	Kind            Contract  Value                  Date      Count
//	plan            id        plan name              -         -
//	product         id        product name           -         -
//	cancel          id        -                      cancelled -
//	skip-count      id        -                      -         skips
//	pause           id        -                      paused*   -
//	rank            id*       rank                   -         -
//	status          id        purchase status        -         -
//	subscription-count -      -                      -         orders
//	subscription-id -         10 digits              -         -
//	delivery        id        time slot (optional)   delivery  -
//
// Fields marked * are used when the kind's template has the placeholder.
// Contract ids are ASCII digits, kept verbatim (leading zeros included).
// Names, ranks, statuses and time slots are free text, Japanese included,
// kept byte for byte.
type Tag struct {
	Kind     Kind
	Contract string
	Value    string
	Date     calendar.Date
	Count    int
}
