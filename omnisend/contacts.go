package omnisend

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/pager"
	"github.com/shopcrm/shopcrm/internal/transport"
	"github.com/shopcrm/shopcrm/omnisend/internal/wire"
)

// ContactsService creates, reads, updates and lists contacts.
type ContactsService struct{ c *Client }

// Status is the subscription status of a channel.
type Status string

// Channel subscription statuses.
const (
	Subscribed    Status = "subscribed"
	Unsubscribed  Status = "unsubscribed"
	NonSubscribed Status = "nonSubscribed"
)

func (s Status) valid() bool { return s == Subscribed || s == Unsubscribed || s == NonSubscribed }

// IdentifierType is the kind of a contact identifier.
type IdentifierType string

// Identifier types. An email identifier carries the "email" channel, a
// phone identifier the "sms" channel.
const (
	EmailID IdentifierType = "email"
	PhoneID IdentifierType = "phone"
)

// Channel returns the channel an identifier of type t carries: "email" or
// "sms".
func (t IdentifierType) Channel() string {
	if t == PhoneID {
		return "sms"
	}
	return string(t)
}

// Gender is a contact's gender as Omnisend stores it.
type Gender string

// Genders.
const (
	Male   Gender = "m"
	Female Gender = "f"
)

// Consent records how a contact consented on an identifier's channel.
type Consent struct {
	CreatedAt time.Time // zero: Omnisend uses the current time
	IP        string
	Source    string // e.g. "omnisend-form", "api"
	UserAgent string
}

// Identifier is a contact's email address or phone number (E.164, e.g.
// "+15551234567") with the status of its channel. No two contacts share an
// identifier: Omnisend ignores an identifier another contact holds.
type Identifier struct {
	Type IdentifierType
	ID   string
	// Status of the identifier's channel; empty sends no channel (a
	// contact update then leaves the status as it is).
	Status          Status
	StatusChangedAt time.Time // optional
	Consent         *Consent  // optional
	// SendWelcomeMessage: nil leaves Omnisend's default (true, when the
	// welcome workflow is enabled).
	SendWelcomeMessage *bool
	Source             string // optional
}

// Email returns an email identifier with a channel status (empty for none).
func Email(address string, status Status) Identifier {
	return Identifier{Type: EmailID, ID: address, Status: status}
}

// Phone returns a phone identifier (E.164) with an SMS channel status.
func Phone(number string, status Status) Identifier {
	return Identifier{Type: PhoneID, ID: number, Status: status}
}

// ContactInput is what a create or an update sends. Empty fields are not
// sent, so an update leaves them as they are (Omnisend offers no way to
// clear a field through this input).
type ContactInput struct {
	Identifiers []Identifier
	FirstName   string
	LastName    string
	Address     string
	City        string
	State       string
	PostalCode  string
	Country     string // a name; CountryCode wins when both are set
	CountryCode string // ISO 3166-1 alpha-2
	Birthdate   string // YYYY-MM-DD
	Gender      Gender
	// CreatedAt, when set, is stored by Omnisend as the custom property
	// "externalCreated".
	CreatedAt time.Time
	// Tags (at most 100). Omnisend advises a source tag such as
	// "source: shopify" on new contacts.
	Tags []string
	// CustomProperties are free-form: strings, numbers, booleans, arrays.
	CustomProperties map[string]any
}

// ChannelState is a channel's latest status.
type ChannelState struct {
	Channel         string // "email" or "sms"
	Status          Status
	StatusChangedAt time.Time
}

// ConsentRecord is a consent Omnisend holds for a channel.
type ConsentRecord struct {
	Channel   string
	CreatedAt time.Time
	IP        string
	Source    string
	UserAgent string
}

// OptIn is an opt-in Omnisend recorded for a channel.
type OptIn struct {
	Channel string
	At      time.Time
}

// ContactIdentifier is an identifier as Omnisend returns it.
type ContactIdentifier struct {
	Type     IdentifierType
	ID       string
	Channels map[string]ChannelState // by channel name
}

// Contact is a contact as Omnisend returns it.
type Contact struct {
	ID          string
	Email       string   // the primary email
	Phone       []string // the phone identifiers
	Status      Status   // of the primary email's channel
	Identifiers []ContactIdentifier
	FirstName   string
	LastName    string
	Address     string
	City        string
	State       string
	PostalCode  string
	Country     string
	CountryCode string
	Birthdate   string
	Gender      Gender
	Tags        []string
	// CustomProperties as Omnisend returns them (numbers are float64).
	CustomProperties map[string]any
	Segments         []string
	Statuses         []ChannelState
	Consents         []ConsentRecord
	OptIns           []OptIn
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Upsert creates a contact, or updates the contact holding its email
// identifier. created reports which (201 or 200). A contact must carry at
// least one identifier; an input with an email is safe to retry (the
// retry updates what the first attempt created, and then reports an
// update), one without is retried only when refused with a 429.
//
//spec:openapi POST /contacts
func (s *ContactsService) Upsert(ctx context.Context, in *ContactInput) (c *Contact, created bool, r *Response, err error) {
	if err := checkInput(in, true); err != nil {
		return nil, false, nil, err
	}
	retry := transport.RetryIfRefused
	for _, id := range in.Identifiers {
		if id.Type == EmailID {
			retry = transport.RetryIdempotent
		}
	}
	var w wire.Contact
	r, err = s.c.do(ctx, &call{op: "upsertContact", method: http.MethodPost, path: "/contacts", body: in.wire(), retry: retry, out: &w})
	if err != nil {
		return nil, false, r, err
	}
	return contactOf(&w), r.Status == http.StatusCreated, r, nil
}

// Get reads a contact by id.
//
//spec:openapi GET /contacts/{id}
func (s *ContactsService) Get(ctx context.Context, id string) (*Contact, *Response, error) {
	if err := checkID("id", id); err != nil {
		return nil, nil, err
	}
	var w wire.Contact
	r, err := s.c.do(ctx, &call{op: "getContact", method: http.MethodGet, path: "/contacts/" + url.PathEscape(id), retry: transport.RetryIdempotent, out: &w})
	if err != nil {
		return nil, r, err
	}
	return contactOf(&w), r, nil
}

// Update changes the contact with the given id. An identifier another
// contact holds ends it with an error matching ErrIdentifierConflict.
// Updates set fields, so they are retried.
//
//spec:openapi PATCH /contacts/{id}
func (s *ContactsService) Update(ctx context.Context, id string, in *ContactInput) (*Contact, *Response, error) {
	if err := checkID("id", id); err != nil {
		return nil, nil, err
	}
	return s.update(ctx, "updateContact", "/contacts/"+url.PathEscape(id), nil, in)
}

// UpdateByEmail changes the contact whose email is email (ErrNotFound when
// none is); identifier conflicts as in Update.
//
//spec:openapi PATCH /contacts
func (s *ContactsService) UpdateByEmail(ctx context.Context, email string, in *ContactInput) (*Contact, *Response, error) {
	if err := checkEmail("email", email); err != nil {
		return nil, nil, err
	}
	return s.update(ctx, "updateContactByEmail", "/contacts", url.Values{"email": {email}}, in)
}

func (s *ContactsService) update(ctx context.Context, op, path string, q url.Values, in *ContactInput) (*Contact, *Response, error) {
	if err := checkInput(in, false); err != nil {
		return nil, nil, err
	}
	var w wire.Contact
	r, err := s.c.do(ctx, &call{op: op, method: http.MethodPatch, path: path, query: q, body: in.wire(), retry: transport.RetryIdempotent, out: &w})
	if err != nil {
		return nil, r, err
	}
	return contactOf(&w), r, nil
}

// SortField orders a contact listing.
type SortField string

// Sort fields.
const (
	SortCreatedAt SortField = "createdAt"
	SortUpdatedAt SortField = "updatedAt"
)

// ListOptions filter and order a contact listing. Omnisend allows these
// combinations only: Tag and Status not together, and UpdatedSince with
// no other filter; the client refuses others before sending.
type ListOptions struct {
	Email        string
	Phone        string
	Status       Status
	SegmentID    string
	Tag          string
	UpdatedSince time.Time // updatedAtFrom
	Sort         SortField // default createdAt as Omnisend orders
	Ascending    bool      // default descending, as Omnisend
	// PageSize is the contacts per request, 1 to 250; 0 means 250.
	PageSize int
	// After starts after this cursor (a ContactPage.After kept from an
	// earlier listing); empty starts at the beginning.
	After string
}

// ContactPage is one page of a listing.
type ContactPage struct {
	Contacts []Contact
	After    string // cursor of the next page
	Before   string // cursor of the previous page
	HasMore  bool
}

// MaxPageSize is the largest page Omnisend serves.
const MaxPageSize = 250

func (o *ListOptions) query(cursor string) (url.Values, error) {
	q := url.Values{}
	n := o.PageSize
	if n == 0 {
		n = MaxPageSize
	}
	if n < 1 || n > MaxPageSize {
		return nil, &InputError{Field: "ListOptions.PageSize", Value: strconv.Itoa(o.PageSize), Reason: "must be 1 to 250"}
	}
	q.Set("limit", strconv.Itoa(n))
	if o.Tag != "" && o.Status != "" {
		return nil, invalid("ListOptions.Tag", "Omnisend does not filter by tag and status together")
	}
	if !o.UpdatedSince.IsZero() && (o.Email != "" || o.Phone != "" || o.Status != "" || o.SegmentID != "" || o.Tag != "") {
		return nil, invalid("ListOptions.UpdatedSince", "Omnisend does not combine updatedAtFrom with other filters")
	}
	if o.Status != "" && !o.Status.valid() {
		return nil, &InputError{Field: "ListOptions.Status", Value: string(o.Status), Reason: "must be subscribed, unsubscribed or nonSubscribed"}
	}
	switch o.Sort {
	case "":
	case SortCreatedAt, SortUpdatedAt:
		q.Set("sort", string(o.Sort))
	default:
		return nil, &InputError{Field: "ListOptions.Sort", Value: string(o.Sort), Reason: "must be createdAt or updatedAt"}
	}
	if o.Ascending {
		q.Set("direction", "asc")
	}
	for k, v := range map[string]string{"email": o.Email, "phone": o.Phone, "status": string(o.Status), "segmentID": o.SegmentID, "tag": o.Tag} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !o.UpdatedSince.IsZero() {
		q.Set("updatedAtFrom", o.UpdatedSince.UTC().Format(time.RFC3339))
	}
	if cursor != "" {
		q.Set("after", cursor)
	}
	return q, nil
}

// ListPage reads one page of contacts, after the cursor (empty: the
// first page).
//
//spec:openapi GET /contacts
func (s *ContactsService) ListPage(ctx context.Context, opts ListOptions, after string) (*ContactPage, *Response, error) {
	q, err := opts.query(after)
	if err != nil {
		return nil, nil, err
	}
	var w struct {
		Contacts []wire.Contact `json:"contacts"`
		Paging   struct {
			HasMore bool `json:"hasMore"`
			Cursors struct {
				After  *string `json:"after"`
				Before *string `json:"before"`
			} `json:"cursors"`
		} `json:"paging"`
	}
	r, err := s.c.do(ctx, &call{op: "listContacts", method: http.MethodGet, path: "/contacts", query: q, retry: transport.RetryIdempotent, out: &w})
	if err != nil {
		return nil, r, err
	}
	p := &ContactPage{HasMore: w.Paging.HasMore, Contacts: make([]Contact, len(w.Contacts))}
	for i := range w.Contacts {
		p.Contacts[i] = *contactOf(&w.Contacts[i])
	}
	if w.Paging.Cursors.After != nil {
		p.After = *w.Paging.Cursors.After
	}
	if w.Paging.Cursors.Before != nil {
		p.Before = *w.Paging.Cursors.Before
	}
	if p.HasMore && p.After == "" {
		return nil, r, &shopcrm.ResponseError{Op: "GET /contacts", Reason: "hasMore without an after cursor"}
	}
	return p, r, nil
}

// List iterates over the contacts matching opts, page after page, from
// opts.After. Bad options end it at once with an *InputError.
func (s *ContactsService) List(ctx context.Context, opts ListOptions) iter.Seq2[Contact, error] {
	return pager.From(ctx, opts, opts.After, func(ctx context.Context, o ListOptions, cursor string) ([]Contact, string, bool, error) {
		p, _, err := s.ListPage(ctx, o, cursor)
		if err != nil {
			return nil, "", false, err
		}
		return p.Contacts, p.After, p.HasMore, nil
	})
}

// checkInput validates a contact input; create requires an identifier.
func checkInput(in *ContactInput, create bool) error {
	if in == nil {
		return invalid("ContactInput", "nil")
	}
	if create && len(in.Identifiers) == 0 {
		return invalid("Identifiers", "a contact needs an email or phone identifier")
	}
	for i, id := range in.Identifiers {
		f := "Identifiers[" + strconv.Itoa(i) + "]"
		switch id.Type {
		case EmailID:
			if err := checkEmail(f+".ID", id.ID); err != nil {
				return err
			}
		case PhoneID:
			if err := checkPhone(f+".ID", id.ID); err != nil {
				return err
			}
		default:
			return &InputError{Field: f + ".Type", Value: string(id.Type), Reason: "must be email or phone"}
		}
		if id.Status != "" && !id.Status.valid() {
			return &InputError{Field: f + ".Status", Value: string(id.Status), Reason: "must be subscribed, unsubscribed or nonSubscribed"}
		}
		if id.Status == "" && !id.StatusChangedAt.IsZero() {
			return invalid(f+".StatusChangedAt", "set without a Status")
		}
	}
	if in.Gender != "" && in.Gender != Male && in.Gender != Female {
		return &InputError{Field: "Gender", Value: string(in.Gender), Reason: "must be m or f"}
	}
	if in.Birthdate != "" {
		if _, err := time.Parse(time.DateOnly, in.Birthdate); err != nil {
			return &InputError{Field: "Birthdate", Value: in.Birthdate, Reason: "must be YYYY-MM-DD"}
		}
	}
	if in.CountryCode != "" && (len(in.CountryCode) != 2 || strings.ToUpper(in.CountryCode) != in.CountryCode) {
		return &InputError{Field: "CountryCode", Value: in.CountryCode, Reason: "must be an ISO 3166-1 alpha-2 code"}
	}
	return checkTags("Tags", in.Tags, MaxTagsPerCall)
}

func checkID(field, id string) error {
	if id == "" || strings.ContainsAny(id, "/?#") || strings.TrimSpace(id) != id {
		return &InputError{Field: field, Value: id, Reason: "must be a contact id"}
	}
	return nil
}

func checkEmail(field, e string) error {
	at := strings.LastIndexByte(e, '@')
	if at < 1 || at == len(e)-1 || strings.ContainsFunc(e, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return &InputError{Field: field, Value: e, Reason: "must be an email address"}
	}
	return nil
}

// checkPhone accepts E.164: "+" and 7 to 15 digits, the first not 0.
func checkPhone(field, p string) error {
	d, ok := strings.CutPrefix(p, "+")
	good := ok && len(d) >= 7 && len(d) <= 15 && d[0] != '0'
	for i := 0; good && i < len(d); i++ {
		good = d[i] >= '0' && d[i] <= '9'
	}
	if !good {
		return &InputError{Field: field, Value: p, Reason: "must be an E.164 phone number such as +15551234567"}
	}
	return nil
}
