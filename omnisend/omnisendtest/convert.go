package omnisendtest

import (
	"bytes"
	"time"

	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/internal/wire"
)

// jsonOf is the ContactRequest a client would send for in.
func jsonOf(in *omnisend.ContactInput) (*wire.ContactRequest, error) {
	out := &wire.ContactRequest{Fields: wire.Fields{FirstName: in.FirstName, LastName: in.LastName, Address: in.Address, City: in.City,
		State: in.State, PostalCode: in.PostalCode, Country: in.Country, CountryCode: in.CountryCode, Birthdate: in.Birthdate,
		Gender: string(in.Gender), Tags: in.Tags, CustomProperties: in.CustomProperties}}
	if !in.CreatedAt.IsZero() {
		out.CreatedAt = in.CreatedAt.UTC().Format(time.RFC3339)
	}
	for _, id := range in.Identifiers {
		wi := wire.IdentifierRequest{Type: string(id.Type), ID: id.ID}
		if id.Status != "" {
			wi.Channels = map[string]wire.Channel{id.Type.Channel(): {Status: string(id.Status)}}
		}
		out.Identifiers = append(out.Identifiers, wi)
	}
	return out, nil
}

func parse(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// toContact is what the client decodes from c.
func toContact(c contact) omnisend.Contact {
	out := omnisend.Contact{ID: c.ID, Email: c.Email, Phone: c.Phone, Status: omnisend.Status(c.Status),
		FirstName: c.FirstName, LastName: c.LastName, Address: c.Address, City: c.City, State: c.State,
		PostalCode: c.PostalCode, Country: c.Country, CountryCode: c.CountryCode, Birthdate: c.Birthdate,
		Gender: omnisend.Gender(c.Gender), Tags: c.Tags, CustomProperties: c.CustomProperties, Segments: c.Segments,
		CreatedAt: parse(c.CreatedAt), UpdatedAt: parse(c.UpdatedAt)}
	for _, id := range c.Identifiers {
		ci := omnisend.ContactIdentifier{Type: omnisend.IdentifierType(id.Type), ID: id.ID}
		for ch, st := range id.Channels {
			if ci.Channels == nil {
				ci.Channels = map[string]omnisend.ChannelState{}
			}
			ci.Channels[ch] = omnisend.ChannelState{Channel: ch, Status: omnisend.Status(st.Status), StatusChangedAt: parse(st.StatusChangedAt)}
		}
		out.Identifiers = append(out.Identifiers, ci)
	}
	for _, st := range c.Statuses {
		out.Statuses = append(out.Statuses, omnisend.ChannelState{Channel: st.Channel, Status: omnisend.Status(st.Status), StatusChangedAt: parse(st.StatusChangedAt)})
	}
	for _, cs := range c.Consents {
		out.Consents = append(out.Consents, omnisend.ConsentRecord{Channel: cs.Channel, CreatedAt: parse(cs.CreatedAt), IP: cs.IP, Source: cs.Source, UserAgent: cs.UserAgent})
	}
	for _, o := range c.OptIns {
		out.OptIns = append(out.OptIns, omnisend.OptIn{Channel: o.Channel, At: parse(o.OptInAt)})
	}
	return out
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
