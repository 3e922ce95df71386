package attribution

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"

	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/money"
)

// Input holds the streams a rollup reads. Each stream is read once, in a
// single pass; a nil stream is empty. Touchpoints and Conversions must be
// sorted by customer, then time (see [Touchpoint]); Spend and Messages may
// come in any order.
//
// Memory follows the number of distinct (key, day) pairs seen, plus one
// customer's touchpoints within the lookback window and one customer's
// order ids (guest orders, which have no customer, count as one
// customer's): never the number of touchpoints or customers.
//
// Streams cannot report their own errors; a caller reading from a database
// can stop yielding, keep the error and check it after [Config.Rollup].
type Input struct {
	Touchpoints iter.Seq[Touchpoint]
	Conversions iter.Seq[Conversion]
	Spend       iter.Seq[Spend]
	Messages    iter.Seq[Messages]
}

// Measures are the additive sums of a rollup row. Every level's sums are
// built from the same leaf data, so a parent always equals the sum of its
// children for the summing models; under [AnyClick] a parent counts each
// conversion once, however many of its children were clicked.
type Measures struct {
	Impressions   int64        // ad impressions
	Clicks        int64        // ad clicks
	Spend         money.Totals // ad spend, per currency
	Sends         int64        // emails and SMS sent
	Opens         int64        // emails opened
	MessageClicks int64        // email and SMS clicks
	Bounces       int64        // emails and SMS that failed (hard and soft bounces)
	Unsubscribes  int64
	Complaints    int64        // marked as spam
	Conversions   Credit       // attributed conversions
	FirstTime     Credit       // of which first orders
	Returning     Credit       // of which returning customers' orders
	Revenue       money.Totals // attributed revenue, per currency
}

// Row is one node of the hierarchy over a span of days: one day for
// [Result.Daily], the whole period for [Result.Period]. Key holds the
// fields down to Level and nothing deeper ([Key.At]).
type Row struct {
	Level    Level
	Key      Key
	From, To calendar.Date
	Measures
}

// Result is a rollup.
type Result struct {
	Model    Model
	From, To calendar.Date // the period: Config.From/To, else the first and last day with data (zero for none)

	// Daily holds one row per (level, key, day) with data, sorted by
	// level, key (field by field) and day. Period holds one row per
	// (level, key) over From..To, in the same order. Both start with the
	// [TotalLevel] rows.
	Daily  []Row
	Period []Row

	Unattributed Unattributed
	Stats        Stats
}

// Unattributed counts conversions in the period that no touchpoint earned:
// no credit-eligible touchpoint in the lookback window, or no customer to
// join on. Their revenue is in no row.
type Unattributed struct {
	Conversions int64
	NoCustomer  int64 // of Conversions, those without a customer
	Revenue     money.Totals
}

// Stats says what a rollup read and what it set aside, so that no input
// vanishes silently.
type Stats struct {
	Touchpoints int64 // touchpoints read
	Conversions int64 // conversions read
	SpendRows   int64 // spend rows read
	MessageRows int64 // message rows read
	Attributed  int64 // conversions in the period that earned credit

	// Duplicates counts exact repeats that were dropped: a touchpoint of
	// the same customer, instant, action, key and UTM as an earlier one
	// (anonymous touchpoints are never repeats: they may be different
	// people), an
	// order id repeated with the same content for the same customer, or a
	// spend or message row repeated for the same key and day.
	Duplicates int64
	// OutsidePeriod counts touchpoints, conversions and rows whose day is
	// outside Config.From..To; touchpoints among them still count toward
	// journeys.
	OutsidePeriod int64
	// Superseded counts touchpoint events (impressions, clicks, sends,
	// opens, bounces) left out of the counts because their channel
	// reported spend or message rows for that day.
	Superseded int64
}

// Rollup attributes every conversion with the configured model and sums
// touchpoints, conversions, spend and message rows per level, key and day.
//
// It stops at the first bad input and returns an [*InputError] naming it:
// streams out of order, a missing or invalid field, a negative count or
// amount, an unknown currency, conflicting duplicates. Mixed currencies are
// not an error: money sums are kept per currency and never converted.
func (c Config) Rollup(in Input) (*Result, error) {
	s, err := c.settings()
	if err != nil {
		return nil, err
	}
	e := newEngine(s)
	if err := e.spend(in.Spend); err != nil {
		return nil, err
	}
	if err := e.messages(in.Messages); err != nil {
		return nil, err
	}
	if err := e.journeys(in.Touchpoints, in.Conversions); err != nil {
		return nil, err
	}
	return e.finish()
}

type engine struct {
	s    settings
	days dayCache

	leafIDs map[string]int32 // by encoded key (see leafOf)
	leafBuf []byte
	leaves  []Key
	spans   []span           // per leaf: a dense index of its cells by day
	cellIDs map[uint64]int32 // by leaf index and day: every cell
	cells   []cell
	counts  [][nCounts]int64 // per cell, counted from touchpoints; apart from cells to stay in cache

	spendDays map[chanDay]struct{}
	msgDays   map[chanDay]struct{}
	anyClick  map[nodeKey]*convSums // AnyClick credits, per node directly

	res Result

	// The current customer's journey: eligible touches, journey[start:]
	// live, sorted by (time, key).
	cust    string
	journey []touch
	start   int
	// The current customer's touchpoints at the current instant, to drop
	// exact repeats; UTMs are kept apart so the records hold no pointers,
	// and a set takes over when the group grows large.
	inst    []seen
	instUTM []UTM
	instSet map[instKey]struct{}
	// The current conversion customer's orders, for duplicate checks;
	// indexed by id once there are many (guest orders share one customer).
	orderCust string
	orders    []order
	orderIdx  map[string]int

	sp    splitter
	nodes []nodeKey // scratch for AnyClick
}

// cell holds the raw data of one leaf key on one day, kept apart by source
// so that rows can take precedence over touchpoint counts at the end. It
// stays small because every touchpoint lands on one.
type cell struct {
	leaf int32
	day  calendar.Date
	conv convSums
	rows *rows // spend and message rows, when any
}

// Indexes of engine.counts.
const (
	nImpr = iota
	nClicks
	nSends
	nOpens
	nMClicks
	nBounces
	nCounts
)

// slot returns the engine.counts index a touchpoint with action k counts in, or -1
// for direct visits, which are only credited.
func slot(k Action) int {
	switch k {
	case AdImpression:
		return nImpr
	case AdClick:
		return nClicks
	case EmailSent, SMSSent, MessageSent:
		return nSends
	case EmailOpened, MessageOpened:
		return nOpens
	case EmailClicked, SMSClicked, MessageClicked:
		return nMClicks
	case EmailBounced, MessageBounced:
		return nBounces
	}
	return -1
}

// rows is what spend and message rows said about a cell.
type rows struct {
	spend        bool
	amount       money.Amount
	impr, clicks int64
	msg          bool
	m            [6]int64 // sends, opens, clicks, bounces, unsubscribes, complaints
}

type convSums struct {
	conv, first, ret Credit
	rev              amounts
}

// amounts sums money per currency. Nearly every cell sees a single
// currency, so the first one is kept inline and a money.Totals is made
// only for others.
type amounts struct {
	one  money.Amount
	more *money.Totals
}

func (s *amounts) add(a money.Amount) error {
	switch {
	case s.one.Currency == "":
		s.one = a
	case s.one.Currency == a.Currency:
		v, err := s.one.Add(a)
		if err != nil {
			return err
		}
		s.one = v
	default:
		if s.more == nil {
			s.more = new(money.Totals)
		}
		return s.more.Add(a)
	}
	return nil
}

func (s *amounts) totals() money.Totals {
	var t money.Totals
	if s.one.Currency != "" {
		_ = t.Add(s.one) // into an empty total: cannot fail
	}
	if s.more != nil {
		_ = t.AddTotals(*s.more) // currencies other than s.one's: no sum, no overflow
	}
	return t
}

type chanDay struct {
	channel string
	day     calendar.Date
}

type nodeKey struct {
	level Level
	key   Key
	day   calendar.Date
}

func newEngine(s settings) *engine {
	return &engine{
		s:         s,
		days:      newDayCache(s.loc),
		leafIDs:   make(map[string]int32),
		cellIDs:   make(map[uint64]int32),
		spendDays: make(map[chanDay]struct{}),
		msgDays:   make(map[chanDay]struct{}),
		anyClick:  make(map[nodeKey]*convSums),
		res:       Result{Model: s.model},
	}
}

// leafOf returns the index of a key. Every touchpoint needs one, so the
// key is encoded into one length-prefixed string: a map keyed by it hashes
// a single string, where a map keyed by Key hashes four, and the lookup
// with a converted byte slice does not allocate.
func (e *engine) leafOf(k Key) int32 {
	b := e.leafBuf[:0]
	for _, f := range [...]string{k.Channel, k.Campaign, k.AdGroup, k.Ad} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	e.leafBuf = b
	id, ok := e.leafIDs[string(b)]
	if !ok {
		id = int32(len(e.leaves))
		e.leaves = append(e.leaves, k)
		e.spans = append(e.spans, span{})
		e.leafIDs[string(b)] = id
	}
	return id
}

// span indexes a leaf's cells by day, for days from first on: cell index
// plus one, or 0 for none. Most leaves are active on most days of a
// period, and a slice index is far cheaper than a map lookup for every
// touchpoint. A span never grows beyond four days per cell of its leaf
// (plus a little), so sparse leaves cost little; days outside it are found
// in the map.
type span struct {
	first calendar.Date
	cells []int32
	n     int // cells of the leaf
}

// cellOf returns the cell of a leaf on a day. The pointer is valid until
// a cell is added.
func (e *engine) cellOf(id int32, d calendar.Date) *cell { return &e.cells[e.cellIndex(id, d)] }

// cellIndex returns the index of the cell of a leaf on a day, adding it if
// needed.
func (e *engine) cellIndex(id int32, d calendar.Date) int32 {
	sp := &e.spans[id]
	if i := int64(d) - int64(sp.first); i >= 0 && i < int64(len(sp.cells)) && sp.cells[i] != 0 {
		return sp.cells[i] - 1
	}
	k := uint64(uint32(id))<<32 | uint64(uint32(d))
	ci, ok := e.cellIDs[k]
	if !ok {
		ci = int32(len(e.cells))
		e.cells = append(e.cells, cell{leaf: id, day: d})
		e.counts = append(e.counts, [nCounts]int64{})
		e.cellIDs[k] = ci
		sp.n++
	}
	sp.put(d, ci)
	return ci
}

// put records cell ci for day d if the span can cover d within its limit.
func (sp *span) put(d calendar.Date, ci int32) {
	if len(sp.cells) == 0 {
		sp.first, sp.cells = d, append(sp.cells[:0], ci+1)
		return
	}
	lo, hi := min(int64(sp.first), int64(d)), max(int64(sp.first)+int64(len(sp.cells)), int64(d)+1)
	if hi-lo > 4*int64(sp.n)+8 {
		return
	}
	if lo < int64(sp.first) {
		grown := make([]int32, hi-lo, (hi-lo)*5/4+1)
		copy(grown[int64(sp.first)-lo:], sp.cells)
		sp.first, sp.cells = calendar.Date(lo), grown
	} else if hi > int64(sp.first)+int64(len(sp.cells)) {
		sp.cells = append(sp.cells, make([]int32, hi-int64(sp.first)-int64(len(sp.cells)))...)
	}
	sp.cells[int64(d)-int64(sp.first)] = ci + 1
}

func (e *engine) spend(seq iter.Seq[Spend]) error {
	if seq == nil {
		return nil
	}
	var i int64 = -1
	for r := range seq {
		i++
		e.res.Stats.SpendRows++
		if f, err := r.check(); err != nil {
			return &InputError{Input: "spend", Index: i, Field: f, Err: err}
		}
		if !e.s.inPeriod(r.Day) {
			e.res.Stats.OutsidePeriod++
			continue
		}
		c := e.cellOf(e.leafOf(r.Key), r.Day)
		if c.rows == nil {
			c.rows = new(rows)
		}
		w := c.rows
		if w.spend {
			if w.amount == r.Amount && w.impr == r.Impressions && w.clicks == r.Clicks {
				e.res.Stats.Duplicates++
				continue
			}
			return &InputError{Input: "spend", Index: i, Field: "Key", Err: ErrDuplicate,
				Detail: fmt.Sprintf("a different row for %s on %s came first", r.Key, r.Day)}
		}
		w.spend, w.amount, w.impr, w.clicks = true, r.Amount, r.Impressions, r.Clicks
		e.spendDays[chanDay{r.Key.Channel, r.Day}] = struct{}{}
	}
	return nil
}

func (e *engine) messages(seq iter.Seq[Messages]) error {
	if seq == nil {
		return nil
	}
	var i int64 = -1
	for r := range seq {
		i++
		e.res.Stats.MessageRows++
		if f, err := r.check(); err != nil {
			return &InputError{Input: "messages", Index: i, Field: f, Err: err}
		}
		if !e.s.inPeriod(r.Day) {
			e.res.Stats.OutsidePeriod++
			continue
		}
		c := e.cellOf(e.leafOf(r.Key), r.Day)
		if c.rows == nil {
			c.rows = new(rows)
		}
		row := [6]int64{r.Sends, r.Opens, r.Clicks, r.Bounces, r.Unsubscribes, r.Complaints}
		if c.rows.msg {
			if row == c.rows.m {
				e.res.Stats.Duplicates++
				continue
			}
			return &InputError{Input: "messages", Index: i, Field: "Key", Err: ErrDuplicate,
				Detail: fmt.Sprintf("a different row for %s on %s came first", r.Key, r.Day)}
		}
		c.rows.msg, c.rows.m = true, row
		e.msgDays[chanDay{r.Key.Channel, r.Day}] = struct{}{}
	}
	return nil
}

// pending is the next conversion, read ahead of the touchpoints.
type pending struct {
	next  func() (Conversion, bool)
	conv  Conversion
	at    int64
	ok    bool
	index int64
	err   error
}

func (p *pending) advance(e *engine) {
	if p.next == nil {
		p.ok = false
		return
	}
	prev, prevAt, had := p.conv.Customer, p.at, p.index >= 0
	p.conv, p.ok = p.next()
	if !p.ok {
		return
	}
	p.index++
	e.res.Stats.Conversions++
	at, field, err := p.conv.check()
	if err != nil {
		p.fail(&InputError{Input: "conversion", Index: p.index, Field: field, Err: err, Detail: "order " + strconv.Quote(p.conv.Order)})
		return
	}
	p.at = at
	if had && cmpCustomerTime(prev, prevAt, p.conv.Customer, at) > 0 {
		field := "Customer"
		if prev == p.conv.Customer {
			field = "Time"
		}
		p.fail(&InputError{Input: "conversion", Index: p.index, Field: field, Err: ErrOutOfOrder,
			Detail: fmt.Sprintf("order %q (customer %q) after customer %q", p.conv.Order, p.conv.Customer, prev)})
	}
}

func (p *pending) fail(err error) { p.err, p.ok = err, false }

// journeys reads touchpoints and conversions together, as one sorted
// stream: a conversion is taken once every touchpoint before or at its
// instant has been read, so the journey it sees is exactly its past.
func (e *engine) journeys(tps iter.Seq[Touchpoint], convs iter.Seq[Conversion]) error {
	p := pending{index: -1}
	if convs != nil {
		next, stop := iter.Pull(convs)
		defer stop()
		p.next = next
	}
	p.advance(e)
	if tps != nil {
		var i int64 = -1
		var prevAt int64
		for tp := range tps {
			i++
			e.res.Stats.Touchpoints++
			at, k, field, err := checkTouchpoint(&tp)
			if err != nil {
				return &InputError{Input: "touchpoint", Index: i, Field: field, Err: err}
			}
			same := i > 0 && tp.Customer == e.cust
			if i > 0 {
				if !same && tp.Customer < e.cust {
					return &InputError{Input: "touchpoint", Index: i, Field: "Customer", Err: ErrOutOfOrder,
						Detail: fmt.Sprintf("%q after %q", tp.Customer, e.cust)}
				}
				if same && at < prevAt {
					return &InputError{Input: "touchpoint", Index: i, Field: "Time", Err: ErrOutOfOrder,
						Detail: fmt.Sprintf("customer %q: %s before the previous touchpoint", tp.Customer, tp.Time.Format("2006-01-02T15:04:05.999999999Z07:00"))}
				}
			}
			// Conversions strictly before this touchpoint go first; one at
			// the same instant waits, so a touchpoint at the moment of the
			// order counts toward it.
			for p.ok && cmpCustomerTime(p.conv.Customer, p.at, tp.Customer, at) < 0 {
				if err := e.convert(&p); err != nil {
					return err
				}
				p.advance(e)
			}
			if p.err != nil {
				return p.err
			}
			id := e.leafOf(k)
			if !same {
				e.cust, e.journey, e.start = tp.Customer, e.journey[:0], 0
			}
			if !same || at != prevAt {
				e.newInstant()
			}
			prevAt = at
			if e.repeated(id, &tp) {
				e.res.Stats.Duplicates++
				continue
			}
			e.touch(&tp, at, id, k)
		}
	}
	for p.ok {
		if err := e.convert(&p); err != nil {
			return err
		}
		p.advance(e)
	}
	return p.err
}

// seen records a touchpoint of the current customer and instant: its key
// as a leaf index, its action, and its UTM as an index into engine.instUTM
// plus one (0 for none).
type seen struct {
	leaf   int32
	action Action
	utm    int32
}

type instKey struct {
	leaf   int32
	action Action
	utm    UTM
}

func (e *engine) newInstant() {
	e.inst, e.instUTM = e.inst[:0], e.instUTM[:0]
	if len(e.instSet) > 0 {
		clear(e.instSet)
	}
}

// repeated reports whether tp repeats a touchpoint of the same customer
// and instant (same action, key after the UTM fill-in, and UTM), and records
// it otherwise. Anonymous touchpoints are never repeats: without a
// customer, identical events may well be different people.
func (e *engine) repeated(id int32, tp *Touchpoint) bool {
	if tp.Customer == "" {
		return false
	}
	if len(e.instSet) > 0 {
		k := instKey{id, tp.Action, tp.UTM}
		if _, ok := e.instSet[k]; ok {
			return true
		}
		e.instSet[k] = struct{}{}
		return false
	}
	for _, r := range e.inst {
		if r.leaf == id && r.action == tp.Action && (r.utm == 0 && tp.UTM == (UTM{}) || r.utm > 0 && e.instUTM[r.utm-1] == tp.UTM) {
			return true
		}
	}
	if len(e.inst) == 16 {
		// A large group (a bot, or times truncated to the day): a set
		// keeps the check linear.
		if e.instSet == nil {
			e.instSet = make(map[instKey]struct{})
		}
		for _, r := range e.inst {
			k := instKey{leaf: r.leaf, action: r.action}
			if r.utm > 0 {
				k.utm = e.instUTM[r.utm-1]
			}
			e.instSet[k] = struct{}{}
		}
		e.instSet[instKey{id, tp.Action, tp.UTM}] = struct{}{}
		return false
	}
	r := seen{leaf: id, action: tp.Action}
	if tp.UTM != (UTM{}) {
		e.instUTM = append(e.instUTM, tp.UTM)
		r.utm = int32(len(e.instUTM))
	}
	e.inst = append(e.inst, r)
	return false
}

// touch counts a touchpoint and, if eligible, adds it to the journey.
func (e *engine) touch(tp *Touchpoint, at int64, id int32, k Key) {
	if n := slot(tp.Action); n >= 0 {
		d := e.days.day(floorDiv(at, 1e9))
		if e.s.inPeriod(d) {
			e.counts[e.cellIndex(id, d)][n]++
		} else {
			e.res.Stats.OutsidePeriod++
		}
	}
	if !tp.Action.Eligible() || tp.Customer == "" {
		return
	}
	// Drop what no later conversion can reach: they all come at or after
	// this instant.
	for e.start < len(e.journey) && e.journey[e.start].at < at-e.s.lookback {
		e.start++
	}
	if e.start > 64 && e.start > len(e.journey)/2 {
		n := copy(e.journey, e.journey[e.start:])
		e.journey, e.start = e.journey[:n], 0
	}
	t := touch{at: at, leaf: id, direct: tp.Action == DirectVisit}
	j := len(e.journey)
	e.journey = append(e.journey, t)
	// Same instant: keep key order, so ties never depend on input order.
	for j > e.start && e.journey[j-1].at == at && e.leaves[e.journey[j-1].leaf].compare(k) > 0 {
		e.journey[j] = e.journey[j-1]
		j--
	}
	e.journey[j] = t
}

// convert attributes the pending conversion.
func (e *engine) convert(p *pending) error {
	cv := &p.conv
	if dup, err := e.repeatedOrder(p); dup || err != nil {
		return err
	}

	d := e.days.day(floorDiv(p.at, 1e9))
	if !e.s.inPeriod(d) {
		e.res.Stats.OutsidePeriod++
		return nil
	}
	var js []touch
	if cv.Customer != "" && cv.Customer == e.cust {
		for e.start < len(e.journey) && e.journey[e.start].at < p.at-e.s.lookback {
			e.start++
		}
		js = e.journey[e.start:]
	}
	leaves, credits, revs, err := e.sp.split(&e.s, js, cv.Revenue)
	if err != nil {
		return &InputError{Input: "conversion", Index: p.index, Field: "Revenue", Err: err}
	}
	if len(leaves) == 0 {
		u := &e.res.Unattributed
		u.Conversions++
		if cv.Customer == "" {
			u.NoCustomer++
		}
		if err := u.Revenue.Add(cv.Revenue); err != nil {
			return &InputError{Input: "conversion", Index: p.index, Field: "Revenue", Err: err}
		}
		return nil
	}
	e.res.Stats.Attributed++
	if e.s.model == AnyClick {
		return e.creditNodes(p, leaves, d)
	}
	for i, id := range leaves {
		c := e.cellOf(id, d)
		if err := c.conv.add(credits[i], cv.FirstTime, revs[i]); err != nil {
			return &InputError{Input: "conversion", Index: p.index, Field: "Revenue", Err: err}
		}
	}
	return nil
}

// order is what identifies a conversion's content, for duplicate checks.
type order struct {
	id    string
	at    int64
	rev   money.Amount
	first bool
}

// repeatedOrder reports whether the pending conversion repeats an order of the
// same customer exactly (it is then counted and skipped), and returns an
// error if it repeats an order id with different content.
func (e *engine) repeatedOrder(p *pending) (bool, error) {
	cv := &p.conv
	if cv.Customer != e.orderCust || len(e.orders) == 0 {
		e.orderCust, e.orders = cv.Customer, e.orders[:0]
		if len(e.orderIdx) > 0 {
			e.orderIdx = nil // let a large group's index go
		}
	}
	o := order{id: cv.Order, at: p.at, rev: cv.Revenue, first: cv.FirstTime}
	i := -1
	if len(e.orders) > 16 {
		if j, ok := e.orderIdx[o.id]; ok {
			i = j
		}
	} else {
		i = slices.IndexFunc(e.orders, func(x order) bool { return x.id == o.id })
	}
	switch {
	case i >= 0 && e.orders[i] == o:
		e.res.Stats.Duplicates++
		return true, nil
	case i >= 0:
		return false, &InputError{Input: "conversion", Index: p.index, Field: "Order", Err: ErrDuplicate,
			Detail: fmt.Sprintf("order %q of customer %q differs from its earlier copy", cv.Order, cv.Customer)}
	}
	e.orders = append(e.orders, o)
	if n := len(e.orders); n > 16 {
		if e.orderIdx == nil {
			e.orderIdx = make(map[string]int)
		}
		if n == 17 {
			for j, x := range e.orders {
				e.orderIdx[x.id] = j
			}
		} else {
			e.orderIdx[o.id] = n - 1
		}
	}
	return false, nil
}

// creditNodes gives a whole conversion to every node above the clicked
// keys, once each: Shopify's any-click counts a channel once per order
// however many of its campaigns were clicked.
func (e *engine) creditNodes(p *pending, leaves []int32, d calendar.Date) error {
	e.nodes = e.nodes[:0]
	for _, id := range leaves {
		k := e.leaves[id]
		for l := TotalLevel; l <= AdLevel; l++ {
			nk, ok := k.At(l)
			if !ok {
				continue
			}
			n := nodeKey{level: l, key: nk, day: d}
			if !slices.Contains(e.nodes, n) {
				e.nodes = append(e.nodes, n)
			}
		}
	}
	for _, n := range e.nodes {
		s := e.anyClick[n]
		if s == nil {
			s = new(convSums)
			e.anyClick[n] = s
		}
		if err := s.add(One, p.conv.FirstTime, p.conv.Revenue); err != nil {
			return &InputError{Input: "conversion", Index: p.index, Field: "Revenue", Err: err}
		}
	}
	return nil
}

func (s *convSums) add(c Credit, first bool, rev money.Amount) error {
	s.conv += c
	if first {
		s.first += c
	} else {
		s.ret += c
	}
	return s.rev.add(rev)
}

// finish applies row precedence, sums leaves into every level and sorts.
func (e *engine) finish() (*Result, error) {
	nodes := make(map[nodeKey]*Measures)
	var sum summer
	at := func(n nodeKey) *Measures {
		m := nodes[n]
		if m == nil {
			m = new(Measures)
			nodes[n] = m
		}
		return m
	}
	for i := range e.cells {
		c := &e.cells[i]
		m := e.measures(c, &e.counts[i])
		if c.rows == nil && m.empty() {
			continue // only superseded counts: nothing to report
		}
		k := e.leaves[c.leaf]
		for l := TotalLevel; l <= AdLevel; l++ {
			if nk, ok := k.At(l); ok {
				sum.add(at(nodeKey{l, nk, c.day}), &m)
			}
		}
	}
	for n, s := range e.anyClick {
		sum.add(at(n), &Measures{Conversions: s.conv, FirstTime: s.first, Returning: s.ret, Revenue: s.rev.totals()})
	}
	if sum.err != nil {
		return nil, sum.err
	}

	r := &e.res
	r.Daily = make([]Row, 0, len(nodes))
	first, last := calendar.Date(math.MaxInt32), calendar.Date(math.MinInt32)
	for n, m := range nodes {
		r.Daily = append(r.Daily, Row{Level: n.level, Key: n.key, From: n.day, To: n.day, Measures: *m})
		first, last = min(first, n.day), max(last, n.day)
	}
	slices.SortFunc(r.Daily, func(a, b Row) int {
		if c := cmp.Compare(a.Level, b.Level); c != 0 {
			return c
		}
		if c := a.Key.compare(b.Key); c != 0 {
			return c
		}
		return cmp.Compare(a.From, b.From)
	})
	switch {
	case e.s.from != math.MinInt32:
		r.From = e.s.from
	case len(r.Daily) > 0:
		r.From = first
	}
	switch {
	case e.s.to != math.MaxInt32:
		r.To = e.s.to
	case len(r.Daily) > 0:
		r.To = last
	}
	if len(r.Daily) == 0 { // one bound and no data: a period of that day
		switch {
		case e.s.from != math.MinInt32 && e.s.to == math.MaxInt32:
			r.To = r.From
		case e.s.to != math.MaxInt32 && e.s.from == math.MinInt32:
			r.From = r.To
		}
	}
	for i := 0; i < len(r.Daily); {
		row := Row{Level: r.Daily[i].Level, Key: r.Daily[i].Key, From: r.From, To: r.To}
		for ; i < len(r.Daily) && r.Daily[i].Level == row.Level && r.Daily[i].Key == row.Key; i++ {
			sum.add(&row.Measures, &r.Daily[i].Measures)
		}
		r.Period = append(r.Period, row)
	}
	if sum.err != nil {
		return nil, sum.err
	}
	return r, nil
}

// measures returns a cell's leaf measures, taking impressions and clicks
// from spend rows, and message counts from message rows, when the channel
// reported any for that day.
func (e *engine) measures(c *cell, n *[nCounts]int64) Measures {
	cd := chanDay{e.leaves[c.leaf].Channel, c.day}
	var r rows
	if c.rows != nil {
		r = *c.rows
	}
	var m Measures
	if _, ok := e.spendDays[cd]; ok {
		m.Impressions, m.Clicks = r.impr, r.clicks
		e.res.Stats.Superseded += n[nImpr] + n[nClicks]
	} else {
		m.Impressions, m.Clicks = n[nImpr], n[nClicks]
	}
	if _, ok := e.msgDays[cd]; ok {
		m.Sends, m.Opens, m.MessageClicks, m.Bounces = r.m[0], r.m[1], r.m[2], r.m[3]
		e.res.Stats.Superseded += n[nSends] + n[nOpens] + n[nMClicks] + n[nBounces]
	} else {
		m.Sends, m.Opens, m.MessageClicks, m.Bounces = n[nSends], n[nOpens], n[nMClicks], n[nBounces]
	}
	m.Unsubscribes, m.Complaints = r.m[4], r.m[5]
	if r.spend && r.amount != (money.Amount{}) {
		_ = m.Spend.Add(r.amount) // one checked amount into an empty total: cannot fail
	}
	m.Conversions, m.FirstTime, m.Returning, m.Revenue = c.conv.conv, c.conv.first, c.conv.ret, c.conv.rev.totals()
	return m
}

func (m *Measures) empty() bool {
	return m.Impressions == 0 && m.Clicks == 0 && m.Sends == 0 && m.Opens == 0 && m.MessageClicks == 0 &&
		m.Bounces == 0 && m.Unsubscribes == 0 && m.Complaints == 0 && m.Conversions == 0 && m.Revenue.Len() == 0
}

// summer adds measures with overflow checks, keeping the first error.
type summer struct{ err error }

func (s *summer) int(dst *int64, v int64) {
	r := *dst + v
	if (r > *dst) != (v > 0) && s.err == nil {
		s.err = fmt.Errorf("attribution: %w: count sum exceeds int64", ErrOverflow)
		return
	}
	*dst = r
}

func (s *summer) add(dst, m *Measures) {
	s.int(&dst.Impressions, m.Impressions)
	s.int(&dst.Clicks, m.Clicks)
	s.int(&dst.Sends, m.Sends)
	s.int(&dst.Opens, m.Opens)
	s.int(&dst.MessageClicks, m.MessageClicks)
	s.int(&dst.Bounces, m.Bounces)
	s.int(&dst.Unsubscribes, m.Unsubscribes)
	s.int(&dst.Complaints, m.Complaints)
	s.int((*int64)(&dst.Conversions), int64(m.Conversions))
	s.int((*int64)(&dst.FirstTime), int64(m.FirstTime))
	s.int((*int64)(&dst.Returning), int64(m.Returning))
	if err := dst.Spend.AddTotals(m.Spend); err != nil && s.err == nil {
		s.err = fmt.Errorf("attribution: spend: %w", err)
	}
	if err := dst.Revenue.AddTotals(m.Revenue); err != nil && s.err == nil {
		s.err = fmt.Errorf("attribution: revenue: %w", err)
	}
}
