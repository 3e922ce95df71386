package line

import (
	"context"
	"errors"
	"net/http"
	"regexp"

	"github.com/shopcrm/shopcrm/internal/transport"
)

// SentMessage is a message LINE accepted for a push.
type SentMessage struct {
	ID         string `json:"id"`
	QuoteToken string `json:"quoteToken,omitempty"`
}

// SendResult is the outcome of one send request.
type SendResult struct {
	RetryKey  string // the key the request carried, also on error
	RequestID string // x-line-request-id of this response
	// Duplicate is true when LINE answered 409: a request with this retry
	// key was already accepted (AcceptedRequestID), so nothing was sent now.
	Duplicate         bool
	AcceptedRequestID string
	// SentMessages are a push's messages; on a duplicate, those of the
	// request accepted first, which LINE repeats in its 409.
	SentMessages []SentMessage
}

// PushRequest is a push to one user, group or room.
type PushRequest struct {
	To                    string
	Messages              []Message
	NotificationDisabled  bool
	CustomAggregationUnit string // optional, ^[a-zA-Z0-9_]{1,30}$
	RetryKey              string // optional UUID; generated when empty
}

var aggregationUnitRe = regexp.MustCompile(`^[a-zA-Z0-9_]{1,30}$`)

type sendBody struct {
	To                     any              `json:"to,omitempty"`
	Messages               []Message        `json:"messages"`
	NotificationDisabled   bool             `json:"notificationDisabled,omitempty"`
	CustomAggregationUnits []string         `json:"customAggregationUnits,omitempty"`
	Recipient              Recipient        `json:"recipient,omitempty"`
	Filter                 *filter          `json:"filter,omitempty"`
	Limit                  *NarrowcastLimit `json:"limit,omitempty"`
}

func units(u string) ([]string, error) {
	if u == "" {
		return nil, nil
	}
	if !aggregationUnitRe.MatchString(u) {
		return nil, invalid("CustomAggregationUnit", "%q does not match ^[a-zA-Z0-9_]{1,30}$", u)
	}
	return []string{u}, nil
}

// MessagesService sends messages and reads the message quota.
type MessagesService struct{ c *Client }

// Push sends messages to one recipient. It is retried with the same key on
// server errors, connection errors and rate-limit 429s; the result and, on
// error after the request went out, a *SendError carry the key, so a
// resend is safe.
func (s *MessagesService) Push(ctx context.Context, r *PushRequest) (*SendResult, *Response, error) {
	if r == nil {
		return nil, nil, invalid("PushRequest", "nil")
	}
	if r.To == "" {
		return nil, nil, invalid("To", "empty")
	}
	if err := validateMessages(r.Messages); err != nil {
		return nil, nil, err
	}
	u, err := units(r.CustomAggregationUnit)
	if err != nil {
		return nil, nil, err
	}
	key, err := retryKey(r.RetryKey)
	if err != nil {
		return nil, nil, err
	}
	var out struct {
		SentMessages []SentMessage `json:"sentMessages"`
	}
	res, resp, err := s.c.send(ctx, EndpointPush, "/v2/bot/message/push", key,
		&sendBody{To: r.To, Messages: r.Messages, NotificationDisabled: r.NotificationDisabled, CustomAggregationUnits: u}, &out)
	if res != nil && !res.Duplicate {
		res.SentMessages = out.SentMessages
	}
	return res, resp, err
}

// BroadcastRequest is a send to every friend of the account.
type BroadcastRequest struct {
	Messages             []Message
	NotificationDisabled bool
	RetryKey             string // optional UUID; generated when empty
}

// Broadcast sends messages to all friends. A 429 is not retried (LINE
// allows 60 broadcasts per hour).
func (s *MessagesService) Broadcast(ctx context.Context, r *BroadcastRequest) (*SendResult, *Response, error) {
	if r == nil {
		return nil, nil, invalid("BroadcastRequest", "nil")
	}
	if err := validateMessages(r.Messages); err != nil {
		return nil, nil, err
	}
	key, err := retryKey(r.RetryKey)
	if err != nil {
		return nil, nil, err
	}
	return s.c.send(ctx, EndpointBroadcast, "/v2/bot/message/broadcast", key,
		&sendBody{Messages: r.Messages, NotificationDisabled: r.NotificationDisabled}, nil)
}

// SendError is a send that failed after its request went out: it carries
// the retry key used, so resending with the same key within
// [RetryKeyLifetime] of the first attempt never delivers twice.
type SendError struct {
	RetryKey string
	Err      error
}

// Error describes the failure.
func (e *SendError) Error() string { return e.Err.Error() + " (retry key " + e.RetryKey + ")" }

// Unwrap returns the cause.
func (e *SendError) Unwrap() error { return e.Err }

// send posts one send request with its retry key; a 409 carrying
// x-line-accepted-request-id is success with Duplicate set.
func (c *Client) send(ctx context.Context, class Endpoint, path, key string, body any, out any) (*SendResult, *Response, error) {
	resp, err := c.do(ctx, &call{class: class, method: http.MethodPost, path: path, body: body, retry: transport.RetryKeyed, retryKey: key, out: out})
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict && ae.AcceptedRequestID != "" {
			meta := &Response{Status: ae.Status, RequestID: ae.RequestID}
			return &SendResult{RetryKey: key, RequestID: ae.RequestID, Duplicate: true, AcceptedRequestID: ae.AcceptedRequestID, SentMessages: ae.SentMessages}, meta, nil
		}
		var ie *InputError
		if errors.As(err, &ie) {
			return nil, resp, err
		}
		return nil, resp, &SendError{RetryKey: key, Err: err}
	}
	return &SendResult{RetryKey: key, RequestID: resp.RequestID}, resp, nil
}
