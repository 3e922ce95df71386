package transport

import "github.com/shopcrm/shopcrm"

// Redacted is what a secret prints as.
const Redacted = shopcrm.Redacted

// Secret is the public secret type.
type Secret = shopcrm.Secret

// NewSecret wraps s.
func NewSecret(s string) Secret { return shopcrm.NewSecret(s) }
