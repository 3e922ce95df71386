package line

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// Recipient selects narrowcast recipients: AudienceRecipient,
// RedeliveryRecipient, or an operator built with And, Or and Not.
type Recipient interface {
	recipient()
	json.Marshaler
}

// AudienceRecipient is the users of an audience group.
type AudienceRecipient struct{ AudienceGroupID int64 }

// RedeliveryRecipient is the recipients of an earlier narrowcast.
type RedeliveryRecipient struct{ RequestID string }

// OperatorRecipient combines recipients; build it with And, Or and Not.
type OperatorRecipient struct {
	And, Or []Recipient
	Not     Recipient
}

func (AudienceRecipient) recipient()   {}
func (RedeliveryRecipient) recipient() {}
func (OperatorRecipient) recipient()   {}

// MarshalJSON writes the recipient with its type.
func (r AudienceRecipient) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type string `json:"type"`
		ID   int64  `json:"audienceGroupId"`
	}{"audience", r.AudienceGroupID})
}

// MarshalJSON writes the recipient with its type.
func (r RedeliveryRecipient) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type string `json:"type"`
		ID   string `json:"requestId"`
	}{"redelivery", r.RequestID})
}

// MarshalJSON writes the operator with its type.
func (r OperatorRecipient) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type string      `json:"type"`
		And  []Recipient `json:"and,omitempty"`
		Or   []Recipient `json:"or,omitempty"`
		Not  Recipient   `json:"not,omitempty"`
	}{"operator", r.And, r.Or, r.Not})
}

// And is the users matching every r.
func And(r ...Recipient) Recipient { return OperatorRecipient{And: r} }

// Or is the users matching any r.
func Or(r ...Recipient) Recipient { return OperatorRecipient{Or: r} }

// Not is the users not matching r.
func Not(r Recipient) Recipient { return OperatorRecipient{Not: r} }

func validateRecipient(field string, r Recipient, n *int) error {
	*n++
	switch r := r.(type) {
	case AudienceRecipient:
		if r.AudienceGroupID <= 0 {
			return invalid(field+".AudienceGroupID", "must be positive")
		}
	case RedeliveryRecipient:
		if r.RequestID == "" {
			return invalid(field+".RequestID", "empty")
		}
	case OperatorRecipient:
		*n--
		set := 0
		if len(r.And) > 0 {
			set++
		}
		if len(r.Or) > 0 {
			set++
		}
		if r.Not != nil {
			set++
		}
		if set != 1 {
			return invalid(field, "an operator needs exactly one of And, Or, Not")
		}
		for i, x := range r.And {
			if err := validateRecipient(fmt.Sprintf("%s.And[%d]", field, i), x, n); err != nil {
				return err
			}
		}
		for i, x := range r.Or {
			if err := validateRecipient(fmt.Sprintf("%s.Or[%d]", field, i), x, n); err != nil {
				return err
			}
		}
		if r.Not != nil {
			return validateRecipient(field+".Not", r.Not, n)
		}
	case nil:
		return invalid(field, "nil")
	}
	return nil
}

// DemographicFilter narrows narrowcast recipients by demographic
// attributes. It is LINE's JSON, passed through; build it with AgeFilter,
// GenderFilter, AreaFilter, AppTypeFilter, SubscriptionPeriodFilter,
// AllOf, AnyOf and NoneOf, or from any value with Demographic.
type DemographicFilter json.RawMessage

// Demographic builds a DemographicFilter from any JSON-encodable value
// shaped like LINE's demographic filter objects (age, appType, area, gender,
// subscriptionPeriod, operator).
func Demographic(v any) (DemographicFilter, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, invalid("Filter", "%v", err)
	}
	return DemographicFilter(b), nil
}

// AgeFilter selects ages in [gte, lt), each "age_15" … "age_70" in steps of
// 5; an empty bound is open.
func AgeFilter(gte, lt string) DemographicFilter { return rangeFilter("age", gte, lt) }

// SubscriptionPeriodFilter selects friendship durations in [gte, lt), each
// one of "day_7", "day_30", "day_90", "day_180", "day_365".
func SubscriptionPeriodFilter(gte, lt string) DemographicFilter {
	return rangeFilter("subscriptionPeriod", gte, lt)
}

// GenderFilter selects "male" and/or "female".
func GenderFilter(genders ...string) DemographicFilter { return oneOfFilter("gender", genders) }

// AreaFilter selects areas such as "jp_13" (Tokyo).
func AreaFilter(areas ...string) DemographicFilter { return oneOfFilter("area", areas) }

// AppTypeFilter selects "ios" and/or "android".
func AppTypeFilter(types ...string) DemographicFilter { return oneOfFilter("appType", types) }

// AllOf matches users matching every filter.
func AllOf(f ...DemographicFilter) DemographicFilter { return operatorFilter("and", f) }

// AnyOf matches users matching any filter.
func AnyOf(f ...DemographicFilter) DemographicFilter { return operatorFilter("or", f) }

// NoneOf matches users not matching f.
func NoneOf(f DemographicFilter) DemographicFilter {
	b, _ := json.Marshal(map[string]any{"type": "operator", "not": json.RawMessage(f)})
	return b
}

func rangeFilter(typ, gte, lt string) DemographicFilter {
	m := map[string]string{"type": typ}
	if gte != "" {
		m["gte"] = gte
	}
	if lt != "" {
		m["lt"] = lt
	}
	b, _ := json.Marshal(m)
	return b
}

func oneOfFilter(typ string, v []string) DemographicFilter {
	b, _ := json.Marshal(map[string]any{"type": typ, "oneOf": v})
	return b
}

func operatorFilter(op string, f []DemographicFilter) DemographicFilter {
	raw := make([]json.RawMessage, len(f))
	for i, x := range f {
		raw[i] = json.RawMessage(x)
	}
	b, _ := json.Marshal(map[string]any{"type": "operator", op: raw})
	return b
}

type filter struct {
	Demographic json.RawMessage `json:"demographic"`
}

// NarrowcastLimit caps a narrowcast. Nil fields are omitted.
type NarrowcastLimit struct {
	Max                   *int32 `json:"max,omitempty"`
	UpToRemainingQuota    *bool  `json:"upToRemainingQuota,omitempty"`
	ForbidPartialDelivery *bool  `json:"forbidPartialDelivery,omitempty"`
}

// NarrowcastRequest is a send to the users selected by Recipient, Filter and
// Limit (all friends when both are nil).
type NarrowcastRequest struct {
	Messages             []Message
	Recipient            Recipient         // optional
	Filter               DemographicFilter // optional
	Limit                *NarrowcastLimit  // optional
	NotificationDisabled bool
	RetryKey             string // optional UUID; generated when empty
}

// NarrowcastResult is an accepted narrowcast.
type NarrowcastResult struct {
	SendResult
	s    *MessagesService
	body *sendBody // to ask LINE, with the same key, which request it accepted
}

// ProgressID is the request id to poll: the accepted request's id on a
// duplicate, else this request's.
func (r *NarrowcastResult) ProgressID() string {
	if r.Duplicate {
		return r.AcceptedRequestID
	}
	return r.RequestID
}

// Wait polls the narrowcast's progress every interval until it succeeded
// or failed; see MessagesService.WaitNarrowcast.
//
// A retried narrowcast (the client retries on a lost answer, with the same
// retry key) can be accepted again and then fail with error code 3: LINE
// had already accepted the request under the key. That is not a failure:
// Wait then posts the request once more with the same key, which LINE
// answers 409 with the id of the request it accepted (nothing is sent),
// records it in r (Duplicate, AcceptedRequestID) and waits for that
// request instead. The progress returned is the original's, with Duplicate
// and AcceptedRequestID set. Should LINE not name the original, the
// progress is the retry's own (phase failed, error code 3) with Duplicate
// set, AcceptedRequestID empty and a nil error: the messages went out under
// the original request, so sending them again would deliver twice.
func (r *NarrowcastResult) Wait(ctx context.Context, interval time.Duration) (*NarrowcastProgress, error) {
	p, err := r.s.WaitNarrowcast(ctx, r.ProgressID(), interval)
	if err != nil || !p.Duplicate || r.Duplicate || r.body == nil {
		return p, err
	}
	again, _, err := r.s.c.send(ctx, EndpointNarrowcast, narrowcastPath, r.RetryKey, r.body, nil)
	if err != nil || !again.Duplicate {
		return p, ctx.Err() // the original stays unknown; only a cancelled context is an error
	}
	r.Duplicate, r.AcceptedRequestID = true, again.AcceptedRequestID
	orig, err := r.s.WaitNarrowcast(ctx, again.AcceptedRequestID, interval)
	if orig != nil {
		orig.Duplicate, orig.AcceptedRequestID = true, again.AcceptedRequestID
	}
	return orig, err
}

const narrowcastPath = "/v2/bot/message/narrowcast"

// Narrowcast sends messages asynchronously. LINE accepts it with 202; the
// result's request id is what WaitNarrowcast polls. A 429 is not retried.
func (s *MessagesService) Narrowcast(ctx context.Context, r *NarrowcastRequest) (*NarrowcastResult, *Response, error) {
	if r == nil {
		return nil, nil, invalid("NarrowcastRequest", "nil")
	}
	if err := validateMessages(r.Messages); err != nil {
		return nil, nil, err
	}
	if r.Recipient != nil {
		n := 0
		if err := validateRecipient("Recipient", r.Recipient, &n); err != nil {
			return nil, nil, err
		}
	}
	body := &sendBody{Messages: r.Messages, NotificationDisabled: r.NotificationDisabled, Recipient: r.Recipient, Limit: r.Limit}
	if r.Filter != nil {
		if !json.Valid(r.Filter) {
			return nil, nil, invalid("Filter", "not valid JSON")
		}
		body.Filter = &filter{Demographic: json.RawMessage(r.Filter)}
	}
	if l := r.Limit; l != nil {
		if l.Max != nil && *l.Max < 1 {
			return nil, nil, invalid("Limit.Max", "must be at least 1")
		}
		if l.ForbidPartialDelivery != nil && *l.ForbidPartialDelivery && (l.UpToRemainingQuota == nil || !*l.UpToRemainingQuota) {
			return nil, nil, invalid("Limit.ForbidPartialDelivery", "only valid with UpToRemainingQuota")
		}
	}
	key, err := retryKey(r.RetryKey)
	if err != nil {
		return nil, nil, err
	}
	res, resp, err := s.c.send(ctx, EndpointNarrowcast, narrowcastPath, key, body, nil)
	if err != nil {
		return nil, resp, err
	}
	return &NarrowcastResult{SendResult: *res, s: s, body: body}, resp, nil
}

// NarrowcastPhase is the phase of a narrowcast.
type NarrowcastPhase string

// Narrowcast phases.
const (
	PhaseWaiting   NarrowcastPhase = "waiting"
	PhaseSending   NarrowcastPhase = "sending"
	PhaseSucceeded NarrowcastPhase = "succeeded"
	PhaseFailed    NarrowcastPhase = "failed"
)

// NarrowcastProgress is the state of a narrowcast.
type NarrowcastProgress struct {
	Phase             NarrowcastPhase `json:"phase"`
	SuccessCount      *int64          `json:"successCount,omitempty"`
	FailureCount      *int64          `json:"failureCount,omitempty"`
	TargetCount       *int64          `json:"targetCount,omitempty"`
	FailedDescription string          `json:"failedDescription,omitempty"`
	ErrorCode         *int64          `json:"errorCode,omitempty"`
	AcceptedTime      time.Time       `json:"acceptedTime"`
	CompletedTime     *time.Time      `json:"completedTime,omitempty"`

	// RequestID is the request this progress is of.
	RequestID string `json:"-"`
	// Duplicate is set when the narrowcast waited for was a retry LINE had
	// already accepted under another request (error code 3); nothing was
	// sent under it. AcceptedRequestID is that original request, when
	// known, and the progress is then the original's.
	Duplicate         bool   `json:"-"`
	AcceptedRequestID string `json:"-"`
}

// Done reports whether the narrowcast succeeded or failed.
func (p *NarrowcastProgress) Done() bool { return p.Phase == PhaseSucceeded || p.Phase == PhaseFailed }

// NarrowcastProgress reads the progress of the narrowcast with requestID.
func (s *MessagesService) NarrowcastProgress(ctx context.Context, requestID string) (*NarrowcastProgress, *Response, error) {
	if requestID == "" {
		return nil, nil, invalid("requestID", "empty")
	}
	var p NarrowcastProgress
	resp, err := s.c.do(ctx, &call{class: EndpointOther, method: http.MethodGet, path: "/v2/bot/message/progress/narrowcast",
		query: url.Values{"requestId": {requestID}}, retry: idempotent, out: &p})
	if err != nil {
		return nil, resp, err
	}
	return &p, resp, nil
}

// WaitNarrowcast polls every interval (1 s when ≤ 0) until the narrowcast
// succeeded or failed. A failed narrowcast returns its progress and a
// *NarrowcastError, except error code 3 (a retry of a request LINE had
// already accepted under the same key): that returns the progress with
// Duplicate set and no error, since the messages went out under the
// original request. Only NarrowcastResult.Wait can find which request that
// was.
func (s *MessagesService) WaitNarrowcast(ctx context.Context, requestID string, interval time.Duration) (*NarrowcastProgress, error) {
	if interval <= 0 {
		interval = time.Second
	}
	for {
		p, _, err := s.NarrowcastProgress(ctx, requestID)
		if err != nil {
			return nil, err
		}
		p.RequestID = requestID
		if p.Phase == PhaseFailed && p.ErrorCode != nil && NarrowcastErrorCode(*p.ErrorCode) == NarrowcastRetryKeyAccepted {
			p.Duplicate = true
			return p, nil
		}
		if p.Phase == PhaseFailed {
			ne := &NarrowcastError{RequestID: requestID, Description: p.FailedDescription}
			if p.ErrorCode != nil {
				ne.ErrorCode = NarrowcastErrorCode(*p.ErrorCode)
			}
			return p, ne
		}
		if p.Done() {
			return p, nil
		}
		if err := transport.Sleep(ctx, interval); err != nil {
			return p, err
		}
	}
}
