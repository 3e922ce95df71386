package transport

import "context"

// TokenSource supplies the credential for each request. Implementations may
// refresh or rotate it; they must be safe for concurrent use.
type TokenSource interface {
	Token(ctx context.Context) (Secret, error)
}

// StaticToken returns a TokenSource that always yields tok.
func StaticToken(tok string) TokenSource { return staticToken{NewSecret(tok)} }

type staticToken struct{ s Secret }

func (t staticToken) Token(context.Context) (Secret, error) { return t.s, nil }
