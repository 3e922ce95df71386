package segment

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/money"
	"github.com/shopcrm/shopcrm/ratio"
)

// ProductCount is how many members bought a product in a given purchase.
type ProductCount struct {
	Product   gid.ID
	Customers int
}

// ChannelCount is how many members came through a channel.
type ChannelCount struct {
	Channel   string // "" when the order had none
	Customers int
}

// Send describes a message sent to a segment, to measure what followed.
type Send struct {
	Segment string        // the definition's name
	At      time.Time     // when it was sent
	Within  time.Duration // how long after At orders count
	// Recipients, when set, are the customers actually sent to, strictly
	// ascending. When nil, the audience is the segment's members as of At
	// (the rule evaluated at that time), which is who a send to the segment
	// reached, not who belongs to it now.
	Recipients []gid.ID
}

// SendReport is what the audience of a send did within (At, At+Within].
type SendReport struct {
	Segment   string
	At        time.Time
	Within    time.Duration
	Audience  int          // customers in the audience
	Converted int          // of them, those who ordered in the window
	Orders    int          // their orders in the window
	Revenue   money.Totals // net revenue of the entries dated in the window, refunds included
	// Partial is true when the window ends after the evaluation time, so
	// the figures can still grow.
	Partial bool
}

// Conversion is converted ÷ audience.
func (s SendReport) Conversion() ratio.Ratio { return counts(s.Converted, s.Audience) }

type sendState struct {
	send   Send
	rule   Rule
	report SendReport
}

// productNumbers appends the numbers of o's distinct products to dst.
func (e *Evaluator) productNumbers(dst []int32, o *Order) []int32 {
	for j := range o.Items {
		p := o.Items[j].Product
		if p.IsZero() {
			continue
		}
		k, ok := e.products[p.Num]
		if !ok {
			k = int32(len(e.productIDs))
			e.products[p.Num] = k
			e.productIDs = append(e.productIDs, p.Num)
		}
		if !slices.Contains(dst, k) {
			dst = append(dst, k)
		}
	}
	return dst
}

func (e *Evaluator) channelNumber(ch string) int32 {
	// Stores use a handful of channels: a scan beats hashing the name.
	if len(e.channelNames) <= 16 {
		for i, name := range e.channelNames {
			if name == ch {
				return int32(i)
			}
		}
	}
	k, ok := e.channels[ch]
	if !ok {
		k = int32(len(e.channelNames))
		e.channels[ch] = k
		e.channelNames = append(e.channelNames, ch)
	}
	return k
}

// count adds one to counts at each index, growing counts as needed.
func count(counts []int32, indexes []int32) []int32 {
	for _, k := range indexes {
		counts = countOne(counts, k)
	}
	return counts
}

func countOne(counts []int32, k int32) []int32 {
	if int(k) >= len(counts) {
		counts = append(counts, make([]int32, int(k)+1-len(counts))...)
	}
	counts[k]++
	return counts
}

func (st *sendState) add(c *Customer, now time.Time, f *facts) error {
	s := &st.send
	var in bool
	if s.Recipients != nil {
		_, in = slices.BinarySearchFunc(s.Recipients, c.ID, gid.ID.Compare)
	} else {
		var err error
		f.reset(c, s.At)
		if in, err = match(st.rule, f); err != nil {
			return fmt.Errorf("segment: send to %q at %s: customer %s: %w", s.Segment, s.At.Format(time.RFC3339), c.ID, err)
		}
	}
	if !in {
		return nil
	}
	r := &st.report
	r.Audience++
	end := s.At.Add(s.Within)
	if end.After(now) {
		end = now
	}
	converted := false
	for i := range c.Orders {
		o := &c.Orders[i]
		if !o.Time.After(s.At) || o.Time.After(end) {
			continue
		}
		if err := r.Revenue.Add(o.Total); err != nil {
			return fmt.Errorf("segment: send to %q: revenue: %w", s.Segment, err)
		}
		if !o.isRefund() {
			r.Orders++
			converted = true
		}
	}
	if converted {
		r.Converted++
	}
	return nil
}

func productCounts(counts []int32, ids []int64) []ProductCount {
	var out []ProductCount
	for k, n := range counts {
		if n > 0 {
			out = append(out, ProductCount{Product: gid.ID{Type: gid.Product, Num: ids[k]}, Customers: int(n)})
		}
	}
	slices.SortFunc(out, func(a, b ProductCount) int {
		if c := cmp.Compare(b.Customers, a.Customers); c != 0 {
			return c
		}
		return a.Product.Compare(b.Product)
	})
	return out
}

func channelCounts(counts []int32, names []string) []ChannelCount {
	var out []ChannelCount
	for k, n := range counts {
		if n > 0 {
			out = append(out, ChannelCount{Channel: names[k], Customers: int(n)})
		}
	}
	slices.SortFunc(out, func(a, b ChannelCount) int {
		if c := cmp.Compare(b.Customers, a.Customers); c != 0 {
			return c
		}
		return strings.Compare(a.Channel, b.Channel)
	})
	return out
}
