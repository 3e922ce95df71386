package tagging

import (
	"iter"
	"slices"
	"strings"
)

// Set is a set of tags with Shopify's semantics: tags are trimmed, empty
// tags are dropped, membership ignores case (Unicode simple folding, as
// strings.EqualFold), the first spelling added is the one kept, and
// iteration follows insertion order.
//
// The zero Set is empty and ready to use; a nil *Set reads as empty. A Set
// is not safe for concurrent mutation.
type Set struct {
	tags []string
	keys map[string]int // fold key → index in tags, once the set is large
}

// smallSet is the size up to which a Set finds tags by scanning, which beats
// hashing a fold key for the handful of tags most resources carry.
const smallSet = 16

// NewSet returns a set holding tags.
func NewSet(tags ...string) *Set {
	s := &Set{tags: make([]string, 0, len(tags))}
	s.Add(tags...)
	return s
}

// Split splits a comma-separated tag list ("VIP, line, ecp-first"), the form
// Shopify uses in webhooks and REST payloads, into trimmed, non-empty tags.
func Split(list string) []string {
	var out []string
	for t := range strings.SplitSeq(list, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func (s *Set) index(tag string) int {
	if s == nil {
		return -1
	}
	if s.keys != nil {
		var buf [64]byte
		if i, ok := s.keys[string(appendFoldKey(buf[:0], tag))]; ok {
			return i
		}
		return -1
	}
	plain := isPlain(tag)
	for i, t := range s.tags {
		if sameTag(tag, plain, t, isPlain(t)) {
			return i
		}
	}
	return -1
}

// Add adds each tag, trimmed, unless it is empty or already in the set
// under any spelling.
func (s *Set) Add(tags ...string) {
	for _, t := range tags {
		t = trimTag(t)
		if t == "" || s.index(t) >= 0 {
			continue
		}
		s.tags = append(s.tags, t)
		switch {
		case s.keys != nil:
			s.keys[foldKey(t)] = len(s.tags) - 1
		case len(s.tags) > smallSet:
			s.keys = make(map[string]int, 2*len(s.tags))
			for i, t := range s.tags {
				s.keys[foldKey(t)] = i
			}
		}
	}
}

// Remove removes each tag, matched without regard to case or surrounding
// whitespace. The remaining tags keep their order.
func (s *Set) Remove(tags ...string) {
	for _, t := range tags {
		i := s.index(trimTag(t))
		if i < 0 {
			continue
		}
		if s.keys != nil {
			delete(s.keys, foldKey(s.tags[i]))
			for k, j := range s.keys {
				if j > i {
					s.keys[k] = j - 1
				}
			}
		}
		s.tags = slices.Delete(s.tags, i, i+1)
	}
}

// Has reports whether tag is in the set under any spelling.
func (s *Set) Has(tag string) bool { return s.index(trimTag(tag)) >= 0 }

// Lookup returns the spelling the set holds for tag.
func (s *Set) Lookup(tag string) (string, bool) {
	if i := s.index(trimTag(tag)); i >= 0 {
		return s.tags[i], true
	}
	return "", false
}

// Len returns the number of tags.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.tags)
}

// Tags returns the tags in order, as a new slice.
func (s *Set) Tags() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.tags)
}

// All returns an iterator over the tags in order.
func (s *Set) All() iter.Seq[string] {
	if s == nil {
		return slices.Values([]string(nil))
	}
	return slices.Values(s.tags)
}

// Apply applies c: it removes c.Remove, then adds c.Add.
func (s *Set) Apply(c Change) {
	s.Remove(c.Remove...)
	s.Add(c.Add...)
}

// Clone returns a copy of s.
func (s *Set) Clone() *Set {
	if s == nil {
		return &Set{}
	}
	c := &Set{tags: slices.Clone(s.tags)}
	if s.keys != nil {
		c.keys = make(map[string]int, len(s.keys))
		for k, v := range s.keys {
			c.keys[k] = v
		}
	}
	return c
}

// Equal reports whether s and o hold the same tags, ignoring case and
// order, as Shopify would compare them.
func (s *Set) Equal(o *Set) bool {
	if s.Len() != o.Len() {
		return false
	}
	for t := range s.All() {
		if !o.Has(t) {
			return false
		}
	}
	return true
}

// String returns the tags joined by ", ", the form Shopify accepts as one
// comma-separated string.
func (s *Set) String() string { return strings.Join(s.Tags(), ", ") }
