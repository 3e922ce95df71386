package attribution

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
)

// Action is what happened at a touchpoint: an ad shown or clicked, a
// message sent, opened, clicked or bounced, a direct visit.
type Action uint8

// Touchpoint actions. Only the clicks (ad, email, SMS, message) and direct
// visits are credit-eligible; impressions, sends, opens and bounces are
// counted in the rollups but never earn credit for a conversion.
//
// The Message actions are for messaging apps and push notifications (LINE,
// app push, WhatsApp, ...): which one is the touchpoint's Key.Channel
// ("line", "push"). MessageOpened is an opened push notification or a
// message the platform reports as read; MessageBounced a message that
// could not be delivered (blocked, unfollowed, invalid device token).
const (
	AdImpression Action = iota + 1
	AdClick
	EmailSent
	EmailOpened
	EmailClicked
	EmailBounced
	SMSSent
	SMSClicked
	DirectVisit
	MessageSent
	MessageOpened
	MessageClicked
	MessageBounced

	lastAction = MessageBounced
)

// Valid reports whether a is one of the defined actions.
func (a Action) Valid() bool { return a >= AdImpression && a <= lastAction }

// Eligible reports whether a touchpoint with action a can earn credit.
func (a Action) Eligible() bool {
	return a == AdClick || a == EmailClicked || a == SMSClicked || a == MessageClicked || a == DirectVisit
}

var actionNames = [...]string{
	AdImpression:   "ad_impression",
	AdClick:        "ad_click",
	EmailSent:      "email_sent",
	EmailOpened:    "email_opened",
	EmailClicked:   "email_clicked",
	EmailBounced:   "email_bounced",
	SMSSent:        "sms_sent",
	SMSClicked:     "sms_clicked",
	DirectVisit:    "direct_visit",
	MessageSent:    "message_sent",
	MessageOpened:  "message_opened",
	MessageClicked: "message_clicked",
	MessageBounced: "message_bounced",
}

// String returns the action's snake_case name, such as "email_clicked".
func (a Action) String() string {
	if a.Valid() {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// ParseAction is the inverse of [Action.String].
func ParseAction(s string) (Action, error) {
	for a := AdImpression; a <= lastAction; a++ {
		if a.String() == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("attribution: unknown action %q", s)
}

// MarshalText encodes a by name.
func (a Action) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, fmt.Errorf("attribution: invalid action %d", uint8(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText decodes a name written by [Action.MarshalText].
func (a *Action) UnmarshalText(b []byte) error {
	v, err := ParseAction(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Level is a tier of the rollup. Every level except [TotalLevel] matches a
// field of [Key]; Shopify's marketing activities use the last three as their
// hierarchy levels (CAMPAIGN, AD_GROUP, AD).
type Level uint8

// Rollup levels, from the widest to the narrowest.
const (
	TotalLevel Level = iota // everything, one row per day
	ChannelLevel
	CampaignLevel
	AdGroupLevel
	AdLevel
)

// String returns "total", "channel", "campaign", "ad_group" or "ad".
func (l Level) String() string {
	switch l {
	case TotalLevel:
		return "total"
	case ChannelLevel:
		return "channel"
	case CampaignLevel:
		return "campaign"
	case AdGroupLevel:
		return "ad_group"
	case AdLevel:
		return "ad"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// Direct is the channel credited for a direct visit that names no channel.
const Direct = "direct"

// Key places activity in the hierarchy channel → campaign → ad group → ad.
// The values are the caller's identifiers (typically the ad platform's ids;
// Shopify remote ids by default, see [EngagementOptions]). Channel is
// required; an ad group or an ad needs a campaign; an ad may sit directly
// under a campaign, as Shopify allows. Deeper fields may be left empty when
// data is only known at a wider level.
type Key struct {
	Channel  string
	Campaign string
	AdGroup  string
	Ad       string
}

// At returns the part of k that identifies its node at level l, and false
// when k has no node there (its field for l is empty).
func (k Key) At(l Level) (Key, bool) {
	switch l {
	case TotalLevel:
		return Key{}, true
	case ChannelLevel:
		return Key{Channel: k.Channel}, k.Channel != ""
	case CampaignLevel:
		return Key{Channel: k.Channel, Campaign: k.Campaign}, k.Campaign != ""
	case AdGroupLevel:
		return Key{Channel: k.Channel, Campaign: k.Campaign, AdGroup: k.AdGroup}, k.AdGroup != ""
	case AdLevel:
		return k, k.Ad != ""
	}
	return Key{}, false
}

// String joins the non-empty fields with " / ".
func (k Key) String() string {
	parts := make([]string, 0, 4)
	for _, p := range [...]string{k.Channel, k.Campaign, k.AdGroup, k.Ad} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " / ")
}

// compare orders keys field by field; it breaks ties between touchpoints
// at the same instant, so results never depend on input order.
func (k Key) compare(o Key) int {
	if c := strings.Compare(k.Channel, o.Channel); c != 0 {
		return c
	}
	if c := strings.Compare(k.Campaign, o.Campaign); c != 0 {
		return c
	}
	if c := strings.Compare(k.AdGroup, o.AdGroup); c != 0 {
		return c
	}
	return strings.Compare(k.Ad, o.Ad)
}

// check returns the field at fault, or "".
func (k Key) check() (field string, err error) {
	switch {
	case k.Channel == "":
		return "Channel", ErrMissing
	case k.Campaign == "" && k.AdGroup != "":
		return "Campaign", fmt.Errorf("%w: ad group %q needs a campaign", ErrMissing, k.AdGroup)
	case k.Campaign == "" && k.Ad != "":
		return "Campaign", fmt.Errorf("%w: ad %q needs a campaign", ErrMissing, k.Ad)
	}
	return "", nil
}

// UTM holds a touchpoint's utm_source, utm_medium and utm_campaign.
type UTM struct {
	Source, Medium, Campaign string
}

// Touchpoint is one customer interaction with marketing.
//
// Streams of touchpoints handed to [Config.Rollup] must be sorted by
// Customer (byte-wise, as strings.Compare orders them), then by Time; in
// other words grouped by customer, each customer's touchpoints in time
// order, customers in ascending order. [SortTouchpoints] puts a slice in
// that order. Touchpoints at the same instant may come in any order.
type Touchpoint struct {
	// Customer identifies the customer; it joins touchpoints to
	// conversions. An empty Customer is an anonymous touchpoint: it is
	// counted in the rollups but belongs to no journey.
	Customer string
	Time     time.Time
	Action   Action
	// Key is where the touchpoint belongs. When Key.Channel is empty the
	// key comes from the UTM (channel = UTM source, campaign = UTM
	// campaign unless Key.Campaign is set); a direct visit with neither is
	// credited to the [Direct] channel.
	Key Key
	UTM UTM
}

// key resolves the touchpoint's effective key (see [Touchpoint.Key]).
func (t *Touchpoint) key() Key {
	k := t.Key
	if k.Channel != "" {
		return k
	}
	switch {
	case t.UTM.Source != "":
		k.Channel = t.UTM.Source
		if k.Campaign == "" {
			k.Campaign = t.UTM.Campaign
		}
	case t.Action == DirectVisit && k == Key{}:
		k.Channel = Direct
	}
	return k
}

// Conversion is an order placed by a customer.
//
// Streams of conversions follow the same order as touchpoints: by Customer,
// then Time ([SortConversions]).
type Conversion struct {
	Order string // the order id; required
	// Customer joins the order to the customer's touchpoints. An order with
	// no customer (a guest checkout) cannot be joined to a journey and is
	// reported as unattributed.
	Customer string
	Time     time.Time
	// Revenue is split over the credited touchpoints in whole minor units,
	// so the parts add up to it exactly. It must not be negative.
	Revenue   money.Amount
	FirstTime bool // the customer's first order; otherwise returning
}

// Spend is one day of an ad platform's report for one key: what was spent
// and the impressions and clicks it bought. Spend rows may come in any
// order; there is at most one per key and day (an exact repeat is dropped,
// a differing one is an error). A spend row may be given at any level, for
// example per campaign when the platform does not report per ad.
//
// When a channel has any spend row for a day, impressions and clicks of
// that channel and day come from its spend rows only; ad impression and ad
// click touchpoints of that channel and day still take part in attribution
// but are not counted again (see [Stats.Superseded]).
type Spend struct {
	Day         calendar.Date
	Key         Key
	Amount      money.Amount // what was spent; the zero Amount means nothing
	Impressions int64
	Clicks      int64
}

// Messages is one day of a messaging platform's report (email, SMS, LINE,
// push) for one key (typically a campaign, or a flow message as an ad). The
// same rules as for [Spend] apply: any order, one row per key and day, and
// when a channel has message rows for a day they replace the counts of
// email, SMS and message touchpoints of that channel and day.
type Messages struct {
	Day          calendar.Date
	Key          Key
	Sends        int64
	Opens        int64
	Clicks       int64
	Bounces      int64
	Unsubscribes int64
	Complaints   int64
}

// SortTouchpoints sorts ts into the order [Config.Rollup] needs: by
// customer, then time. The sort is stable.
func SortTouchpoints(ts []Touchpoint) {
	slices.SortStableFunc(ts, func(a, b Touchpoint) int {
		if c := strings.Compare(a.Customer, b.Customer); c != 0 {
			return c
		}
		return a.Time.Compare(b.Time)
	})
}

// SortConversions sorts cs into the order [Config.Rollup] needs: by
// customer, then time. The sort is stable.
func SortConversions(cs []Conversion) {
	slices.SortStableFunc(cs, func(a, b Conversion) int {
		if c := strings.Compare(a.Customer, b.Customer); c != 0 {
			return c
		}
		return a.Time.Compare(b.Time)
	})
}

// Supported instants, 1900-01-01 up to 2200-01-01 in unix seconds: wide
// enough for any shop, narrow enough that unix nanoseconds never overflow.
const (
	minSeconds = -2208988800
	maxSeconds = 7258118400
)

// checkTime returns t as unix nanoseconds, or an error cause.
func checkTime(t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, ErrMissing
	}
	s := t.Unix()
	if s < minSeconds || s >= maxSeconds {
		return 0, fmt.Errorf("%w: %s is outside the years 1900 to 2199", ErrInvalid, t.Format(time.RFC3339))
	}
	return s*1e9 + int64(t.Nanosecond()), nil
}

// checkDay returns the error cause for a row's day, or nil.
func checkDay(d calendar.Date) error {
	switch {
	case d == 0:
		return ErrMissing
	case !d.Valid():
		return fmt.Errorf("%w: day %d is not a calendar date", ErrInvalid, int32(d))
	}
	return nil
}

func checkCount(field string, v int64) (string, error) {
	if v < 0 {
		return field, fmt.Errorf("%w: %d", ErrNegative, v)
	}
	return "", nil
}

func (s *Spend) check() (string, error) {
	if err := checkDay(s.Day); err != nil {
		return "Day", err
	}
	if f, err := s.Key.check(); err != nil {
		return "Key." + f, err
	}
	if f, err := checkCount("Impressions", s.Impressions); err != nil {
		return f, err
	}
	if f, err := checkCount("Clicks", s.Clicks); err != nil {
		return f, err
	}
	if s.Amount == (money.Amount{}) {
		return "", nil
	}
	if _, err := money.New(0, s.Amount.Currency); err != nil {
		return "Amount", err
	}
	if s.Amount.Minor < 0 {
		return "Amount", fmt.Errorf("%w: %s", ErrNegative, s.Amount)
	}
	return "", nil
}

func (m *Messages) check() (string, error) {
	if err := checkDay(m.Day); err != nil {
		return "Day", err
	}
	if f, err := m.Key.check(); err != nil {
		return "Key." + f, err
	}
	for _, c := range [...]struct {
		f string
		v int64
	}{{"Sends", m.Sends}, {"Opens", m.Opens}, {"Clicks", m.Clicks}, {"Bounces", m.Bounces}, {"Unsubscribes", m.Unsubscribes}, {"Complaints", m.Complaints}} {
		if f, err := checkCount(c.f, c.v); err != nil {
			return f, err
		}
	}
	return "", nil
}

func (c *Conversion) check() (at int64, field string, err error) {
	if c.Order == "" {
		return 0, "Order", ErrMissing
	}
	if at, err = checkTime(c.Time); err != nil {
		return 0, "Time", err
	}
	if _, err := money.New(0, c.Revenue.Currency); err != nil {
		return 0, "Revenue", err
	}
	if c.Revenue.Minor < 0 {
		return 0, "Revenue", fmt.Errorf("%w: %s", ErrNegative, c.Revenue)
	}
	return at, "", nil
}

// cmpCustomerTime is the stream order.
func cmpCustomerTime(c1 string, t1 int64, c2 string, t2 int64) int {
	if c := strings.Compare(c1, c2); c != 0 {
		return c
	}
	return cmp.Compare(t1, t2)
}
