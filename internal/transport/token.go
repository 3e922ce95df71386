package transport

import "github.com/shopcrm/shopcrm"

// TokenSource is the public token source interface.
type TokenSource = shopcrm.TokenSource

// StaticToken returns a TokenSource that always yields tok.
func StaticToken(tok string) TokenSource { return shopcrm.StaticToken(tok) }
