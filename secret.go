package shopcrm

import (
	"context"
	"fmt"
	"log/slog"
)

// Redacted is what a secret prints as.
const Redacted = "[REDACTED]"

// Secret holds a credential: an access token, an API key, a webhook or
// channel secret. It prints as [REDACTED] through fmt (every verb), log/slog,
// JSON and text marshalling. The value sits behind a pointer so that even a
// struct holding a Secret in an unexported field, which fmt prints by
// reflection without calling methods, shows an address and never the text.
// The zero Secret is empty.
type Secret struct {
	p *string
}

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{p: &s} }

// Reveal returns the secret text. Call it only where the value goes on the
// wire (a header, a signature).
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

// TokenSource supplies the credential for each request. Implementations may
// refresh or rotate it and must be safe for concurrent use. An error it
// returns ends the call before anything is sent; its message is redacted.
type TokenSource interface {
	Token(ctx context.Context) (Secret, error)
}

// TokenFunc adapts a function to a TokenSource.
type TokenFunc func(ctx context.Context) (Secret, error)

// Token calls f.
func (f TokenFunc) Token(ctx context.Context) (Secret, error) { return f(ctx) }

// StaticToken returns a TokenSource that always yields tok.
func StaticToken(tok string) TokenSource { return staticToken{NewSecret(tok)} }

type staticToken struct{ s Secret }

func (t staticToken) Token(context.Context) (Secret, error) { return t.s, nil }
