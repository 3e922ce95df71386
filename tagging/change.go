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
