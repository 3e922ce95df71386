package shopcrm

import "errors"

// ErrInvalidCallback matches every *CallbackError: an OAuth redirect (or
// a code from it) refused before any token request was sent.
var ErrInvalidCallback = errors.New("invalid OAuth callback")

// CallbackCheck names the check an OAuth callback failed. The platform
// packages name theirs (shopify.CheckHMAC, klaviyo.CheckState, ...).
type CallbackCheck string

// CallbackError reports an OAuth callback that failed a check. It matches
// ErrInvalidCallback and never holds the code, the state or a secret.
type CallbackError struct {
	Platform string // "shopify", "klaviyo"
	Check    CallbackCheck
	Reason   string
}

// Error describes the error.
func (e *CallbackError) Error() string {
	return e.Platform + ": OAuth callback failed the " + string(e.Check) + " check: " + e.Reason
}

// Is matches ErrInvalidCallback.
func (e *CallbackError) Is(target error) bool { return target == ErrInvalidCallback }
