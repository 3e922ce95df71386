package linetest

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/shopcrm/shopcrm/line"
)

// Event is a webhook event object as LINE sends it.
type Event map[string]any

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// event fills the common properties; webhookEventId is a ULID-shaped id
// from the server's clock and a counter.
func (s *Server) event(typ, userID string) Event {
	s.mu.Lock()
	s.eventSeq++
	seq := s.eventSeq
	ms := s.now().UnixMilli()
	s.mu.Unlock()
	var id [26]byte
	t := uint64(ms)
	for i := 9; i >= 0; i-- {
		id[i] = crockford[t&31]
		t >>= 5
	}
	for i := 25; i >= 10; i-- {
		id[i] = crockford[seq&31]
		seq >>= 5
	}
	return Event{
		"type":            typ,
		"timestamp":       ms,
		"mode":            "active",
		"webhookEventId":  string(id[:]),
		"deliveryContext": map[string]any{"isRedelivery": false},
		"source":          map[string]any{"type": "user", "userId": userID},
	}
}

func replyToken() string { return newID()[:32] }

// FollowEvent is a follow event from userID.
func (s *Server) FollowEvent(userID string) Event {
	e := s.event("follow", userID)
	e["replyToken"] = replyToken()
	e["follow"] = map[string]any{"isUnblocked": false}
	return e
}

// UnfollowEvent is an unfollow event from userID.
func (s *Server) UnfollowEvent(userID string) Event { return s.event("unfollow", userID) }

// TextMessageEvent is a text message from userID.
func (s *Server) TextMessageEvent(userID, text string) Event {
	e := s.event("message", userID)
	e["replyToken"] = replyToken()
	e["message"] = map[string]any{"type": "text", "id": "4" + newID()[:8], "text": text, "quoteToken": replyToken()}
	return e
}

// PostbackEvent is a postback from userID.
func (s *Server) PostbackEvent(userID, data string) Event {
	e := s.event("postback", userID)
	e["replyToken"] = replyToken()
	e["postback"] = map[string]any{"data": data}
	return e
}

// AccountLinkEvent is the account-link result for nonce; a failed link has
// no reply token.
func (s *Server) AccountLinkEvent(userID, nonce string, ok bool) Event {
	e := s.event("accountLink", userID)
	result := "failed"
	if ok {
		result = "ok"
		e["replyToken"] = replyToken()
	}
	e["link"] = map[string]any{"result": result, "nonce": nonce}
	return e
}

// Redelivery returns a copy of e as LINE sends it again after a failed
// delivery: same webhookEventId, deliveryContext.isRedelivery true.
func Redelivery(e Event) Event {
	out := make(Event, len(e))
	for k, v := range e {
		out[k] = v
	}
	out["deliveryContext"] = map[string]any{"isRedelivery": true}
	return out
}

// WebhookBody returns a webhook body holding events and its signature with
// the channel secret.
func (s *Server) WebhookBody(events ...Event) (body []byte, signature string) {
	if events == nil {
		events = []Event{}
	}
	body, _ = json.Marshal(map[string]any{"destination": BotUserID, "events": events})
	return body, line.Sign(body, line.NewSecret(s.cfg.secret))
}

// SendWebhook posts a signed webhook holding events to url, as LINE does.
func (s *Server) SendWebhook(ctx context.Context, url string, events ...Event) (*http.Response, error) {
	body, sig := s.WebhookBody(events...)
	return postSigned(ctx, http.DefaultClient, url, body, sig)
}
