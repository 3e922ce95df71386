package attribution

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
)

// Model is an attribution model: how a conversion's credit is shared among
// the credit-eligible touchpoints of its journey (clicks and direct visits
// within the lookback window, up to and including the conversion's time).
type Model uint8

// The models. The zero value is Shopify's default, last non-direct click.
const (
	// LastNonDirectClick gives all credit to the last click that is not a
	// direct visit; a journey of direct visits only goes to the last of
	// them, as Shopify credits it to Direct.
	LastNonDirectClick Model = iota
	// LastClick gives all credit to the last eligible touchpoint, direct
	// visits included.
	LastClick
	// FirstClick gives all credit to the first eligible touchpoint in the
	// window, direct visits included.
	FirstClick
	// Linear shares credit equally among all eligible touchpoints.
	Linear
	// AnyClick is Shopify's "any click": full credit and full revenue to
	// every node (channel, campaign, ad group, ad) with an eligible
	// touchpoint, once per conversion, so totals over nodes can exceed the
	// orders placed. It is the one model whose credits do not sum to 1.
	AnyClick
	// TimeDecay weighs each eligible touchpoint by 2^(-age/HalfLife), age
	// measured back from the conversion (Google Ads' definition, half-life
	// 7 days by default).
	TimeDecay
	// PositionBased gives 40% to the first and 40% to the last eligible
	// touchpoint and shares 20% equally among those between; with two
	// touchpoints each gets half, with one it gets all.
	PositionBased
)

// String returns the model's snake_case name, such as "time_decay".
func (m Model) String() string {
	switch m {
	case LastNonDirectClick:
		return "last_non_direct_click"
	case LastClick:
		return "last_click"
	case FirstClick:
		return "first_click"
	case Linear:
		return "linear"
	case AnyClick:
		return "any_click"
	case TimeDecay:
		return "time_decay"
	case PositionBased:
		return "position_based"
	}
	return fmt.Sprintf("Model(%d)", uint8(m))
}

// ParseModel is the inverse of [Model.String].
func ParseModel(s string) (Model, error) {
	for m := LastNonDirectClick; m <= PositionBased; m++ {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("attribution: unknown model %q", s)
}

// Sums reports whether a conversion's credits under m add up to one whole
// conversion (every model but [AnyClick]).
func (m Model) Sums() bool { return m != AnyClick }

// Defaults applied when a [Config] field is zero.
const (
	DefaultLookback = 30 * 24 * time.Hour
	DefaultHalfLife = 7 * 24 * time.Hour

	maxLookback = 200 * 366 * 24 * time.Hour
)

// Config chooses the model and the shop's settings. The zero value is
// usable: last non-direct click, 30-day lookback, days in UTC, no period
// bounds. Its methods only read it, so one Config may serve concurrent
// rollups.
type Config struct {
	Model Model
	// Lookback is how far before a conversion touchpoints still count
	// (inclusive). Zero means DefaultLookback.
	Lookback time.Duration
	// HalfLife is the time-decay half-life. Zero means DefaultHalfLife.
	HalfLife time.Duration
	// Location is the shop's time zone: it decides which day an instant
	// falls on and the UTC offset of engagement rows. Nil means UTC; use
	// time.FixedZone for a plain offset.
	Location *time.Location
	// From and To, when non-zero, bound the reported period (inclusive).
	// Touchpoints before From still count toward the journeys of
	// conversions inside the period; conversions and activity outside it
	// are not reported.
	From, To calendar.Date
}

// settings is a checked Config with defaults filled in.
type settings struct {
	model    Model
	lookback int64 // nanoseconds
	halfLife float64
	loc      *time.Location
	from, to calendar.Date
}

func (c Config) settings() (settings, error) {
	s := settings{model: c.Model, lookback: int64(c.Lookback), halfLife: float64(c.HalfLife), loc: c.Location, from: c.From, to: c.To}
	if c.Model > PositionBased {
		return s, &ConfigError{Field: "Model", Reason: fmt.Sprintf("unknown model %d", c.Model)}
	}
	switch {
	case c.Lookback < 0:
		return s, &ConfigError{Field: "Lookback", Reason: "negative"}
	case c.Lookback == 0:
		s.lookback = int64(DefaultLookback)
	case c.Lookback > maxLookback:
		// Longer than any supported span of time; capping keeps instant
		// arithmetic inside int64.
		s.lookback = int64(maxLookback)
	}
	switch {
	case c.HalfLife < 0:
		return s, &ConfigError{Field: "HalfLife", Reason: "negative"}
	case c.HalfLife == 0:
		s.halfLife = float64(DefaultHalfLife)
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	for _, f := range [...]struct {
		name string
		d    calendar.Date
	}{{"From", c.From}, {"To", c.To}} {
		if f.d != 0 && !f.d.Valid() {
			return s, &ConfigError{Field: f.name, Reason: fmt.Sprintf("day %d is not a calendar date", int32(f.d))}
		}
	}
	if s.to == 0 {
		s.to = math.MaxInt32
	} else if c.From > c.To {
		return s, &ConfigError{Field: "To", Reason: fmt.Sprintf("%s is before From %s", c.To, c.From)}
	}
	if s.from == 0 {
		s.from = math.MinInt32
	}
	return s, nil
}

func (s *settings) inPeriod(d calendar.Date) bool { return d >= s.from && d <= s.to }

// Credit is an amount of conversion credit in millionths of a conversion:
// [One] is one whole conversion. Conversions are split with the same
// largest-remainder rule as revenue, so a conversion's credits add up to
// exactly One and sums never drift, whatever the order of addition.
type Credit int64

// One is the credit of one whole conversion.
const One Credit = 1_000_000

// Float returns c in conversions.
func (c Credit) Float() float64 { return float64(c) / float64(One) }

// String formats c in conversions with up to six decimals and no trailing
// zeros: "1", "0.5", "0.333333".
func (c Credit) String() string {
	neg := c < 0
	u := uint64(c)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u/uint64(One), 10)
	if f := u % uint64(One); f != 0 {
		frac := strconv.FormatUint(f+uint64(One), 10)[1:] // zero-padded to 6
		for frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
		s += "." + frac
	}
	if neg {
		s = "-" + s
	}
	return s
}

// MarshalJSON encodes c as a decimal string, the form of GraphQL's Decimal
// scalar (Shopify's orders, firstTimeCustomers, returningCustomers).
func (c Credit) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// Part is one key's share of a conversion.
type Part struct {
	Key     Key
	Credit  Credit
	Revenue money.Amount
}

// Attribute splits one conversion over a customer's touchpoints with the
// configured model. journey may be in any order and may hold touchpoints
// of any action and time: only eligible ones within the lookback window and
// not after the conversion count. Parts come one per key, in the order of
// each key's first eligible touchpoint; ties at the same instant are broken
// by key, and exact repeats count once, as in [Config.Rollup]. The result
// is nil when nothing is eligible or the conversion has no customer (it is
// unattributed). Touchpoints of another customer are an error.
func (c Config) Attribute(conv Conversion, journey []Touchpoint) ([]Part, error) {
	s, err := c.settings()
	if err != nil {
		return nil, err
	}
	at, field, err := conv.check()
	if err != nil {
		return nil, &InputError{Input: "conversion", Field: field, Err: err, Detail: "order " + strconv.Quote(conv.Order)}
	}
	if conv.Customer == "" {
		return nil, nil
	}
	cands := make([]touchID, 0, len(journey))
	for i := range journey {
		tp := &journey[i]
		if tp.Customer != conv.Customer {
			return nil, &InputError{Input: "touchpoint", Index: int64(i), Field: "Customer", Err: ErrInvalid,
				Detail: fmt.Sprintf("%q in the journey of %q", tp.Customer, conv.Customer)}
		}
		tat, k, field, err := checkTouchpoint(tp)
		if err != nil {
			return nil, &InputError{Input: "touchpoint", Index: int64(i), Field: field, Err: err}
		}
		if tp.Action.Eligible() && tat <= at && tat >= at-s.lookback {
			cands = append(cands, touchID{tat, tp.Action, k, tp.UTM})
		}
	}
	// Time, then key order, as the rollup keeps journeys; sorting on every
	// field also puts exact repeats side by side, to count them once. The
	// sort moves indexes, not the pointer-laden records.
	order := make([]int32, len(cands))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &cands[i], &cands[j]
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		if c := a.key.compare(b.key); c != 0 {
			return c
		}
		if a.action != b.action {
			return cmp.Compare(a.action, b.action)
		}
		if c := strings.Compare(a.utm.Source, b.utm.Source); c != 0 {
			return c
		}
		if c := strings.Compare(a.utm.Medium, b.utm.Medium); c != 0 {
			return c
		}
		return strings.Compare(a.utm.Campaign, b.utm.Campaign)
	})
	var keys []Key
	var ids map[Key]int // once there are many keys
	touches := make([]touch, 0, len(cands))
	for i, o := range order {
		c := &cands[o]
		if i > 0 && *c == cands[order[i-1]] {
			continue
		}
		var id int
		switch {
		case ids != nil:
			var ok bool
			if id, ok = ids[c.key]; !ok {
				id = -1
			}
		default:
			id = slices.Index(keys, c.key)
		}
		if id < 0 {
			id = len(keys)
			keys = append(keys, c.key)
			if ids != nil {
				ids[c.key] = id
			} else if len(keys) > 16 {
				ids = make(map[Key]int, 2*len(keys))
				for j, k := range keys {
					ids[k] = j
				}
			}
		}
		touches = append(touches, touch{at: c.at, leaf: int32(id), direct: c.action == DirectVisit})
	}
	var sp splitter
	leaves, credits, revs, err := sp.split(&s, touches, conv.Revenue)
	if err != nil || len(leaves) == 0 {
		return nil, err
	}
	parts := make([]Part, len(leaves))
	for i, l := range leaves {
		parts[i] = Part{Key: keys[l], Credit: credits[i], Revenue: revs[i]}
	}
	return parts, nil
}

// checkTouchpoint validates tp and returns its time and effective key.
func checkTouchpoint(tp *Touchpoint) (at int64, k Key, field string, err error) {
	if !tp.Action.Valid() {
		return 0, k, "Action", fmt.Errorf("%w: %d", ErrInvalid, tp.Action)
	}
	if at, err = checkTime(tp.Time); err != nil {
		return 0, k, "Time", err
	}
	k = tp.key()
	if f, err := k.check(); err != nil {
		return 0, k, "Key." + f, err
	}
	return at, k, "", nil
}

// touchID identifies a touchpoint of one customer, for dropping repeats.
type touchID struct {
	at     int64
	action Action
	key    Key
	utm    UTM
}

// touch is an eligible touchpoint in a journey: its instant, its key as an
// index, and whether it was a direct visit.
type touch struct {
	at     int64
	leaf   int32
	direct bool
}

// splitter turns a journey into per-key credits and revenue. It keeps its
// buffers between conversions so the rollup does not allocate per order.
type splitter struct {
	w       []float64      // per touch
	leaves  []int32        // distinct keys, first appearance order
	lw      []float64      // per distinct key
	credits []money.Amount // micro-credits, as amounts for AllocateInto
	cred    []Credit
	revs    []money.Amount
	index   map[int32]int // leaf → position in leaves, for long journeys
}

// split returns, for touches sorted by (time, key), the distinct keys
// credited and each one's credit and revenue. The slices are reused by the
// next call.
func (sp *splitter) split(s *settings, touches []touch, revenue money.Amount) (leaves []int32, credits []Credit, revs []money.Amount, err error) {
	n := len(touches)
	if n == 0 {
		return nil, nil, nil, nil
	}
	sp.w = slices.Grow(sp.w[:0], n)[:n]
	clear(sp.w)
	w := sp.w
	switch s.model {
	case LastClick:
		w[n-1] = 1
	case FirstClick:
		w[0] = 1
	case LastNonDirectClick:
		i := n - 1
		for j := n - 1; j >= 0; j-- {
			if !touches[j].direct {
				i = j
				break
			}
		}
		w[i] = 1
	case Linear, AnyClick:
		for i := range w {
			w[i] = 1
		}
	case TimeDecay:
		// Relative to the newest touch, so the largest weight is 1 and a
		// short half-life cannot underflow every weight to zero.
		last := touches[n-1].at
		for i, t := range touches {
			w[i] = math.Exp2(-float64(last-t.at) / s.halfLife)
		}
	case PositionBased:
		switch n {
		case 1:
			w[0] = 1
		case 2:
			w[0], w[1] = 1, 1
		default:
			// 40/20/40 in whole numbers: ends 2(n-2) each, middles 1 each,
			// total 5(n-2).
			for i := range w {
				w[i] = 1
			}
			w[0], w[n-1] = float64(2*(n-2)), float64(2*(n-2))
		}
	}
	sp.merge(touches)
	k := len(sp.leaves)
	if k == 0 {
		return nil, nil, nil, nil
	}
	sp.credits = slices.Grow(sp.credits[:0], k)[:k]
	sp.revs = slices.Grow(sp.revs[:0], k)[:k]
	if s.model == AnyClick {
		for i := range k {
			sp.credits[i] = money.Amount{Minor: int64(One)}
			sp.revs[i] = revenue
		}
	} else {
		// The credit is split by money's largest-remainder rule too, so
		// credits and revenue follow the same weights and tie-breaking.
		if err := (money.Amount{Minor: int64(One)}).AllocateInto(sp.credits, sp.lw); err != nil {
			return nil, nil, nil, err
		}
		if err := revenue.AllocateInto(sp.revs, sp.lw); err != nil {
			return nil, nil, nil, err
		}
	}
	sp.cred = slices.Grow(sp.cred[:0], k)[:k]
	for i, a := range sp.credits {
		sp.cred[i] = Credit(a.Minor)
	}
	return sp.leaves, sp.cred, sp.revs, nil
}

// merge sums the weights of touches per key, dropping zero weights.
func (sp *splitter) merge(touches []touch) {
	sp.leaves, sp.lw = sp.leaves[:0], sp.lw[:0]
	long := len(touches) > 32
	if long {
		if sp.index == nil {
			sp.index = make(map[int32]int)
		}
		clear(sp.index)
	}
	for i, t := range touches {
		w := sp.w[i]
		if w == 0 {
			continue
		}
		var j int
		if long {
			var ok bool
			if j, ok = sp.index[t.leaf]; !ok {
				j = -1
			}
		} else {
			j = slices.Index(sp.leaves, t.leaf)
		}
		if j < 0 {
			if long {
				sp.index[t.leaf] = len(sp.leaves)
			}
			sp.leaves = append(sp.leaves, t.leaf)
			sp.lw = append(sp.lw, w)
			continue
		}
		sp.lw[j] += w
	}
}
