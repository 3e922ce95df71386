package klaviyo

import "time"

// Profile is a Klaviyo profile as read back.
type Profile struct {
	ID           string
	Email        string
	PhoneNumber  string // E.164
	ExternalID   string
	FirstName    string
	LastName     string
	Organization string
	Locale       string
	Title        string
	Image        string
	Location     *Location
	// Properties are the custom properties.
	Properties    map[string]any
	Created       time.Time
	Updated       time.Time
	LastEventDate time.Time
	// Subscriptions is the consent and suppression state, read when asked
	// for (additional-fields[profile]=subscriptions); nil otherwise.
	Subscriptions *Subscriptions
	// JoinedGroupAt is when the profile joined the list or segment it was
	// read from as a member; zero elsewhere.
	JoinedGroupAt time.Time
}

// Location is a profile's address and coordinates.
type Location struct {
	Address1  string   `json:"address1,omitempty"`
	Address2  string   `json:"address2,omitempty"`
	City      string   `json:"city,omitempty"`
	Country   string   `json:"country,omitempty"`
	Region    string   `json:"region,omitempty"`
	Zip       string   `json:"zip,omitempty"`
	Timezone  string   `json:"timezone,omitempty"`
	IP        string   `json:"ip,omitempty"`
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`
}

// Consent is a channel's consent state.
type Consent string

// Consent states Klaviyo reports.
const (
	ConsentSubscribed      Consent = "SUBSCRIBED"
	ConsentUnsubscribed    Consent = "UNSUBSCRIBED"
	ConsentNeverSubscribed Consent = "NEVER_SUBSCRIBED"
)

// SuppressionReason is why a profile cannot receive email marketing.
type SuppressionReason string

// Suppression reasons of the spec.
const (
	SuppressionHardBounce     SuppressionReason = "HARD_BOUNCE"
	SuppressionInvalidEmail   SuppressionReason = "INVALID_EMAIL"
	SuppressionSpamComplaint  SuppressionReason = "SPAM_COMPLAINT"
	SuppressionUnsubscribe    SuppressionReason = "UNSUBSCRIBE"
	SuppressionUserSuppressed SuppressionReason = "USER_SUPPRESSED"
)

// Subscriptions is a profile's consent per channel.
type Subscriptions struct {
	Email EmailMarketing
	SMS   SMSMarketing
}

// EmailMarketing is the email marketing consent and its suppressions.
type EmailMarketing struct {
	CanReceive       bool
	Consent          Consent
	ConsentTimestamp time.Time
	Method           string
	MethodDetail     string
	DoubleOptIn      bool
	// Suppressions stop all email marketing (a hard bounce, a global
	// unsubscribe, a manual suppression).
	Suppressions []Suppression
	// ListSuppressions stop email from one list only.
	ListSuppressions []ListSuppression
}

// SMSMarketing is the SMS marketing consent.
type SMSMarketing struct {
	CanReceive       bool
	Consent          Consent
	ConsentTimestamp time.Time
}

// Suppression is one reason a profile receives no email marketing.
type Suppression struct {
	Reason    SuppressionReason
	Timestamp time.Time
}

// ListSuppression is one reason a profile receives no email from a list.
type ListSuppression struct {
	ListID    string
	Reason    SuppressionReason
	Timestamp time.Time
}

// Suppressed reports whether a suppression with reason r holds.
func (e EmailMarketing) Suppressed(r SuppressionReason) bool {
	for _, s := range e.Suppressions {
		if s.Reason == r {
			return true
		}
	}
	return false
}

// ProfileField names a standard profile attribute, for [ProfileInput.Clear].
type ProfileField string

// The standard attributes a write can clear.
const (
	FieldEmail        ProfileField = "email"
	FieldPhoneNumber  ProfileField = "phone_number"
	FieldExternalID   ProfileField = "external_id"
	FieldFirstName    ProfileField = "first_name"
	FieldLastName     ProfileField = "last_name"
	FieldOrganization ProfileField = "organization"
	FieldLocale       ProfileField = "locale"
	FieldTitle        ProfileField = "title"
	FieldImage        ProfileField = "image"
	FieldLocation     ProfileField = "location"
	FieldProperties   ProfileField = "properties"
)

// ProfileInput is what a write sends. Empty fields are left out, so the
// profile keeps its value; Clear lists the attributes to set to null.
type ProfileInput struct {
	// ID names the profile to write (update, upsert, import); Klaviyo
	// matches on email, phone number or external id otherwise.
	ID           string
	Email        string
	PhoneNumber  string // E.164, "+15005550006"
	ExternalID   string
	FirstName    string
	LastName     string
	Organization string
	Locale       string // BCP 47
	Title        string
	Image        string
	Location     *Location
	// Properties are custom properties to set; keys not named are left as
	// they are.
	Properties map[string]any
	// Clear sets these attributes to null (create, update and upsert;
	// bulk imports ignore nulls, as Klaviyo does).
	Clear []ProfileField
	// Patch appends to, removes from or unsets custom properties (update,
	// upsert, import and events; not create).
	Patch *PatchProperties
}

// PatchProperties changes custom properties in place.
type PatchProperties struct {
	// Append adds values to array properties.
	Append map[string]any `json:"append,omitempty"`
	// Unappend removes values from array properties.
	Unappend map[string]any `json:"unappend,omitempty"`
	// Unset removes properties entirely.
	Unset []string `json:"unset,omitempty"`
}

// appends reports a patch that appends or unappends: sent twice, it
// would append twice.
func (p *PatchProperties) appends() bool {
	return p != nil && (len(p.Append) > 0 || len(p.Unappend) > 0)
}

func (p *PatchProperties) empty() bool {
	return p == nil || (len(p.Append) == 0 && len(p.Unappend) == 0 && len(p.Unset) == 0)
}

// hasIdentifier reports whether the input names a profile.
func (in *ProfileInput) hasIdentifier() bool {
	return in.ID != "" || in.Email != "" || in.PhoneNumber != "" || in.ExternalID != ""
}

// attributes returns the wire attributes: the fields set, and nulls for
// Clear when nulls is true.
func (in *ProfileInput) attributes(field string, nulls bool) (map[string]any, error) {
	a := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			a[k] = v
		}
	}
	set("email", in.Email)
	set("phone_number", in.PhoneNumber)
	set("external_id", in.ExternalID)
	set("first_name", in.FirstName)
	set("last_name", in.LastName)
	set("organization", in.Organization)
	set("locale", in.Locale)
	set("title", in.Title)
	set("image", in.Image)
	if in.Location != nil {
		a["location"] = in.Location
	}
	if len(in.Properties) > 0 {
		a["properties"] = in.Properties
	}
	if nulls {
		for _, f := range in.Clear {
			if _, ok := a[string(f)]; ok {
				return nil, invalid(field+".Clear", string(f), "the field is both set and cleared")
			}
			if !knownField(f) {
				return nil, invalid(field+".Clear", string(f), "not a profile attribute")
			}
			a[string(f)] = nil
		}
	}
	return a, nil
}

func knownField(f ProfileField) bool {
	switch f {
	case FieldEmail, FieldPhoneNumber, FieldExternalID, FieldFirstName, FieldLastName, FieldOrganization,
		FieldLocale, FieldTitle, FieldImage, FieldLocation, FieldProperties:
		return true
	}
	return false
}

func (in *ProfileInput) meta() map[string]any {
	if in.Patch.empty() {
		return nil
	}
	return map[string]any{"patch_properties": in.Patch}
}

// profileWire is a profile resource's attributes as read.
type profileWire struct {
	Email         string         `json:"email"`
	PhoneNumber   string         `json:"phone_number"`
	ExternalID    string         `json:"external_id"`
	FirstName     string         `json:"first_name"`
	LastName      string         `json:"last_name"`
	Organization  string         `json:"organization"`
	Locale        string         `json:"locale"`
	Title         string         `json:"title"`
	Image         string         `json:"image"`
	Location      *Location      `json:"location"`
	Properties    map[string]any `json:"properties"`
	Created       jtime          `json:"created"`
	Updated       jtime          `json:"updated"`
	LastEventDate jtime          `json:"last_event_date"`
	JoinedGroupAt jtime          `json:"joined_group_at"`
	Subscriptions *struct {
		Email *struct {
			Marketing *struct {
				CanReceive       bool    `json:"can_receive_email_marketing"`
				Consent          Consent `json:"consent"`
				ConsentTimestamp jtime   `json:"consent_timestamp"`
				Method           string  `json:"method"`
				MethodDetail     string  `json:"method_detail"`
				DoubleOptIn      bool    `json:"double_optin"`
				Suppression      []struct {
					Reason    SuppressionReason `json:"reason"`
					Timestamp jtime             `json:"timestamp"`
				} `json:"suppression"`
				ListSuppressions []struct {
					ListID    string            `json:"list_id"`
					Reason    SuppressionReason `json:"reason"`
					Timestamp jtime             `json:"timestamp"`
				} `json:"list_suppressions"`
			} `json:"marketing"`
		} `json:"email"`
		SMS *struct {
			Marketing *struct {
				CanReceive       bool    `json:"can_receive_sms_marketing"`
				Consent          Consent `json:"consent"`
				ConsentTimestamp jtime   `json:"consent_timestamp"`
			} `json:"marketing"`
		} `json:"sms"`
	} `json:"subscriptions"`
}

func toProfile(r resource[profileWire]) Profile {
	a := r.Attributes
	p := Profile{ID: r.ID, Email: a.Email, PhoneNumber: a.PhoneNumber, ExternalID: a.ExternalID,
		FirstName: a.FirstName, LastName: a.LastName, Organization: a.Organization, Locale: a.Locale,
		Title: a.Title, Image: a.Image, Location: a.Location, Properties: a.Properties,
		Created: a.Created.Time, Updated: a.Updated.Time, LastEventDate: a.LastEventDate.Time, JoinedGroupAt: a.JoinedGroupAt.Time}
	if p.Location != nil && *p.Location == (Location{}) {
		p.Location = nil
	}
	if s := a.Subscriptions; s != nil {
		p.Subscriptions = &Subscriptions{}
		if s.Email != nil && s.Email.Marketing != nil {
			m := s.Email.Marketing
			e := EmailMarketing{CanReceive: m.CanReceive, Consent: m.Consent, ConsentTimestamp: m.ConsentTimestamp.Time,
				Method: m.Method, MethodDetail: m.MethodDetail, DoubleOptIn: m.DoubleOptIn}
			for _, x := range m.Suppression {
				e.Suppressions = append(e.Suppressions, Suppression{x.Reason, x.Timestamp.Time})
			}
			for _, x := range m.ListSuppressions {
				e.ListSuppressions = append(e.ListSuppressions, ListSuppression{x.ListID, x.Reason, x.Timestamp.Time})
			}
			p.Subscriptions.Email = e
		}
		if s.SMS != nil && s.SMS.Marketing != nil {
			m := s.SMS.Marketing
			p.Subscriptions.SMS = SMSMarketing{CanReceive: m.CanReceive, Consent: m.Consent, ConsentTimestamp: m.ConsentTimestamp.Time}
		}
	}
	return p
}

// describe is a short description of a profile's identity for error
// values.
func (in *ProfileInput) describe() string {
	switch {
	case in.ID != "":
		return in.ID
	case in.Email != "":
		return in.Email
	case in.ExternalID != "":
		return in.ExternalID
	}
	return in.PhoneNumber
}

func needIdentifier(field string, in *ProfileInput) error {
	if !in.hasIdentifier() {
		return invalid(field, "", "needs an id, email, phone number or external id")
	}
	return nil
}
