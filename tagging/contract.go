package tagging

import "github.com/shopcrm/shopcrm/calendar"

// Contract is what a customer's tags say about one subscription contract:
// the per-contract view of the tags [Schema.Apply] writes. A field whose
// tag is absent is zero. When the customer has two tags of one kind for the
// contract (written by hand, or by two apps), the first in tag order is
// read, except the skip count, which is the highest.
type Contract struct {
	ID        string        // contract id, ASCII digits as in the tags
	Plan      string        // plan tag
	Product   string        // product tag
	Cancelled calendar.Date // cancel tag; zero when not cancelled
	Paused    bool          // a pause tag is present
	PausedOn  calendar.Date // the pause tag's date, when the template has {date}
	Skips     int           // skip-count tag
	Status    string        // purchase-status tag
	Rank      string        // rank tag, when the rank template has {id}
}

// Active reports whether the contract runs: neither cancelled nor paused.
func (c *Contract) Active() bool { return c.Cancelled.IsZero() && !c.Paused }

// Contracts returns the contracts that a customer's tags describe, in the
// order their first tag appears. Tags are matched as [Schema.Parse] reads
// them after trimming; tags that are not the schema's, order tags and
// per-customer tags (a rank without {id}) belong to no contract.
func (s *Schema) Contracts(tags []string) []Contract { return s.AppendContracts(nil, tags) }

// AppendContracts appends the contracts of tags to dst, as [Schema.Contracts]
// returns them, so a caller reading many customers can reuse one slice.
func (s *Schema) AppendContracts(dst []Contract, tags []string) []Contract {
	start := len(dst)
	for _, raw := range tags {
		t, ok := s.contractTag(raw)
		if !ok {
			continue
		}
		i := start
		for i < len(dst) && dst[i].ID != t.Contract {
			i++
		}
		if i == len(dst) {
			dst = append(dst, Contract{ID: t.Contract})
		}
		c := &dst[i]
		switch t.Kind {
		case KindPlan:
			c.Plan = first(c.Plan, t.Value)
		case KindProduct:
			c.Product = first(c.Product, t.Value)
		case KindCancel:
			if c.Cancelled.IsZero() {
				c.Cancelled = t.Date
			}
		case KindPause:
			if !c.Paused {
				c.Paused, c.PausedOn = true, t.Date
			}
		case KindSkipCount:
			c.Skips = max(c.Skips, t.Count)
		case KindStatus:
			c.Status = first(c.Status, t.Value)
		case KindRank:
			c.Rank = first(c.Rank, t.Value)
		}
	}
	return dst
}

// Contract returns the view of one contract, and false when no tag belongs
// to it.
func (s *Schema) Contract(tags []string, id string) (Contract, bool) {
	var buf [4]Contract
	for _, c := range s.AppendContracts(buf[:0], tags) {
		if c.ID == id {
			return c, true
		}
	}
	return Contract{ID: id}, false
}

// ContractTags returns the tags of the customer that belong to contract id,
// as they are spelled in tags, in their order.
func (s *Schema) ContractTags(tags []string, id string) []string {
	var out []string
	for _, raw := range tags {
		if t, ok := s.contractTag(raw); ok && t.Contract == id {
			out = append(out, trimTag(raw))
		}
	}
	return out
}

// contractTag parses a customer tag that belongs to a contract.
func (s *Schema) contractTag(raw string) (Tag, bool) {
	var t Tag
	tag := trimTag(raw)
	if tag == "" || !s.first[tag[0]] || !s.parseInto(tag, &t, nil) {
		return Tag{}, false
	}
	return t, t.Contract != "" && customerKinds&(1<<t.Kind) != 0
}

func first(have, v string) string {
	if have != "" {
		return have
	}
	return v
}
