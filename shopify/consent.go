package shopify

import (
	"context"
	"slices"
	"time"
)

// MarketingState is a customer's marketing consent state for a channel
// (CustomerEmailMarketingState, CustomerSmsMarketingState).
type MarketingState string

// Marketing states. REDACTED and INVALID are set by Shopify and can be read
// but not written; SMS has no INVALID.
const (
	NotSubscribed MarketingState = "NOT_SUBSCRIBED"
	Pending       MarketingState = "PENDING"
	Subscribed    MarketingState = "SUBSCRIBED"
	Unsubscribed  MarketingState = "UNSUBSCRIBED"
	Redacted      MarketingState = "REDACTED"
	Invalid       MarketingState = "INVALID"
)

// OptInLevel is how a customer opted in (CustomerMarketingOptInLevel).
type OptInLevel string

// Opt-in levels.
const (
	SingleOptIn    OptInLevel = "SINGLE_OPT_IN"
	ConfirmedOptIn OptInLevel = "CONFIRMED_OPT_IN"
	UnknownOptIn   OptInLevel = "UNKNOWN"
)

// EmailConsent is a customer's email marketing consent: read on
// [Customer], and recorded by [CustomersService.UpdateEmailConsent].
type EmailConsent struct {
	// State is required when recording: NotSubscribed, Pending, Subscribed
	// or Unsubscribed (Redacted and Invalid are Shopify's to set, and may be
	// read).
	State MarketingState
	// OptInLevel is optional; empty when Shopify has none.
	OptInLevel OptInLevel
	// UpdatedAt is when consent was given or withdrawn; zero: now when
	// recording, unknown when read.
	UpdatedAt time.Time
}

// SMSConsentInput is the SMS marketing consent to record for a customer.
type SMSConsentInput struct {
	// State is required: NotSubscribed, Pending, Subscribed or
	// Unsubscribed (Redacted is Shopify's to set).
	State      MarketingState
	OptInLevel OptInLevel
	UpdatedAt  time.Time
}

// settable are the states a client may write, for email and SMS alike.
var settable = []MarketingState{NotSubscribed, Pending, Subscribed, Unsubscribed}

var optInLevels = []OptInLevel{SingleOptIn, ConfirmedOptIn, UnknownOptIn}

func oneOf[T ~string](field string, v T, allowed []T, required bool) error {
	if v == "" && !required {
		return nil
	}
	if slices.Contains(allowed, v) {
		return nil
	}
	if v == "" {
		return &InputError{Field: field, Reason: "required"}
	}
	return &InputError{Field: field, Value: string(v), Reason: "not a value a client may set"}
}

func consentVars(customerID, key string, state MarketingState, level OptInLevel, at time.Time) map[string]any {
	c := map[string]any{"marketingState": state}
	if level != "" {
		c["marketingOptInLevel"] = level
	}
	if !at.IsZero() {
		c["consentUpdatedAt"] = at.UTC().Format(time.RFC3339)
	}
	return map[string]any{"input": map[string]any{"customerId": customerID, key: c}}
}

// UpdateEmailConsent records a customer's email marketing consent. The
// customer needs an email address; a refusal is a *UserErrors.
//
//spec:graphql mutation customerEmailMarketingConsentUpdate
func (s *CustomersService) UpdateEmailConsent(ctx context.Context, customerID string, c EmailConsent) (*Response, error) {
	return s.updateConsent(ctx, "emailConsent", "customerEmailMarketingConsentUpdate", "CustomerEmailMarketingConsentUpdateInput",
		"emailMarketingConsent", customerID, c.State, c.OptInLevel, c.UpdatedAt)
}

// UpdateSMSConsent records a customer's SMS marketing consent. The customer
// needs a phone number; a refusal is a *UserErrors.
//
//spec:graphql mutation customerSmsMarketingConsentUpdate
func (s *CustomersService) UpdateSMSConsent(ctx context.Context, customerID string, c SMSConsentInput) (*Response, error) {
	return s.updateConsent(ctx, "smsConsent", "customerSmsMarketingConsentUpdate", "CustomerSmsMarketingConsentUpdateInput",
		"smsMarketingConsent", customerID, c.State, c.OptInLevel, c.UpdatedAt)
}

// updateConsent runs one of the two consent mutations, which differ only
// in their names.
func (s *CustomersService) updateConsent(ctx context.Context, name, mutation, inputType, key, customerID string, state MarketingState, level OptInLevel, at time.Time) (*Response, error) {
	if err := checkID("customerID", customerID, "Customer"); err != nil {
		return nil, err
	}
	if err := oneOf("State", state, settable, true); err != nil {
		return nil, err
	}
	if err := oneOf("OptInLevel", level, optInLevels, false); err != nil {
		return nil, err
	}
	q := `mutation ` + name + `($input: ` + inputType + `!) {
  ` + mutation + `(input: $input) { customer { id } userErrors { field message code } } }`
	var out map[string]struct {
		UserErrors userErrorList `json:"userErrors"`
	}
	resp, err := s.c.do(ctx, &call{query: q, vars: consentVars(customerID, key, state, level, at), cost: mutationCost, retry: idempotent}, &out)
	if err != nil {
		return resp, err
	}
	return resp, s.c.mutationErrors(mutation, out[mutation].UserErrors)
}
