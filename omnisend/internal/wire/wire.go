// Package wire holds the JSON shapes of Omnisend's API version 2026-03-15
// that the client sends and decodes and the fake decodes and answers, so
// that both read the spec the same way. The client's public types use
// time.Time and typed constants instead.
package wire

// Channel is a channel's subscription status (Channel,
// ContactChannelRequest).
type Channel struct {
	Status          string `json:"status"`
	StatusChangedAt string `json:"statusChangedAt,omitempty"`
}

// ConsentRequest is ContactConsentRequest.
type ConsentRequest struct {
	CreatedAt string `json:"createdAt,omitempty"`
	IP        string `json:"ip,omitempty"`
	Source    string `json:"source,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// IdentifierRequest is ContactIdentifierRequest.
type IdentifierRequest struct {
	Type               string             `json:"type"`
	ID                 string             `json:"id"`
	Channels           map[string]Channel `json:"channels,omitempty"`
	Consent            *ConsentRequest    `json:"consent,omitempty"`
	SendWelcomeMessage *bool              `json:"sendWelcomeMessage,omitempty"`
	Source             string             `json:"source,omitempty"`
}

// Fields are the writable contact fields requests and responses share.
type Fields struct {
	FirstName        string         `json:"firstName,omitempty"`
	LastName         string         `json:"lastName,omitempty"`
	Address          string         `json:"address,omitempty"`
	City             string         `json:"city,omitempty"`
	State            string         `json:"state,omitempty"`
	PostalCode       string         `json:"postalCode,omitempty"`
	Country          string         `json:"country,omitempty"`
	CountryCode      string         `json:"countryCode,omitempty"`
	Birthdate        string         `json:"birthdate,omitempty"`
	Gender           string         `json:"gender,omitempty"`
	Tags             []string       `json:"tags,omitempty"`
	CustomProperties map[string]any `json:"customProperties,omitempty"`
}

// ContactRequest is ContactRequest. CreatedAt is stored by Omnisend as
// the custom property externalCreated.
type ContactRequest struct {
	Identifiers []IdentifierRequest `json:"identifiers,omitempty"`
	Fields
	CreatedAt string `json:"createdAt,omitempty"`
}

// Identifier is an identifier of a ContactResponse.
type Identifier struct {
	Type     string             `json:"type"`
	ID       string             `json:"id"`
	Channels map[string]Channel `json:"channels,omitempty"`
}

// Status is ContactStatus.
type Status struct {
	Channel         string `json:"channel"`
	Status          string `json:"status"`
	StatusChangedAt string `json:"statusChangedAt"`
}

// Consent is Consent.
type Consent struct {
	Channel   string `json:"channel"`
	CreatedAt string `json:"createdAt"`
	IP        string `json:"ip,omitempty"`
	Source    string `json:"source,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

// OptIn is OptIn.
type OptIn struct {
	Channel string `json:"channel"`
	OptInAt string `json:"optInAt"`
}

// Contact is ContactResponse.
type Contact struct {
	ID          string       `json:"id"`
	Email       string       `json:"email,omitempty"`
	Phone       []string     `json:"phone"`
	Status      string       `json:"status,omitempty"`
	Identifiers []Identifier `json:"identifiers"`
	Fields
	Segments  []string  `json:"segments"`
	Statuses  []Status  `json:"statuses"`
	Consents  []Consent `json:"consents"`
	OptIns    []OptIn   `json:"optIns"`
	CreatedAt string    `json:"createdAt"`
	UpdatedAt string    `json:"updatedAt"`
}

// EventContact is contactDto.Contact, as far as the client sends it.
type EventContact struct {
	ID               string         `json:"id,omitempty"`
	Email            string         `json:"email,omitempty"`
	Phone            string         `json:"phone,omitempty"`
	FirstName        string         `json:"firstName,omitempty"`
	LastName         string         `json:"lastName,omitempty"`
	Tags             []string       `json:"tags,omitempty"`
	CustomProperties map[string]any `json:"customProperties,omitempty"`
}

// Event is EventRequest.
type Event struct {
	EventName    string         `json:"eventName"`
	Origin       string         `json:"origin"`
	EventVersion string         `json:"eventVersion,omitempty"`
	EventID      string         `json:"eventID,omitempty"`
	EventTime    string         `json:"eventTime,omitempty"`
	Contact      *EventContact  `json:"contact,omitempty"`
	Properties   map[string]any `json:"properties,omitempty"`
}

// Tags is AddTagsRequest and RemoveTagsRequest.
type Tags struct {
	ContactIDs []string `json:"contactIDs,omitempty"`
	Emails     []string `json:"emails,omitempty"`
	Phones     []string `json:"phones,omitempty"`
	SegmentID  string   `json:"segmentID,omitempty"`
	Tags       []string `json:"tags"`
}

// ChannelOf is the channel an identifier type carries: email for
// "email", sms for "phone".
func ChannelOf(idType string) string {
	if idType == "phone" {
		return "sms"
	}
	return idType
}
