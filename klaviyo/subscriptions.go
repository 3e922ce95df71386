package klaviyo

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/internal/bulk"
	"github.com/shopcrm/shopcrm/internal/transport"
)

// SubscriptionsService changes consent and suppressions in bulk jobs.
type SubscriptionsService struct{ c *Client }

// The documented caps of the bulk consent jobs.
const (
	MaxSubscribePerRequest   = 1000
	MaxUnsubscribePerRequest = 100
	MaxSuppressPerRequest    = 100
)

// Channels are the marketing channels a consent change applies to.
type Channels struct {
	Email            bool
	SMS              bool // SMS marketing
	SMSTransactional bool
}

// Subscriber is one profile to subscribe.
type Subscriber struct {
	// ID names an existing profile; Email and PhoneNumber identify it
	// otherwise (and are what the channels are for).
	ID          string
	Email       string
	PhoneNumber string // E.164
	Channels    Channels
	// ConsentedAt is when consent was collected: only with
	// SubscribeRequest.HistoricalImport, where it is required.
	ConsentedAt time.Time
}

// SubscribeRequest subscribes profiles to marketing.
type SubscribeRequest struct {
	// ListID adds the profiles to this list too; its opt-in process
	// decides whether they get a confirmation email first. Empty uses the
	// account's default opt-in process.
	ListID   string
	Profiles []Subscriber
	// HistoricalImport subscribes at once, without double opt-in or
	// "Added to list" flows, for consent collected before: every
	// Subscriber needs ConsentedAt.
	HistoricalImport bool
	CustomSource     string
}

// Subscribe subscribes profiles, 1,000 per job request. Subscribing twice
// is the same as once, so requests are retried. Klaviyo also lifts
// UNSUBSCRIBE, SPAM_REPORT and USER_SUPPRESSED suppressions of the
// profiles. One result per profile, in input order.
func (s *SubscriptionsService) Subscribe(ctx context.Context, req SubscribeRequest) ([]ItemResult, error) {
	if req.ListID != "" {
		if err := checkID("ListID", req.ListID); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	out := make([]ItemResult, len(req.Profiles))
	var ready []indexed[map[string]any]
	for i, p := range req.Profiles {
		out[i] = ItemResult{Index: i}
		field := fmt.Sprintf("Profiles[%d]", i)
		r, err := subscriber(field, p, req.HistoricalImport, now)
		if err != nil {
			out[i].Outcome, out[i].Err = Failed, err
			continue
		}
		ready = append(ready, indexed[map[string]any]{i, r})
	}
	return s.job(ctx, EndpointSubscribe, "/api/profile-subscription-bulk-create-jobs", "profile-subscription-bulk-create-job",
		MaxSubscribePerRequest, req.ListID, func(attrs map[string]any) {
			if req.HistoricalImport {
				attrs["historical_import"] = true
			}
			if req.CustomSource != "" {
				attrs["custom_source"] = req.CustomSource
			}
		}, ready, out)
}

func subscriber(field string, p Subscriber, historical bool, now time.Time) (map[string]any, error) {
	switch {
	case historical && p.ConsentedAt.IsZero():
		return nil, invalid(field+".ConsentedAt", "", "required with HistoricalImport")
	case historical && !p.ConsentedAt.Before(now):
		return nil, invalid(field+".ConsentedAt", formatTime(p.ConsentedAt), "must be in the past")
	case !historical && !p.ConsentedAt.IsZero():
		return nil, invalid(field+".ConsentedAt", formatTime(p.ConsentedAt), "only with HistoricalImport")
	}
	r, err := consentProfile(field, p.Email, p.PhoneNumber, p.Channels, func() map[string]any {
		c := map[string]any{"consent": "SUBSCRIBED"}
		if historical {
			c["consented_at"] = formatTime(p.ConsentedAt)
		}
		return c
	})
	if err == nil && p.ID != "" {
		r["id"] = p.ID
	}
	return r, err
}

// consentProfile is a profile entry of a consent job: its identifiers and,
// for each channel named, the consent consent() gives.
func consentProfile(field, email, phone string, ch Channels, consent func() map[string]any) (map[string]any, error) {
	if !ch.Email && !ch.SMS && !ch.SMSTransactional {
		return nil, invalid(field+".Channels", "", "no channel")
	}
	if ch.Email && email == "" {
		return nil, invalid(field+".Email", "", "needed for the email channel")
	}
	if (ch.SMS || ch.SMSTransactional) && phone == "" {
		return nil, invalid(field+".PhoneNumber", "", "needed for the SMS channels")
	}
	subs := map[string]any{}
	if ch.Email {
		subs["email"] = map[string]any{"marketing": consent()}
	}
	if ch.SMS || ch.SMSTransactional {
		sms := map[string]any{}
		if ch.SMS {
			sms["marketing"] = consent()
		}
		if ch.SMSTransactional {
			sms["transactional"] = consent()
		}
		subs["sms"] = sms
	}
	attrs := map[string]any{"subscriptions": subs}
	if email != "" {
		attrs["email"] = email
	}
	if phone != "" {
		attrs["phone_number"] = phone
	}
	return map[string]any{"type": "profile", "attributes": attrs}, nil
}

// Unsubscriber is one profile to unsubscribe, by email or phone number.
type Unsubscriber struct {
	Email       string
	PhoneNumber string
	Channels    Channels
}

func unsubscriber(field string, p Unsubscriber) (map[string]any, error) {
	return consentProfile(field, p.Email, p.PhoneNumber, p.Channels, func() map[string]any {
		return map[string]any{"consent": "UNSUBSCRIBED"}
	})
}

// UnsubscribeFromList unsubscribes profiles from one list's marketing,
// 100 per job request. listID is required: an unsubscribe without a list
// is global, and only UnsubscribeGlobally sends one. Klaviyo unsubscribes
// globally a profile that is not in the list, so the client first reads
// which of the profiles are members (by email or phone number) and sends
// only those; the others fail with ErrNotListMember.
func (s *SubscriptionsService) UnsubscribeFromList(ctx context.Context, listID string, profiles []Unsubscriber) ([]ItemResult, error) {
	if err := checkID("listID", listID); err != nil {
		return nil, err
	}
	members, err := s.members(ctx, listID, profiles)
	if err != nil {
		return notSent(make([]ItemResult, len(profiles)), err), err
	}
	return s.unsubscribe(ctx, listID, profiles, members)
}

// members reads which of the profiles are in the list: keys "e:" + lower
// email and "p:" + phone number.
func (s *SubscriptionsService) members(ctx context.Context, listID string, profiles []Unsubscriber) (map[string]bool, error) {
	var emails, phones []string
	for _, p := range profiles {
		if p.Email != "" {
			emails = append(emails, p.Email)
		} else if p.PhoneNumber != "" {
			phones = append(phones, p.PhoneNumber)
		}
	}
	found := map[string]bool{}
	for _, q := range []struct {
		field, prefix string
		vals          []string
	}{{"email", "e:", emails}, {"phone_number", "p:", phones}} {
		for start := 0; start < len(q.vals); start += 100 {
			chunk := q.vals[start:min(start+100, len(q.vals))]
			for p, err := range (&ListsService{s.c}).Members(ctx, listID, MemberOptions{Filter: Filter{Any(q.field, chunk...)}, PageSize: 100}) {
				if err != nil {
					return nil, err
				}
				found["e:"+strings.ToLower(p.Email)] = p.Email != ""
				found["p:"+p.PhoneNumber] = p.PhoneNumber != ""
			}
		}
	}
	return found, nil
}

// UnsubscribeGlobally unsubscribes profiles from all marketing on the
// channels named (email consent becomes UNSUBSCRIBED, with an UNSUBSCRIBE
// suppression), 100 per job request.
func (s *SubscriptionsService) UnsubscribeGlobally(ctx context.Context, profiles []Unsubscriber) ([]ItemResult, error) {
	return s.unsubscribe(ctx, "", profiles, nil)
}

// unsubscribe sends the profiles, only those in members when it is not
// nil.
func (s *SubscriptionsService) unsubscribe(ctx context.Context, listID string, profiles []Unsubscriber, members map[string]bool) ([]ItemResult, error) {
	out := make([]ItemResult, len(profiles))
	var ready []indexed[map[string]any]
	for i, p := range profiles {
		out[i] = ItemResult{Index: i}
		if members != nil && !members["e:"+strings.ToLower(p.Email)] && !members["p:"+p.PhoneNumber] {
			out[i].Outcome, out[i].Err = Failed, fmt.Errorf("%w: %s", ErrNotListMember, p.Email+p.PhoneNumber)
			continue
		}
		r, err := unsubscriber(fmt.Sprintf("profiles[%d]", i), p)
		if err != nil {
			out[i].Outcome, out[i].Err = Failed, err
			continue
		}
		ready = append(ready, indexed[map[string]any]{i, r})
	}
	return s.job(ctx, EndpointUnsubscribe, "/api/profile-subscription-bulk-delete-jobs", "profile-subscription-bulk-delete-job",
		MaxUnsubscribePerRequest, listID, nil, ready, out)
}

// Suppress suppresses email addresses (USER_SUPPRESSED): they receive no
// email marketing whatever their consent. 100 per job request; a
// malformed address fails alone, before sending.
func (s *SubscriptionsService) Suppress(ctx context.Context, emails []string) ([]ItemResult, error) {
	return s.suppression(ctx, EndpointSuppress, "/api/profile-suppression-bulk-create-jobs", "profile-suppression-bulk-create-job", emails)
}

// Unsuppress lifts USER_SUPPRESSED suppressions of email addresses; other
// reasons (HARD_BOUNCE, INVALID_EMAIL, unsubscribes) stay. 100 per job
// request.
func (s *SubscriptionsService) Unsuppress(ctx context.Context, emails []string) ([]ItemResult, error) {
	return s.suppression(ctx, EndpointUnsuppress, "/api/profile-suppression-bulk-delete-jobs", "profile-suppression-bulk-delete-job", emails)
}

func (s *SubscriptionsService) suppression(ctx context.Context, ep Endpoint, path, typ string, emails []string) ([]ItemResult, error) {
	out := make([]ItemResult, len(emails))
	var ready []indexed[map[string]any]
	for i, e := range emails {
		out[i] = ItemResult{Index: i}
		// Klaviyo refuses a job with one malformed email whole: refuse it
		// alone, so that the others of its request apply.
		if !deletionEmailRE.MatchString(e) {
			out[i].Outcome, out[i].Err = Failed, invalid(fmt.Sprintf("emails[%d]", i), e, "not an email address")
			continue
		}
		ready = append(ready, indexed[map[string]any]{i, map[string]any{"type": "profile", "attributes": map[string]any{"email": e}}})
	}
	return s.job(ctx, ep, path, typ, MaxSuppressPerRequest, "", nil, ready, out)
}

// job sends profiles in chunks of at most max as bulk job requests of type
// typ, with a list relationship when listID is set. All these jobs are
// idempotent by nature (the same consent or suppression again changes
// nothing), so they are retried.
func (s *SubscriptionsService) job(ctx context.Context, ep Endpoint, path, typ string, max int, listID string,
	extra func(map[string]any), ready []indexed[map[string]any], out []ItemResult) ([]ItemResult, error) {
	w := bulk.Writer[indexed[map[string]any]]{
		Max:      bulk.Limits{Items: max},
		InFlight: s.c.inFlight,
		Send: func(ctx context.Context, ch *bulk.Chunk[indexed[map[string]any]]) error {
			profiles := make([]map[string]any, len(ch.Items))
			for i, it := range ch.Items {
				profiles[i] = it.v
			}
			attrs := map[string]any{"profiles": map[string]any{"data": profiles}}
			if extra != nil {
				extra(attrs)
			}
			r := resource[map[string]any]{Type: typ, Attributes: attrs}
			if listID != "" {
				r.Relationships = map[string]relationship{"list": relOne("list", listID)}
			}
			_, err := s.c.do(ctx, &call{ep: ep, method: http.MethodPost, path: path,
				body: document[resource[map[string]any]]{r}, retry: transport.RetryIdempotent})
			return err
		},
	}
	return runItems(ctx, &w, ready, func(x indexed[map[string]any]) int { return x.idx }, out)
}
