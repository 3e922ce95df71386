package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/shopify"
)

// redactedRecord is the state record of the customers Shopify asked the
// app to erase, by GID, with the day it was asked.
const redactedRecord = "redacted"

// Redact carries out a Shopify customers/redact request (a privacy
// request the app must honour) across the pipeline: the customer is
// recorded as erased so that no later step reads, tags, messages or syncs
// them (the segments step leaves them out of every segment, the LINE send
// and the Omnisend and Klaviyo syncs only see segment members); their
// email is dropped from the state; they leave every segment snapshot.
// Klaviyo is asked to delete the profile (a data-privacy deletion job).
// In Omnisend, which has no contact deletion in API 2026-03-15, the
// contact is unsubscribed on email and loses the segment tags; the step
// notes that the contact must be deleted in Omnisend itself. Running it
// twice is harmless.
func Redact(ctx context.Context, env *Env, p *shopify.CustomersRedactPayload) (*StepReport, error) {
	rep := newStep("redact", !env.Apply)
	start := time.Now()
	defer func() { rep.Elapsed = time.Since(start) }()
	if err := env.check(); err != nil {
		return nil, err
	}
	if p == nil || p.Customer.ID <= 0 {
		return nil, &shopcrm.InputError{Field: "payload.customer.id", Reason: "must name a customer"}
	}
	if p.ShopDomain != "" && !strings.EqualFold(p.ShopDomain, env.Shop) {
		return nil, &shopcrm.InputError{Field: "payload.shop_domain", Value: p.ShopDomain, Reason: "is not this pipeline's shop"}
	}
	id := gid.New(gid.Customer, p.Customer.ID)
	if !env.Apply {
		rep.add("customers to erase", 1)
		return rep, nil
	}

	redacted := map[string]string{}
	if _, err := env.State.load(redactedRecord, &redacted); err != nil {
		return nil, err
	}
	redacted[id.String()] = env.Day.String()
	if err := env.State.save(redactedRecord, redacted); err != nil {
		return nil, err
	}
	emails := map[string]string{}
	if _, err := env.State.load(emailsRecord, &emails); err != nil {
		return nil, err
	}
	email := p.Customer.Email
	if email == "" {
		email = emails[id.String()]
	}
	delete(emails, id.String())
	if err := env.State.save(emailsRecord, emails); err != nil {
		return nil, err
	}
	left, err := leaveSnapshots(ctx, env, id)
	if err != nil {
		return nil, err
	}
	rep.add("segments left", left)

	if env.Klaviyo != nil && email != "" {
		// Klaviyo deletes the profile asynchronously; asking twice is
		// harmless, so a rerun simply asks again.
		if _, err := env.Klaviyo.Profiles.RequestDeletion(ctx, klaviyo.ProfileIdentifier{Email: email}); err != nil {
			return rep, fmt.Errorf("redact: klaviyo: %w", err)
		}
		rep.add("klaviyo deletions requested", 1)
	}
	if env.Omnisend != nil && email != "" {
		if err := forgetOmnisend(ctx, env, email, rep); err != nil {
			return rep, fmt.Errorf("redact: omnisend: %w", err)
		}
	}
	return rep, nil
}

// leaveSnapshots removes id from every segment snapshot that lists it.
func leaveSnapshots(ctx context.Context, env *Env, id gid.ID) (int, error) {
	store := env.State.Segments()
	left := 0
	for _, d := range env.Segments {
		snap, ok, err := store.Load(ctx, d.Name)
		if err != nil {
			return left, err
		}
		in, un := slices.Contains(snap.Members, id), slices.Contains(snap.Uncertain, id)
		if !ok || !in && !un {
			continue
		}
		gen := snap.Generation
		snap.Members = slices.DeleteFunc(snap.Members, func(m gid.ID) bool { return m == id })
		snap.Uncertain = slices.DeleteFunc(snap.Uncertain, func(m gid.ID) bool { return m == id })
		if _, err := store.SaveIf(ctx, d.Name, gen, snap); err != nil {
			return left, fmt.Errorf("redact: segment %q: %w", d.Name, err)
		}
		left++
	}
	return left, nil
}

// forgetOmnisend unsubscribes the contact with email and removes the
// segment tags from it.
func forgetOmnisend(ctx context.Context, env *Env, email string, rep *StepReport) error {
	_, _, err := env.Omnisend.Contacts.UpdateByEmail(ctx, email, &omnisend.ContactInput{
		Identifiers: []omnisend.Identifier{omnisend.Email(email, omnisend.Unsubscribed)},
	})
	if errors.Is(err, shopcrm.ErrNotFound) {
		rep.add("omnisend contacts", 0)
		return nil
	}
	if err != nil {
		return err
	}
	rep.add("omnisend contacts unsubscribed", 1)
	var tags []string
	for _, d := range env.Segments {
		tags = append(tags, d.Tag)
	}
	if len(tags) > 0 {
		if _, err := env.Omnisend.Tags.Remove(ctx, omnisend.Selector{Emails: []string{email}}, tags); err != nil {
			return err
		}
	}
	rep.notef("Omnisend API 2026-03-15 cannot delete contacts: delete %s in Omnisend", "the contact")
	return nil
}
