package omnisend

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/bulk"
	"github.com/shopcrm/shopcrm/internal/transport"
	"github.com/shopcrm/shopcrm/omnisend/internal/wire"
)

// Limits of one /contacts/tags call.
const (
	// MaxSelectorsPerCall is the most contact ids, emails or phones (each)
	// in one call.
	MaxSelectorsPerCall = 250
	// MaxTagsPerCall is the most tags in one call (and on one contact
	// input).
	MaxTagsPerCall = 100
)

// TagsService adds and removes contact tags in bulk.
type TagsService struct{ c *Client }

// Selector picks the contacts of a tag call. Selectors add up: the call
// concerns every contact any of them matches. Emails and phones no contact
// holds are ignored by Omnisend.
type Selector struct {
	ContactIDs []string // at most 250
	Emails     []string // at most 250
	Phones     []string // at most 250, E.164
	SegmentID  string   // every member of the segment
}

// Add adds tags to the selected contacts in one call. Omnisend accepts the
// call (202) and tags asynchronously, so the tags may show a little later.
// Adding a tag twice changes nothing, so the call is retried.
//
//spec:openapi POST /contacts/tags
func (s *TagsService) Add(ctx context.Context, sel Selector, tags []string) (*Response, error) {
	return s.call(ctx, "addTags", http.MethodPost, sel, tags)
}

// Remove removes tags from the selected contacts in one call; see Add.
//
//spec:openapi DELETE /contacts/tags
func (s *TagsService) Remove(ctx context.Context, sel Selector, tags []string) (*Response, error) {
	return s.call(ctx, "removeTags", http.MethodDelete, sel, tags)
}

func (s *TagsService) call(ctx context.Context, op, method string, sel Selector, tags []string) (*Response, error) {
	if err := checkSelector(sel); err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, invalid("tags", "at least one tag is required")
	}
	if err := checkTags("tags", tags, MaxTagsPerCall); err != nil {
		return nil, err
	}
	body := &wire.Tags{ContactIDs: sel.ContactIDs, Emails: sel.Emails, Phones: sel.Phones, SegmentID: sel.SegmentID, Tags: tags}
	return s.c.do(ctx, &call{class: EndpointContactTags, op: op, method: method, path: "/contacts/tags", body: body, retry: transport.RetryIdempotent})
}

func checkSelector(sel Selector) error {
	if len(sel.ContactIDs)+len(sel.Emails)+len(sel.Phones) == 0 && sel.SegmentID == "" {
		return invalid("Selector", "needs contact ids, emails, phones or a segment id")
	}
	for _, l := range []struct {
		field string
		ids   []string
		check func(string, string) error
	}{{"Selector.ContactIDs", sel.ContactIDs, checkID}, {"Selector.Emails", sel.Emails, checkEmail}, {"Selector.Phones", sel.Phones, checkPhone}} {
		if len(l.ids) > MaxSelectorsPerCall {
			return &InputError{Field: l.field, Value: strconv.Itoa(len(l.ids)), Reason: "at most 250 per call"}
		}
		for i, id := range l.ids {
			if err := l.check(l.field+"["+strconv.Itoa(i)+"]", id); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkTags refuses more than max tags, empty ones and duplicates.
func checkTags(field string, tags []string, max int) error {
	if len(tags) > max {
		return &InputError{Field: field, Value: strconv.Itoa(len(tags)), Reason: "at most " + strconv.Itoa(max) + " tags"}
	}
	for i, t := range tags {
		f := field + "[" + strconv.Itoa(i) + "]"
		if strings.TrimSpace(t) == "" {
			return invalid(f, "empty tag")
		}
		if slices.Contains(tags[:i], t) {
			return &InputError{Field: f, Value: t, Reason: "duplicate tag"}
		}
	}
	return nil
}

// TagChange is the tags to add to and remove from one contact, named by
// exactly one of ContactID, Email and Phone.
type TagChange struct {
	ContactID string
	Email     string
	Phone     string
	Add       []string
	Remove    []string
}

// TagResult is what became of one TagChange: Applied when every call
// carrying it was accepted; otherwise Unknown when one may have acted
// (then Failed, NotSent), with the first error. Tagging is idempotent, so
// a change not applied can be sent again as it is.
type TagResult struct {
	Change  TagChange
	Outcome shopcrm.Outcome
	Err     error
}

// tagCall is one /contacts/tags request planned by Apply.
type tagCall struct {
	remove  bool
	tags    []string
	sel     Selector
	changes []int // indexes of the changes it carries
}

// Apply sends many tag changes in as few calls as the limits allow:
// changes adding (or removing) the same set of tags share calls, up to 250
// contacts of each kind and 100 tags a call, and run MaxInFlight calls at
// once at the /contacts/tags rate limit. Every change is checked before
// anything is sent; a contact may appear in one change only, and no
// change may add and remove one tag. It returns one result per change, in
// input order, and the terminal error (a 401, a cancelled context) that
// stopped it, if any.
func (s *TagsService) Apply(ctx context.Context, changes []TagChange) ([]TagResult, error) {
	calls, err := planTags(changes, true)
	if err != nil {
		return nil, err
	}
	return s.apply(ctx, changes, calls)
}

// apply sends planned calls and folds their outcomes into the changes'.
func (s *TagsService) apply(ctx context.Context, changes []TagChange, calls []*tagCall) ([]TagResult, error) {
	res := make([]TagResult, len(changes))
	for i, ch := range changes {
		res[i] = TagResult{Change: ch, Outcome: shopcrm.Applied}
	}
	w := bulk.Writer[*tagCall]{
		Max:      bulk.Limits{Items: 1},
		InFlight: s.c.maxInFlight,
		Classify: classify,
		Send: func(ctx context.Context, c *bulk.Chunk[*tagCall]) error {
			tc := c.Items[0]
			if tc.remove {
				_, err := s.Remove(ctx, tc.sel, tc.tags)
				return err
			}
			_, err := s.Add(ctx, tc.sel, tc.tags)
			return err
		},
		OnResult: func(r bulk.Result[*tagCall]) {
			for _, i := range r.Item.changes {
				merge(&res[i], r.Outcome, r.Err)
			}
		},
	}
	_, err := w.Run(ctx, slices.Values(calls))
	return res, err
}

// merge folds a call's outcome into a change's: Unknown, then Failed, then
// NotSent outrank Applied, and the first error is kept.
func merge(r *TagResult, o shopcrm.Outcome, err error) {
	rank := func(o shopcrm.Outcome) int {
		return map[shopcrm.Outcome]int{shopcrm.Applied: 0, shopcrm.NotSent: 1, shopcrm.Failed: 2, shopcrm.Unknown: 3}[o]
	}
	if rank(o) > rank(r.Outcome) {
		r.Outcome = o
	}
	if r.Err == nil {
		r.Err = err
	}
}

// planTags groups the changes into calls, checking them first unless
// they come checked (from a mirror).
func planTags(changes []TagChange, check bool) ([]*tagCall, error) {
	seen := map[string]int{}
	type group struct {
		remove bool
		tags   []string
		idx    []int
	}
	groups := map[string]*group{}
	var order []string
	for i, ch := range changes {
		if check {
			if err := checkChange(i, ch, seen); err != nil {
				return nil, err
			}
		}
		for _, op := range []struct {
			remove bool
			tags   []string
		}{{false, ch.Add}, {true, ch.Remove}} {
			if len(op.tags) == 0 {
				continue
			}
			tags := slices.Sorted(slices.Values(op.tags))
			k := strconv.FormatBool(op.remove) + "\x00" + strings.Join(tags, "\x00")
			g := groups[k]
			if g == nil {
				g = &group{remove: op.remove, tags: tags}
				groups[k] = g
				order = append(order, k)
			}
			g.idx = append(g.idx, i)
		}
	}
	var calls []*tagCall
	for _, k := range order {
		g := groups[k]
		for t := 0; t < len(g.tags); t += MaxTagsPerCall {
			tags := g.tags[t:min(t+MaxTagsPerCall, len(g.tags))]
			var cur *tagCall
			for _, i := range g.idx {
				ch := changes[i]
				if cur == nil || full(cur.sel) {
					cur = &tagCall{remove: g.remove, tags: tags}
					calls = append(calls, cur)
				}
				switch {
				case ch.ContactID != "":
					cur.sel.ContactIDs = append(cur.sel.ContactIDs, ch.ContactID)
				case ch.Email != "":
					cur.sel.Emails = append(cur.sel.Emails, ch.Email)
				default:
					cur.sel.Phones = append(cur.sel.Phones, ch.Phone)
				}
				cur.changes = append(cur.changes, i)
			}
		}
	}
	return calls, nil
}

// full reports a selector that can take no more contacts of some kind.
// Keeping each kind at 250 lets one call carry up to 750 contacts when
// changes name them in different ways.
func full(s Selector) bool {
	return len(s.ContactIDs) >= MaxSelectorsPerCall || len(s.Emails) >= MaxSelectorsPerCall || len(s.Phones) >= MaxSelectorsPerCall
}

// changeKey checks that ch names exactly one contact and returns a key
// for it.
func changeKey(f string, ch TagChange) (string, error) {
	n := 0
	for _, v := range []string{ch.ContactID, ch.Email, ch.Phone} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return "", invalid(f, "must name exactly one of ContactID, Email and Phone")
	}
	switch {
	case ch.ContactID != "":
		return "id:" + ch.ContactID, checkID(f+".ContactID", ch.ContactID)
	case ch.Email != "":
		return "email:" + strings.ToLower(ch.Email), checkEmail(f+".Email", ch.Email)
	}
	return "phone:" + ch.Phone, checkPhone(f+".Phone", ch.Phone)
}

// checkChange checks change i: one contact, named once in the input
// (seen), valid tags, none both added and removed.
func checkChange(i int, ch TagChange, seen map[string]int) error {
	f := "changes[" + strconv.Itoa(i) + "]"
	key, err := changeKey(f, ch)
	if err != nil {
		return err
	}
	if j, dup := seen[key]; dup {
		return invalid(f, "names the same contact as changes[%d]", j)
	}
	seen[key] = i
	for _, l := range []struct {
		name string
		tags []string
	}{{".Add", ch.Add}, {".Remove", ch.Remove}} {
		if err := checkTags(f+l.name, l.tags, 1<<30); err != nil {
			return err
		}
	}
	for _, t := range ch.Add {
		if slices.Contains(ch.Remove, t) {
			return &InputError{Field: f, Value: t, Reason: "adds and removes the same tag"}
		}
	}
	return nil
}
