package attribution

import (
	"fmt"
	"math"
	"slices"

	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
)

// Engagement is one day of one marketing activity or channel, shaped for
// Shopify's MarketingEngagementInput (Admin API 2025-01): the JSON encoding
// of an Engagement is that input, field for field, and RemoteID or
// ChannelHandle is the marketingEngagementCreate argument that says where
// it goes. It is plain data; shopify.MarketingService.SendEngagements
// sends it, keeping any day from being sent twice.
//
// Rows are daily and non-cumulative (isCumulative false, which Shopify
// prefers). Email and SMS counts map as Shopify defines them for message
// platforms: impressions = delivered (sends − bounces), views = opens,
// fails = bounces, complaints = marked as spam. A row that mixes ad and
// message data adds ad impressions to delivered messages, and ad clicks to
// message clicks.
type Engagement struct {
	// RemoteID is set for activity-level rows (campaign, ad group, ad),
	// ChannelHandle for channel-level rows; never both.
	RemoteID      string `json:"-"`
	ChannelHandle string `json:"-"`
	Level         Level  `json:"-"`
	Key           Key    `json:"-"`

	OccurredOn        calendar.Date `json:"occurredOn"`
	UTCOffset         string        `json:"utcOffset"`
	IsCumulative      bool          `json:"isCumulative"`
	ImpressionsCount  int64         `json:"impressionsCount"`
	ViewsCount        int64         `json:"viewsCount"`
	ClicksCount       int64         `json:"clicksCount"`
	SendsCount        int64         `json:"sendsCount"`
	FailsCount        int64         `json:"failsCount"`
	UnsubscribesCount int64         `json:"unsubscribesCount"`
	ComplaintsCount   int64         `json:"complaintsCount"`
	// AdSpend is nil when nothing was spent (email and SMS, typically).
	AdSpend *money.Amount `json:"adSpend,omitempty"`
	// Sales is attributed revenue, nil when there is none or when
	// conversions are omitted; Orders, FirstTimeCustomers and
	// ReturningCustomers are attributed conversions (Decimal strings).
	Sales              *money.Amount `json:"sales,omitempty"`
	Orders             *Credit       `json:"orders,omitempty"`
	FirstTimeCustomers *Credit       `json:"firstTimeCustomers,omitempty"`
	ReturningCustomers *Credit       `json:"returningCustomers,omitempty"`
}

// EngagementOptions chooses which rows become engagements and how they are
// addressed.
type EngagementOptions struct {
	// Levels to emit; nil means channel, campaign, ad group and ad.
	// Whether to send every level or only the leaves is the app's choice;
	// each row holds the complete sums of its own node.
	Levels []Level
	// RemoteID maps a campaign, ad group or ad row to the remoteId of its
	// Shopify marketing activity; returning false skips the row. Nil uses
	// the key's own field at that level (Campaign for a campaign row, and
	// so on), for apps that create activities with the platform's ids.
	RemoteID func(level Level, key Key) (string, bool)
	// ChannelHandle maps a channel to its Shopify channel handle; returning
	// false skips the row. Nil uses the channel itself and skips [Direct],
	// which is no app's channel.
	ChannelHandle func(channel string) (string, bool)
	// OmitConversions leaves out sales, orders, first-time and returning
	// customers, for apps that report spend and engagement only.
	OmitConversions bool
}

// Engagements turns daily rows ([Result.Daily]) into engagement inputs, in
// row order, skipping total rows and levels not asked for. The UTC offset of
// each day is the one in effect in Config.Location at the start of that day,
// so use the Config that produced the rows.
//
// A row spanning more than one day, a count beyond GraphQL's 32-bit Int, or
// spend or revenue in more than one currency (one MoneyInput cannot hold
// two) is an [*InputError] naming the row and the Shopify field.
func (c Config) Engagements(rows []Row, opts EngagementOptions) ([]Engagement, error) {
	s, err := c.settings()
	if err != nil {
		return nil, err
	}
	levels := opts.Levels
	if levels == nil {
		levels = []Level{ChannelLevel, CampaignLevel, AdGroupLevel, AdLevel}
	}
	for _, l := range levels {
		if l < ChannelLevel || l > AdLevel {
			return nil, &ConfigError{Field: "EngagementOptions.Levels", Reason: fmt.Sprintf("%v has no Shopify counterpart", l)}
		}
	}
	remoteID := opts.RemoteID
	if remoteID == nil {
		remoteID = defaultRemoteID
	}
	handle := opts.ChannelHandle
	if handle == nil {
		handle = func(ch string) (string, bool) { return ch, ch != Direct }
	}
	offsets := make(map[calendar.Date]string)
	var out []Engagement
	for i := range rows {
		r := &rows[i]
		if !slices.Contains(levels, r.Level) {
			continue
		}
		fail := func(field string, err error, detail string) error {
			return &InputError{Input: "row", Index: int64(i), Field: field, Err: err, Detail: detail}
		}
		if r.From != r.To {
			return nil, fail("To", ErrInvalid, fmt.Sprintf("row spans %s..%s; engagements are daily", r.From, r.To))
		}
		g := Engagement{Level: r.Level, Key: r.Key, OccurredOn: r.From}
		var ok bool
		if r.Level == ChannelLevel {
			g.ChannelHandle, ok = handle(r.Key.Channel)
		} else {
			g.RemoteID, ok = remoteID(r.Level, r.Key)
		}
		if !ok {
			continue
		}
		if g.ChannelHandle == "" && g.RemoteID == "" {
			return nil, fail("remoteId", ErrMissing, "no remote id or channel handle for "+r.Key.String())
		}
		off, seen := offsets[r.From]
		if !seen {
			off = utcOffset(r.From, s.loc)
			offsets[r.From] = off
		}
		g.UTCOffset = off
		counts := [...]struct {
			field string
			dst   *int64
			v     int64
		}{
			{"impressionsCount", &g.ImpressionsCount, r.Impressions + r.Delivered()},
			{"viewsCount", &g.ViewsCount, r.Opens},
			{"clicksCount", &g.ClicksCount, r.Clicks + r.MessageClicks},
			{"sendsCount", &g.SendsCount, r.Sends},
			{"failsCount", &g.FailsCount, r.Bounces},
			{"unsubscribesCount", &g.UnsubscribesCount, r.Unsubscribes},
			{"complaintsCount", &g.ComplaintsCount, r.Complaints},
		}
		for _, f := range counts {
			// The sums above add at most two int64 counts that each fit
			// in 32 bits when the result does; a wrapped sum is negative.
			if f.v < 0 || f.v > math.MaxInt32 {
				return nil, fail(f.field, ErrOverflow, "exceeds GraphQL Int")
			}
			*f.dst = f.v
		}
		if g.AdSpend, err = single(r.Spend); err != nil {
			return nil, fail("adSpend", err, "")
		}
		if !opts.OmitConversions {
			if g.Sales, err = single(r.Revenue); err != nil {
				return nil, fail("sales", err, "")
			}
			conv, first, ret := r.Conversions, r.FirstTime, r.Returning
			g.Orders, g.FirstTimeCustomers, g.ReturningCustomers = &conv, &first, &ret
		}
		out = append(out, g)
	}
	return out, nil
}

func defaultRemoteID(l Level, k Key) (string, bool) {
	switch l {
	case CampaignLevel:
		return k.Campaign, true
	case AdGroupLevel:
		return k.AdGroup, true
	case AdLevel:
		return k.Ad, true
	}
	return "", false
}

// single returns the one amount of t, nil when t is empty, or a
// *money.CurrencyMismatchError when t holds several currencies.
func single(t money.Totals) (*money.Amount, error) {
	switch as := t.Amounts(); len(as) {
	case 0:
		return nil, nil
	case 1:
		return &as[0], nil
	default:
		return nil, &money.CurrencyMismatchError{Op: "add", Left: as[0].Currency, Right: as[1].Currency}
	}
}
