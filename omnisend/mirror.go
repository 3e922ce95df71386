package omnisend

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
)

// Ownership says which tags a caller owns: the tags a mirror may remove.
// Tags it does not own (another app's, a merchant's) are never touched.
type Ownership func(tag string) bool

// OwnedPrefix owns the tags that start with prefix ("shopify:"); the
// prefix must not be empty.
func OwnedPrefix(prefix string) Ownership {
	return func(tag string) bool { return prefix != "" && strings.HasPrefix(tag, prefix) }
}

// OwnedSet owns exactly the tags given.
func OwnedSet(tags ...string) Ownership {
	set := make(map[string]bool, len(tags))
	for _, t := range tags {
		set[t] = true
	}
	return func(tag string) bool { return set[tag] }
}

// MirrorReport is what a mirror did.
type MirrorReport struct {
	// Results holds one result per contact that needed a change, in the
	// order of their emails.
	Results []TagResult
	// Unchanged counts the contacts whose owned tags already matched.
	Unchanged int
	// Missing lists the emails no contact holds; Omnisend would ignore
	// their tag calls, so none is sent.
	Missing []string
}

// Mirror makes the owned tags of each contact in desired (by email) equal
// to the set given, as a mirror of Shopify customer tags: it adds the
// missing ones and removes owned tags the contact should no longer carry.
// Tags owned reports false for are left alone, whoever set them; every
// desired tag must be owned, or a later run could never remove it.
// Contacts not in desired are not touched; an empty set removes all owned
// tags. Emails match case-insensitively, a contact's primary email or any
// of its email identifiers; two desired emails of one contact are refused.
//
// The contacts' current tags are read with a full listing (250 a page),
// then the changes go through [TagsService.Apply]. A change that was not
// applied is reported and comes back in the next run, whose listing shows
// what the platform holds.
func (s *TagsService) Mirror(ctx context.Context, desired map[string][]string, owned Ownership) (*MirrorReport, error) {
	want, err := checkDesired(desired, owned)
	if err != nil {
		return nil, err
	}
	var current []Contact
	for c, err := range s.c.Contacts.List(ctx, ListOptions{}) {
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(emailsOf(c), func(e string) bool { _, ok := want[e]; return ok }) {
			current = append(current, c)
		}
	}
	return s.mirror(ctx, current, want, owned)
}

// MirrorKnown is Mirror for a caller that already holds the contacts'
// current tags (the answers of its upserts, a listing of its own): it
// sends the tag changes without listing. A contact needs Email and Tags;
// with an ID the calls name it by id, else by email. Contacts of desired missing from
// current are reported Missing. Tags the snapshot does not show are not
// removed, so a stale snapshot can leave an owned tag behind until the
// next Mirror, never remove a foreign one.
func (s *TagsService) MirrorKnown(ctx context.Context, current []Contact, desired map[string][]string, owned Ownership) (*MirrorReport, error) {
	want, err := checkDesired(desired, owned)
	if err != nil {
		return nil, err
	}
	return s.mirror(ctx, current, want, owned)
}

func (s *TagsService) mirror(ctx context.Context, contacts []Contact, want map[string][]string, owned Ownership) (*MirrorReport, error) {
	current := make(map[string]int, len(contacts)) // by every email a contact holds
	for i, c := range contacts {
		for _, e := range emailsOf(c) {
			current[e] = i
		}
	}
	rep := &MirrorReport{}
	var changes []TagChange
	// by holds the desired email each contact was matched by.
	by := map[int]string{}
	for _, email := range slices.Sorted(maps.Keys(want)) { // sorted: results in a stable order
		i, ok := current[email]
		if !ok {
			rep.Missing = append(rep.Missing, email)
			continue
		}
		if other, dup := by[i]; dup {
			return nil, invalid("desired["+email+"]", "names the same contact as desired[%s]", other)
		}
		by[i] = email
		c := contacts[i]
		ch := TagChange{ContactID: c.ID}
		if c.ID == "" {
			ch.Email = cmp.Or(c.Email, email)
		}
		for _, t := range want[email] {
			if !slices.Contains(c.Tags, t) {
				ch.Add = append(ch.Add, t)
			}
		}
		for _, t := range c.Tags {
			if owned(t) && !slices.Contains(want[email], t) && !slices.Contains(ch.Remove, t) {
				ch.Remove = append(ch.Remove, t)
			}
		}
		if len(ch.Add)+len(ch.Remove) == 0 {
			rep.Unchanged++
			continue
		}
		changes = append(changes, ch)
	}
	calls, err := planTags(changes, false) // built from checked input
	if err != nil {
		return nil, err
	}
	res, err := s.apply(ctx, changes, calls)
	rep.Results = res
	return rep, err
}

// emailsOf returns a contact's emails, lower-case: the primary one and
// every email identifier (a contact may hold several).
func emailsOf(c Contact) []string {
	var out []string
	if c.Email != "" {
		out = append(out, strings.ToLower(c.Email))
	}
	for _, id := range c.Identifiers {
		if e := strings.ToLower(id.ID); id.Type == EmailID && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// checkDesired validates a mirror's input and keys it by lower-case email.
func checkDesired(desired map[string][]string, owned Ownership) (map[string][]string, error) {
	if owned == nil {
		return nil, invalid("owned", "nil Ownership")
	}
	want := make(map[string][]string, len(desired))
	for _, email := range slices.Sorted(maps.Keys(desired)) {
		f := "desired[" + email + "]"
		if err := checkEmail(f, email); err != nil {
			return nil, err
		}
		tags := desired[email]
		if err := checkTags(f, tags, MaxTagsPerCall); err != nil {
			return nil, err
		}
		for _, t := range tags {
			if !owned(t) {
				return nil, &InputError{Field: f, Value: t, Reason: "tag is not owned: a mirror could never remove it"}
			}
		}
		key := strings.ToLower(email)
		if _, dup := want[key]; dup {
			return nil, invalid(f, "the same email, in another case, appears twice")
		}
		want[key] = tags
	}
	return want, nil
}
