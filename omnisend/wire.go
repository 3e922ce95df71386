package omnisend

import "time"

// The JSON shapes of the 2026-03-15 contacts API; the public types use
// time.Time and typed constants instead.

type wireChannel struct {
	Status          Status `json:"status"`
	StatusChangedAt string `json:"statusChangedAt,omitempty"`
}

type wireConsentIn struct {
	CreatedAt string `json:"createdAt,omitempty"`
	IP        string `json:"ip,omitempty"`
	Source    string `json:"source,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
}

type wireIdentifierIn struct {
	Type               IdentifierType         `json:"type"`
	ID                 string                 `json:"id"`
	Channels           map[string]wireChannel `json:"channels,omitempty"`
	Consent            *wireConsentIn         `json:"consent,omitempty"`
	SendWelcomeMessage *bool                  `json:"sendWelcomeMessage,omitempty"`
	Source             string                 `json:"source,omitempty"`
}

type wireContactIn struct {
	Identifiers      []wireIdentifierIn `json:"identifiers,omitempty"`
	FirstName        string             `json:"firstName,omitempty"`
	LastName         string             `json:"lastName,omitempty"`
	Address          string             `json:"address,omitempty"`
	City             string             `json:"city,omitempty"`
	State            string             `json:"state,omitempty"`
	PostalCode       string             `json:"postalCode,omitempty"`
	Country          string             `json:"country,omitempty"`
	CountryCode      string             `json:"countryCode,omitempty"`
	Birthdate        string             `json:"birthdate,omitempty"`
	Gender           Gender             `json:"gender,omitempty"`
	CreatedAt        string             `json:"createdAt,omitempty"`
	Tags             []string           `json:"tags,omitempty"`
	CustomProperties map[string]any     `json:"customProperties,omitempty"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func (in *ContactInput) wire() *wireContactIn {
	w := &wireContactIn{
		FirstName: in.FirstName, LastName: in.LastName, Address: in.Address, City: in.City, State: in.State,
		PostalCode: in.PostalCode, Country: in.Country, CountryCode: in.CountryCode, Birthdate: in.Birthdate,
		Gender: in.Gender, CreatedAt: rfc3339(in.CreatedAt), Tags: in.Tags, CustomProperties: in.CustomProperties,
	}
	for _, id := range in.Identifiers {
		wi := wireIdentifierIn{Type: id.Type, ID: id.ID, SendWelcomeMessage: id.SendWelcomeMessage, Source: id.Source}
		if id.Status != "" {
			wi.Channels = map[string]wireChannel{id.Type.Channel(): {Status: id.Status, StatusChangedAt: rfc3339(id.StatusChangedAt)}}
		}
		if c := id.Consent; c != nil {
			wi.Consent = &wireConsentIn{CreatedAt: rfc3339(c.CreatedAt), IP: c.IP, Source: c.Source, UserAgent: c.UserAgent}
		}
		w.Identifiers = append(w.Identifiers, wi)
	}
	return w
}

type wireContact struct {
	ID          string   `json:"id"`
	Email       string   `json:"email"`
	Phone       []string `json:"phone"`
	Status      Status   `json:"status"`
	Identifiers []struct {
		Type     IdentifierType         `json:"type"`
		ID       string                 `json:"id"`
		Channels map[string]wireChannel `json:"channels"`
	} `json:"identifiers"`
	FirstName        string         `json:"firstName"`
	LastName         string         `json:"lastName"`
	Address          string         `json:"address"`
	City             string         `json:"city"`
	State            string         `json:"state"`
	PostalCode       string         `json:"postalCode"`
	Country          string         `json:"country"`
	CountryCode      string         `json:"countryCode"`
	Birthdate        string         `json:"birthdate"`
	Gender           Gender         `json:"gender"`
	Tags             []string       `json:"tags"`
	CustomProperties map[string]any `json:"customProperties"`
	Segments         []string       `json:"segments"`
	Statuses         []struct {
		Channel         string `json:"channel"`
		Status          Status `json:"status"`
		StatusChangedAt string `json:"statusChangedAt"`
	} `json:"statuses"`
	Consents []struct {
		Channel   string `json:"channel"`
		CreatedAt string `json:"createdAt"`
		IP        string `json:"ip"`
		Source    string `json:"source"`
		UserAgent string `json:"userAgent"`
	} `json:"consents"`
	OptIns []struct {
		Channel string `json:"channel"`
		OptInAt string `json:"optInAt"`
	} `json:"optIns"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

func (w *wireContact) contact() *Contact {
	c := &Contact{
		ID: w.ID, Email: w.Email, Phone: w.Phone, Status: w.Status, FirstName: w.FirstName, LastName: w.LastName,
		Address: w.Address, City: w.City, State: w.State, PostalCode: w.PostalCode, Country: w.Country,
		CountryCode: w.CountryCode, Birthdate: w.Birthdate, Gender: w.Gender, Tags: w.Tags,
		CustomProperties: w.CustomProperties, Segments: w.Segments,
		CreatedAt: parseTime(w.CreatedAt), UpdatedAt: parseTime(w.UpdatedAt),
	}
	for _, id := range w.Identifiers {
		ci := ContactIdentifier{Type: id.Type, ID: id.ID}
		for ch, st := range id.Channels {
			if ci.Channels == nil {
				ci.Channels = map[string]ChannelState{}
			}
			ci.Channels[ch] = ChannelState{Channel: ch, Status: st.Status, StatusChangedAt: parseTime(st.StatusChangedAt)}
		}
		c.Identifiers = append(c.Identifiers, ci)
	}
	for _, s := range w.Statuses {
		c.Statuses = append(c.Statuses, ChannelState{Channel: s.Channel, Status: s.Status, StatusChangedAt: parseTime(s.StatusChangedAt)})
	}
	for _, s := range w.Consents {
		c.Consents = append(c.Consents, ConsentRecord{Channel: s.Channel, CreatedAt: parseTime(s.CreatedAt), IP: s.IP, Source: s.Source, UserAgent: s.UserAgent})
	}
	for _, o := range w.OptIns {
		c.OptIns = append(c.OptIns, OptIn{Channel: o.Channel, At: parseTime(o.OptInAt)})
	}
	return c
}
