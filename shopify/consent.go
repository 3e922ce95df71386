package shopify

import (
	"context"
	"time"
)

// EmailConsent is the email marketing consent to record for a customer.
type EmailConsent struct {
	// State is a CustomerEmailMarketingState: NOT_SUBSCRIBED, PENDING,
	// SUBSCRIBED, UNSUBSCRIBED, REDACTED, INVALID. Required.
	State string
	// OptInLevel is SINGLE_OPT_IN, CONFIRMED_OPT_IN or UNKNOWN; optional.
	OptInLevel string
	// UpdatedAt is when consent was given or withdrawn; zero: now.
	UpdatedAt time.Time
}

// SMSConsentInput is the SMS marketing consent to record for a customer.
type SMSConsentInput struct {
	// State is a CustomerSmsMarketingState: NOT_SUBSCRIBED, PENDING,
	// SUBSCRIBED, UNSUBSCRIBED, REDACTED. Required.
	State      string
	OptInLevel string
	UpdatedAt  time.Time
}

var (
	emailStates = []string{"NOT_SUBSCRIBED", "PENDING", "SUBSCRIBED", "UNSUBSCRIBED", "REDACTED", "INVALID"}
	smsStates   = []string{"NOT_SUBSCRIBED", "PENDING", "SUBSCRIBED", "UNSUBSCRIBED", "REDACTED"}
	optInLevels = []string{"SINGLE_OPT_IN", "CONFIRMED_OPT_IN", "UNKNOWN"}
)

func oneOf(field, v string, allowed []string, required bool) error {
	if v == "" && !required {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return &InputError{Field: field, Value: v, Reason: "not an allowed value"}
}

func consentVars(customerID, key, state, level string, at time.Time) map[string]any {
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
	if err := checkID("customerID", customerID, "Customer"); err != nil {
		return nil, err
	}
	if err := oneOf("State", c.State, emailStates, true); err != nil {
		return nil, err
	}
	if err := oneOf("OptInLevel", c.OptInLevel, optInLevels, false); err != nil {
		return nil, err
	}
	q := `mutation emailConsent($input: CustomerEmailMarketingConsentUpdateInput!) {
  customerEmailMarketingConsentUpdate(input: $input) { customer { id } userErrors { field message code } } }`
	var out struct {
		P struct {
			UserErrors []UserError `json:"userErrors"`
		} `json:"customerEmailMarketingConsentUpdate"`
	}
	resp, err := s.c.do(ctx, &call{query: q, vars: consentVars(customerID, "emailMarketingConsent", c.State, c.OptInLevel, c.UpdatedAt), cost: mutationCost, retry: idempotent}, &out)
	if err != nil {
		return resp, err
	}
	return resp, userErrors("customerEmailMarketingConsentUpdate", out.P.UserErrors)
}

// UpdateSMSConsent records a customer's SMS marketing consent. The customer
// needs a phone number; a refusal is a *UserErrors.
//
//spec:graphql mutation customerSmsMarketingConsentUpdate
func (s *CustomersService) UpdateSMSConsent(ctx context.Context, customerID string, c SMSConsentInput) (*Response, error) {
	if err := checkID("customerID", customerID, "Customer"); err != nil {
		return nil, err
	}
	if err := oneOf("State", c.State, smsStates, true); err != nil {
		return nil, err
	}
	if err := oneOf("OptInLevel", c.OptInLevel, optInLevels, false); err != nil {
		return nil, err
	}
	q := `mutation smsConsent($input: CustomerSmsMarketingConsentUpdateInput!) {
  customerSmsMarketingConsentUpdate(input: $input) { customer { id } userErrors { field message code } } }`
	var out struct {
		P struct {
			UserErrors []UserError `json:"userErrors"`
		} `json:"customerSmsMarketingConsentUpdate"`
	}
	resp, err := s.c.do(ctx, &call{query: q, vars: consentVars(customerID, "smsMarketingConsent", c.State, c.OptInLevel, c.UpdatedAt), cost: mutationCost, retry: idempotent}, &out)
	if err != nil {
		return resp, err
	}
	return resp, userErrors("customerSmsMarketingConsentUpdate", out.P.UserErrors)
}
