package tagging

// Change is a set of tag edits on one Shopify resource: the one change type
// that package segment produces and the Shopify client applies.
//
// ID is the resource's Shopify GID ("gid://shopify/Customer/123"). Add and
// Remove hold tags as they should be written; a tag never appears in both.
type Change struct {
	ID     string
	Add    []string
	Remove []string
}

// Empty reports whether c has nothing to add and nothing to remove.
func (c Change) Empty() bool { return len(c.Add) == 0 && len(c.Remove) == 0 }

// Diff returns the change that turns the tags from into the tags to, both
// compared as Shopify compares tags (trimmed, ignoring case): the tags of
// to missing from from are added, as to spells them; the tags of from
// missing from to are removed. It is how a series of events applied to a
// working [Set] becomes the one change to send.
func Diff(id string, from, to []string) Change {
	f, t := NewSet(from...), NewSet(to...)
	ch := Change{ID: id}
	for tag := range t.All() {
		if !f.Has(tag) {
			ch.Add = append(ch.Add, tag)
		}
	}
	for tag := range f.All() {
		if !t.Has(tag) {
			ch.Remove = append(ch.Remove, tag)
		}
	}
	return ch
}
