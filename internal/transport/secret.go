package transport

import (
	"fmt"
	"log/slog"
)

// Redacted is what a secret prints as.
const Redacted = "[REDACTED]"

// Secret holds a credential (token, API key, client secret). It prints as
// [REDACTED] through fmt (%v, %+v, %#v, %s, %q), log/slog and JSON. The value
// sits behind a pointer so that even a struct holding a Secret in an
// unexported field, which fmt prints by reflection without calling methods,
// shows an address and never the text.
type Secret struct {
	p *string
}

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{p: &s} }

// Reveal returns the secret text. Call it only where the value goes on the
// wire (a header, a signed message).
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether s holds nothing.
func (s Secret) IsZero() bool { return s.p == nil || *s.p == "" }

// String returns [REDACTED].
func (s Secret) String() string { return Redacted }

// GoString returns [REDACTED].
func (s Secret) GoString() string { return Redacted }

// Format prints [REDACTED] for every verb.
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue redacts the secret in log/slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON encodes the secret as "[REDACTED]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText encodes the secret as [REDACTED].
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
