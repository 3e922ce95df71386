package tagging

import (
	"iter"
	"strings"
)

// Plan returns the smallest change that takes a resource from its current
// tags to the desired owned tags: Add holds the desired tags it lacks (in
// the desired order, with the desired spelling), Remove the owned tags that
// are not desired (in the current order, with the current spelling). Tags
// the schema does not own ("line", "ecp-first", "VIP", ...) are never
// removed. Tags match as Shopify matches them: trimmed, without regard to
// case, so a desired tag the resource has under another spelling is left as
// it is.
//
// Every desired tag must be owned by the schema (a [*TagError] with
// [ErrForeign] otherwise) and within its length limit; a change that would
// leave more tags on the resource than the schema allows returns a
// [*TagError] with [ErrTooMany] naming the first tag that does not fit. On
// error the returned Change carries only id.
//
// An unchanged resource costs no allocation, so Plan can run over millions
// of customers; see also [Schema.PlanAll].
func (s *Schema) Plan(id string, current, desired []string) (Change, error) {
	var buf [16]want
	ws := buf[:0]
	for _, t := range desired {
		if t = trimTag(t); t == "" {
			continue
		}
		if err := s.checkDesired(id, t); err != nil {
			return Change{ID: id}, err
		}
		ws = append(ws, want{tag: t, plain: isPlain(t)})
	}
	return s.plan(id, current, ws, &scope{all: true})
}

// Resource is one customer or order to plan: its GID, its current tags and
// the owned tags it should have.
type Resource struct {
	ID      string
	Current []string
	Desired []string
}

// PlanAll plans each resource as [Schema.Plan] does and yields the changes
// that are not empty, and the errors, in order. Unchanged resources cost no
// allocation. Stop early by breaking out of the loop.
func (s *Schema) PlanAll(resources iter.Seq[Resource]) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		for r := range resources {
			c, err := s.Plan(r.ID, r.Current, r.Desired)
			if err == nil && c.Empty() {
				continue
			}
			if !yield(c, err) {
				return
			}
		}
	}
}

func (s *Schema) checkDesired(id, tag string) error {
	if !s.owns(tag) {
		if strings.IndexByte(tag, ',') >= 0 {
			return &TagError{ID: id, Tag: tag, Err: ErrComma}
		}
		return &TagError{ID: id, Tag: tag, Err: ErrForeign}
	}
	if tooLong(tag, s.cfg.maxLen) {
		return &TagError{ID: id, Tag: tag, Err: ErrTooLong, Max: s.cfg.maxLen}
	}
	return nil
}

// want is a tag a change should leave on the resource.
type want struct {
	tag   string
	plain bool // tag is its own fold key
	have  bool // the resource has it already
	dup   bool // an earlier want is the same tag (set on the map path)
}

// scope says which current tags a change may remove. A full plan may remove
// anything the schema owns; a lifecycle event only the tags of its kinds and
// contract, and the rule tags it names.
type scope struct {
	all      bool
	kinds    uint16 // bit k set: tags of Kind k
	contract string // "" matches any contract
	extra    []string
}

// customerKinds are the kinds of customer tags that belong to a contract.
const customerKinds = 1<<KindPlan | 1<<KindProduct | 1<<KindCancel | 1<<KindSkipCount |
	1<<KindPause | 1<<KindRank | 1<<KindStatus

func kindBits(kinds ...Kind) uint16 {
	var b uint16
	for _, k := range kinds {
		b |= 1 << k
	}
	return b
}

func (s *Schema) inScope(tag string, plain bool, sc *scope) bool {
	if sc.all {
		return s.ownsPlain(tag, plain)
	}
	if sc.kinds != 0 && s.first[tag[0]] {
		if t, ok := s.parse(tag, nil); ok && sc.kinds&(1<<t.Kind) != 0 && (sc.contract == "" || t.Contract == sc.contract) {
			return true
		}
	}
	for _, x := range sc.extra {
		if sameTag(tag, plain, x, isPlain(x)) {
			return true
		}
	}
	return false
}

// bigPlan is the size (current × desired) above which matching goes through
// a map of fold keys instead of comparing pairs. Below it, a customer with
// Shopify's 250 tags and a dozen desired ones plans without allocating.
const bigPlan = 4096

func (s *Schema) plan(id string, current []string, ws []want, sc *scope) (Change, error) {
	c := Change{ID: id}
	var keys map[string]int
	if len(current)*len(ws) > bigPlan {
		keys = make(map[string]int, len(ws))
		for j := range ws {
			k := foldKey(ws[j].tag)
			if _, ok := keys[k]; ok {
				ws[j].dup = true
			} else {
				keys[k] = j
			}
		}
	}

	n := 0 // tags on the resource once the change is applied
	var buf [64]byte
	for _, t := range current {
		if t = trimTag(t); t == "" {
			continue
		}
		n++
		plain := isPlain(t)
		hit := false
		if keys != nil {
			if j, ok := keys[string(appendFoldKey(buf[:0], t))]; ok {
				ws[j].have, hit = true, true
			}
		} else {
			// Most tags are spelled as desired: look for the same bytes
			// first, which rejects on length alone, and fold case only
			// when that fails.
			for j := range ws {
				if ws[j].tag == t {
					ws[j].have, hit = true, true
					break
				}
			}
			for j := 0; !hit && j < len(ws); j++ {
				if sameTag(t, plain, ws[j].tag, ws[j].plain) {
					ws[j].have, hit = true, true
				}
			}
		}
		if hit || !s.inScope(t, plain, sc) {
			continue
		}
		n--
		if !containsTag(c.Remove, t, plain) { // the same tag twice is removed once
			c.Remove = append(c.Remove, t)
		}
	}
	for j := range ws {
		if ws[j].have || ws[j].dup || s.covered(ws, j) {
			continue
		}
		c.Add = append(c.Add, ws[j].tag)
		n++
	}
	if n > s.cfg.maxTags && len(c.Add) > 0 {
		// n counts a tag held under two spellings twice; count exactly.
		var after Set
		after.Add(current...)
		after.Remove(c.Remove...)
		if base := after.Len(); base+len(c.Add) > s.cfg.maxTags {
			i := max(s.cfg.maxTags-base, 0)
			return Change{ID: id}, &TagError{ID: id, Tag: c.Add[i], Err: ErrTooMany, Max: s.cfg.maxTags}
		}
	}
	return c, nil
}

// covered reports whether want j, which no current tag matched, is the same
// tag as another want that the resource has, or as an earlier want that
// will be added. Only wants that would be added get here, so the pairwise
// comparison costs nothing for unchanged resources.
func (s *Schema) covered(ws []want, j int) bool {
	for k := range ws {
		if k != j && (ws[k].have || k < j) && sameTag(ws[j].tag, ws[j].plain, ws[k].tag, ws[k].plain) {
			return true
		}
	}
	return false
}

func containsTag(list []string, t string, plain bool) bool {
	for _, x := range list {
		if sameTag(t, plain, x, isPlain(x)) {
			return true
		}
	}
	return false
}
