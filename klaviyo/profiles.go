package klaviyo

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// ProfilesService reads and writes profiles.
type ProfilesService struct{ c *Client }

// ProfileListOptions select and shape a listing of profiles.
type ProfileListOptions struct {
	// Filter is checked against what GET /api/profiles allows: id, email,
	// phone_number, external_id (equals, any), _kx (equals), created and
	// updated (greater-than, less-than) and the email suppression fields.
	Filter Filter
	// PageSize is profiles per request, 1 to 100 (0: Klaviyo's 20).
	PageSize int
	// Sort is a field to sort by, "-" first for descending ("-created").
	Sort string
	// Subscriptions asks for each profile's consent and suppressions.
	Subscriptions bool
}

var profileSorts = []string{"created", "email", "id", "updated",
	"subscriptions.email.marketing.list_suppressions.timestamp", "subscriptions.email.marketing.suppression.timestamp"}

func checkSort(s string, allowed []string) error {
	if s == "" {
		return nil
	}
	for _, a := range allowed {
		if strings.TrimPrefix(s, "-") == a {
			return nil
		}
	}
	return invalid("Sort", s, "must be one of %s, optionally with a leading -", strings.Join(allowed, ", "))
}

// List returns every profile matching opts, following links.next.
func (s *ProfilesService) List(ctx context.Context, opts ProfileListOptions) iter.Seq2[Profile, error] {
	q := url.Values{}
	if err := profileRules.apply(q, opts.Filter); err != nil {
		return failSeq[Profile](err)
	}
	if err := pageSize(q, opts.PageSize, 100); err != nil {
		return failSeq[Profile](err)
	}
	if err := checkSort(opts.Sort, profileSorts); err != nil {
		return failSeq[Profile](err)
	}
	if opts.Sort != "" {
		q.Set("sort", opts.Sort)
	}
	if opts.Subscriptions {
		q.Set("additional-fields[profile]", "subscriptions")
	}
	return pages(s.c, ctx, EndpointGetProfiles, "/api/profiles", q, toProfile)
}

// Get reads one profile, with its subscriptions when subscriptions is
// true.
func (s *ProfilesService) Get(ctx context.Context, id string, subscriptions bool) (*Profile, *Response, error) {
	if err := checkID("id", id); err != nil {
		return nil, nil, err
	}
	q := url.Values{}
	if subscriptions {
		q.Set("additional-fields[profile]", "subscriptions")
	}
	var doc document[resource[profileWire]]
	r, err := s.c.do(ctx, &call{ep: EndpointGetProfile, method: http.MethodGet, path: "/api/profiles/" + url.PathEscape(id),
		query: q, retry: transport.RetryIdempotent, out: &doc})
	if err != nil {
		return nil, r, err
	}
	p := toProfile(doc.Data)
	return &p, r, nil
}

// Create creates a profile. When one with the same email, phone number or
// external id exists, Klaviyo answers 409: the *APIError matches
// ErrDuplicateProfile and its DuplicateProfileID names the existing
// profile. A create is sent once: a lost answer is not retried (Upsert is
// the write that can be).
func (s *ProfilesService) Create(ctx context.Context, in ProfileInput) (*Profile, *Response, error) {
	if err := needIdentifier("ProfileInput", &in); err != nil {
		return nil, nil, err
	}
	if in.ID != "" {
		return nil, nil, invalid("ProfileInput.ID", in.ID, "Klaviyo assigns ids; use Update or Upsert for an existing profile")
	}
	if !in.Patch.empty() {
		return nil, nil, invalid("ProfileInput.Patch", "", "create takes no patch; use Upsert")
	}
	attrs, err := in.attributes("ProfileInput", true)
	if err != nil {
		return nil, nil, err
	}
	return s.write(ctx, EndpointCreateProfile, http.MethodPost, "/api/profiles",
		resource[map[string]any]{Type: "profile", Attributes: attrs}, transport.RetryIfRefused)
}

// Update changes profile in.ID: the fields set, the cleared ones and the
// patch; everything else is left as it is. Repeating it has the same
// effect, so it is retried (unless it patches array properties, which
// would append twice).
func (s *ProfilesService) Update(ctx context.Context, in ProfileInput) (*Profile, *Response, error) {
	if err := checkID("ProfileInput.ID", in.ID); err != nil {
		return nil, nil, err
	}
	attrs, err := in.attributes("ProfileInput", true)
	if err != nil {
		return nil, nil, err
	}
	retry := transport.RetryIdempotent
	if in.Patch.appends() {
		retry = transport.RetryIfRefused
	}
	return s.write(ctx, EndpointUpdateProfile, http.MethodPatch, "/api/profiles/"+url.PathEscape(in.ID),
		resource[map[string]any]{Type: "profile", ID: in.ID, Attributes: attrs, Meta: in.meta()}, retry)
}

// Upsert creates the profile or updates the one with its identifiers
// (POST /api/profile-import); created reports which. Like Update, it is
// retried unless it appends to array properties.
func (s *ProfilesService) Upsert(ctx context.Context, in ProfileInput) (p *Profile, created bool, r *Response, err error) {
	if err := needIdentifier("ProfileInput", &in); err != nil {
		return nil, false, nil, err
	}
	attrs, err := in.attributes("ProfileInput", true)
	if err != nil {
		return nil, false, nil, err
	}
	retry := transport.RetryIdempotent
	if in.Patch.appends() {
		retry = transport.RetryIfRefused
	}
	p, r, err = s.write(ctx, EndpointUpsertProfile, http.MethodPost, "/api/profile-import",
		resource[map[string]any]{Type: "profile", ID: in.ID, Attributes: attrs, Meta: in.meta()}, retry)
	return p, r != nil && r.Status == http.StatusCreated, r, err
}

func (s *ProfilesService) write(ctx context.Context, ep Endpoint, method, path string, body resource[map[string]any], retry transport.RetryClass) (*Profile, *Response, error) {
	var doc document[resource[profileWire]]
	r, err := s.c.do(ctx, &call{ep: ep, method: method, path: path, body: document[resource[map[string]any]]{body},
		retry: retry, out: &doc})
	if err != nil {
		return nil, r, err
	}
	p := toProfile(doc.Data)
	return &p, r, nil
}

// checkID refuses an empty id or one that is not a plain path segment.
func checkID(field, id string) error {
	if id == "" {
		return invalid(field, "", "empty")
	}
	if strings.ContainsAny(id, "/?#% \t\r\n") {
		return invalid(field, id, "not an id")
	}
	return nil
}
