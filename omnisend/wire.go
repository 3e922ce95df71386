package omnisend

import (
	"time"

	"github.com/shopcrm/shopcrm/omnisend/internal/wire"
)

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

// wire returns the ContactRequest a create or update sends for in.
func (in *ContactInput) wire() *wire.ContactRequest {
	w := &wire.ContactRequest{
		Fields: wire.Fields{FirstName: in.FirstName, LastName: in.LastName, Address: in.Address, City: in.City, State: in.State,
			PostalCode: in.PostalCode, Country: in.Country, CountryCode: in.CountryCode, Birthdate: in.Birthdate,
			Gender: string(in.Gender), Tags: in.Tags, CustomProperties: in.CustomProperties},
		CreatedAt: rfc3339(in.CreatedAt),
	}
	for _, id := range in.Identifiers {
		wi := wire.IdentifierRequest{Type: string(id.Type), ID: id.ID, SendWelcomeMessage: id.SendWelcomeMessage, Source: id.Source}
		if id.Status != "" {
			wi.Channels = map[string]wire.Channel{id.Type.Channel(): {Status: string(id.Status), StatusChangedAt: rfc3339(id.StatusChangedAt)}}
		}
		if c := id.Consent; c != nil {
			wi.Consent = &wire.ConsentRequest{CreatedAt: rfc3339(c.CreatedAt), IP: c.IP, Source: c.Source, UserAgent: c.UserAgent}
		}
		w.Identifiers = append(w.Identifiers, wi)
	}
	return w
}

// contactOf converts a ContactResponse.
func contactOf(w *wire.Contact) *Contact {
	f := &w.Fields
	c := &Contact{
		ID: w.ID, Email: w.Email, Phone: w.Phone, Status: Status(w.Status), FirstName: f.FirstName, LastName: f.LastName,
		Address: f.Address, City: f.City, State: f.State, PostalCode: f.PostalCode, Country: f.Country,
		CountryCode: f.CountryCode, Birthdate: f.Birthdate, Gender: Gender(f.Gender), Tags: f.Tags,
		CustomProperties: f.CustomProperties, Segments: w.Segments,
		CreatedAt: parseTime(w.CreatedAt), UpdatedAt: parseTime(w.UpdatedAt),
	}
	for _, id := range w.Identifiers {
		ci := ContactIdentifier{Type: IdentifierType(id.Type), ID: id.ID}
		for ch, st := range id.Channels {
			if ci.Channels == nil {
				ci.Channels = map[string]ChannelState{}
			}
			ci.Channels[ch] = ChannelState{Channel: ch, Status: Status(st.Status), StatusChangedAt: parseTime(st.StatusChangedAt)}
		}
		c.Identifiers = append(c.Identifiers, ci)
	}
	for _, s := range w.Statuses {
		c.Statuses = append(c.Statuses, ChannelState{Channel: s.Channel, Status: Status(s.Status), StatusChangedAt: parseTime(s.StatusChangedAt)})
	}
	for _, s := range w.Consents {
		c.Consents = append(c.Consents, ConsentRecord{Channel: s.Channel, CreatedAt: parseTime(s.CreatedAt), IP: s.IP, Source: s.Source, UserAgent: s.UserAgent})
	}
	for _, o := range w.OptIns {
		c.OptIns = append(c.OptIns, OptIn{Channel: o.Channel, At: parseTime(o.OptInAt)})
	}
	return c
}
