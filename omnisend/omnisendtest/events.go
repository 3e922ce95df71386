package omnisendtest

import (
	"encoding/json"
	"github.com/shopcrm/shopcrm/omnisend/internal/wire"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"
)

// Event is an event the server recorded.
type Event struct {
	Name       string
	Origin     string
	Version    string
	ID         string    // eventID as sent ("" when Omnisend would generate one)
	Time       time.Time // eventTime, or the arrival when none was sent
	Email      string    // the contact's email, if sent
	Phone      string
	Properties map[string]any
	Historical bool      // deduplicated by ID and Time
	At         time.Time // the server's clock at arrival
}

// record checks and records one event; it returns the field errors.
// Historical events (eventTime at least HistoricalAge old, with an
// eventID) are recorded once per eventID and eventTime; every other copy
// is recorded again, as Omnisend processes real-time events every time.
func (s *Server) record(in *wire.Event) []fieldError {
	var errs []fieldError
	if strings.TrimSpace(in.EventName) == "" {
		errs = append(errs, fieldError{"eventName", "required", "is required"})
	}
	if in.Origin == "" {
		errs = append(errs, fieldError{"origin", "required", "is required"})
	}
	if in.EventID != "" && !validUUID(in.EventID) {
		errs = append(errs, fieldError{"eventID", "invalid_format", "Must be a UUID of version 4 to 7"})
	}
	now := s.Now().UTC()
	at := now
	if in.EventTime != "" {
		t, err := time.Parse(time.RFC3339, in.EventTime)
		if err != nil {
			t, err = time.Parse("2006-01-02 15:04:05Z07:00", in.EventTime)
		}
		if err != nil {
			errs = append(errs, fieldError{"eventTime", "invalid_format", "Must be RFC 3339"})
		}
		at = t
	}
	c := in.Contact
	if c == nil || c.Email == "" && c.Phone == "" && c.ID == "" {
		errs = append(errs, fieldError{"contact", "required", "An email, a phone or a contact id is required"})
	} else if c.ID != "" && s.contacts[c.ID] == nil && c.Email == "" && c.Phone == "" {
		errs = append(errs, fieldError{"contact.id", "not_found", "No contact has this id"})
	}
	if len(errs) > 0 {
		return errs
	}
	hist := in.EventID != "" && in.EventTime != "" && !at.After(now.Add(-s.cfg.historicalAge))
	if hist {
		k := in.EventID + "|" + at.Format(time.RFC3339Nano)
		if s.seen[k] {
			return nil
		}
		s.seen[k] = true
	}
	// The event's contact is created or updated from it.
	ci := &wire.ContactRequest{Fields: wire.Fields{FirstName: c.FirstName, LastName: c.LastName, Tags: c.Tags, CustomProperties: c.CustomProperties}}
	if c.Email != "" {
		ci.Identifiers = append(ci.Identifiers, wire.IdentifierRequest{Type: "email", ID: c.Email})
	}
	if c.Phone != "" {
		ci.Identifiers = append(ci.Identifiers, wire.IdentifierRequest{Type: "phone", ID: c.Phone})
	}
	if len(ci.Identifiers) > 0 {
		s.upsert(ci)
	}
	props := map[string]any{}
	b, _ := json.Marshal(in.Properties)
	_ = json.Unmarshal(b, &props)
	s.events = append(s.events, Event{Name: in.EventName, Origin: in.Origin, Version: in.EventVersion, ID: in.EventID,
		Time: at, Email: c.Email, Phone: c.Phone, Properties: props, Historical: hist, At: now})
	return nil
}

func (s *Server) sendEvent(w *httptest.ResponseRecorder, body []byte) {
	var in wire.Event
	if !decode(w, body, &in) {
		return
	}
	if errs := s.record(&in); len(errs) > 0 {
		validation(w, "The event is not valid", errs...)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s[14] >= '4' && s[14] <= '7' && strings.ContainsRune("89abAB", rune(s[19]))
}

// Events returns the events recorded, oldest first: a real-time event
// sent twice appears twice.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}
