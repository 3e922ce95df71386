package klaviyo

import (
	"context"
	"net/http"
	"regexp"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// ProfileIdentifier names a profile by exactly one identifier, as
// Klaviyo's data-privacy endpoints take it: its id, its email address or
// its phone number.
type ProfileIdentifier struct {
	ID          string
	Email       string
	PhoneNumber string // E.164, "+15005550006"
}

var (
	deletionEmailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+$`)
	deletionPhoneRE = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
)

// check refuses anything but exactly one well-formed identifier: a
// malformed one would match no profile, and Klaviyo would accept the
// deletion of nothing without a word.
func (who ProfileIdentifier) check() error {
	n := 0
	for _, v := range []string{who.ID, who.Email, who.PhoneNumber} {
		if v != "" {
			n++
		}
	}
	switch {
	case n == 0:
		return invalid("ProfileIdentifier", "", "needs one of ID, Email or PhoneNumber")
	case n > 1:
		return invalid("ProfileIdentifier", "", "takes exactly one of ID, Email or PhoneNumber")
	case who.ID != "":
		return checkID("ProfileIdentifier.ID", who.ID)
	case who.Email != "" && !deletionEmailRE.MatchString(who.Email):
		return invalid("ProfileIdentifier.Email", who.Email, "not an email address")
	case who.PhoneNumber != "" && !deletionPhoneRE.MatchString(who.PhoneNumber):
		return invalid("ProfileIdentifier.PhoneNumber", who.PhoneNumber, "not an E.164 phone number")
	}
	return nil
}

// RequestDeletion asks Klaviyo to delete the profiles who names, for a
// GDPR or CCPA erasure request (POST /api/data-privacy-deletion-jobs,
// scope data-privacy:write). Klaviyo answers 202 and deletes later: until
// the job has run, the profile can still be read. Once deleted, the
// profile appears on the account's Deleted Profiles page; its events stay
// for reporting, with the customer's details redacted.
//
// The request is retried on network errors and 5xx even when it may
// already have acted: deleting a profile twice deletes it once, and the
// second request, for a profile already gone, is a deletion of nothing.
func (s *ProfilesService) RequestDeletion(ctx context.Context, who ProfileIdentifier) (*Response, error) {
	if err := who.check(); err != nil {
		return nil, err
	}
	profile := resource[map[string]any]{Type: "profile", ID: who.ID, Attributes: map[string]any{}}
	if who.Email != "" {
		profile.Attributes["email"] = who.Email
	}
	if who.PhoneNumber != "" {
		profile.Attributes["phone_number"] = who.PhoneNumber
	}
	job := resource[map[string]any]{Type: "data-privacy-deletion-job",
		Attributes: map[string]any{"profile": document[resource[map[string]any]]{profile}}}
	return s.c.do(ctx, &call{ep: EndpointRequestDeletion, method: http.MethodPost, path: "/api/data-privacy-deletion-jobs",
		body: document[resource[map[string]any]]{job}, retry: transport.RetryIdempotent})
}
