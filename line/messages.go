package line

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"unicode/utf16"
)

// NarrowcastLimit of message objects.
const (
	MaxMessages   = 5    // messages per request
	MaxTextLength = 5000 // UTF-16 code units per text message
)

// Message is a message object: TextMessage, StickerMessage, ImageMessage,
// FlexMessage, or RawMessage for any other kind.
type Message interface {
	// Type is LINE's discriminator, e.g. "text".
	Type() string
	validate(field string) error
}

// TextMessage is a text message of at most 5,000 UTF-16 code units.
type TextMessage struct {
	Text       string
	QuoteToken string // optional
}

// Type returns "text".
func (TextMessage) Type() string { return "text" }

// MarshalJSON writes the message with its type.
func (m TextMessage) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type       string `json:"type"`
		Text       string `json:"text"`
		QuoteToken string `json:"quoteToken,omitempty"`
	}{"text", m.Text, m.QuoteToken})
}

func (m TextMessage) validate(field string) error {
	if m.Text == "" {
		return invalid(field+".Text", "empty")
	}
	if n := len(utf16.Encode([]rune(m.Text))); n > MaxTextLength {
		return invalid(field+".Text", "%d UTF-16 code units, more than %d", n, MaxTextLength)
	}
	return nil
}

// StickerMessage is a sticker message.
type StickerMessage struct {
	PackageID  string
	StickerID  string
	QuoteToken string // optional
}

// Type returns "sticker".
func (StickerMessage) Type() string { return "sticker" }

// MarshalJSON writes the message with its type.
func (m StickerMessage) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type       string `json:"type"`
		PackageID  string `json:"packageId"`
		StickerID  string `json:"stickerId"`
		QuoteToken string `json:"quoteToken,omitempty"`
	}{"sticker", m.PackageID, m.StickerID, m.QuoteToken})
}

func (m StickerMessage) validate(field string) error {
	if m.PackageID == "" {
		return invalid(field+".PackageID", "empty")
	}
	if m.StickerID == "" {
		return invalid(field+".StickerID", "empty")
	}
	return nil
}

// ImageMessage is an image message; both URLs must be https.
type ImageMessage struct {
	OriginalContentURL string
	PreviewImageURL    string
}

// Type returns "image".
func (ImageMessage) Type() string { return "image" }

// MarshalJSON writes the message with its type.
func (m ImageMessage) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type               string `json:"type"`
		OriginalContentURL string `json:"originalContentUrl"`
		PreviewImageURL    string `json:"previewImageUrl"`
	}{"image", m.OriginalContentURL, m.PreviewImageURL})
}

func (m ImageMessage) validate(field string) error {
	for name, v := range map[string]string{"OriginalContentURL": m.OriginalContentURL, "PreviewImageURL": m.PreviewImageURL} {
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return invalid(field+"."+name, "%q is not an https URL", v)
		}
	}
	return nil
}

// FlexMessage is a Flex message. Contents (a bubble or carousel container)
// is passed through as JSON; LINE's validate endpoints check it.
type FlexMessage struct {
	AltText  string
	Contents json.RawMessage
}

// Type returns "flex".
func (FlexMessage) Type() string { return "flex" }

// MarshalJSON writes the message with its type.
func (m FlexMessage) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type     string          `json:"type"`
		AltText  string          `json:"altText"`
		Contents json.RawMessage `json:"contents"`
	}{"flex", m.AltText, m.Contents})
}

func (m FlexMessage) validate(field string) error {
	if m.AltText == "" {
		return invalid(field+".AltText", "empty")
	}
	var c struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(m.Contents, &c); err != nil {
		return invalid(field+".Contents", "not a JSON object: %v", err)
	}
	if c.Type != "bubble" && c.Type != "carousel" {
		return invalid(field+".Contents", "type %q, want bubble or carousel", c.Type)
	}
	return nil
}

// RawMessage is a message object given as LINE's JSON, for the kinds this
// package does not model (video, audio, location, imagemap, template,
// textV2, coupon). Only its shape is checked locally: a JSON object with a
// "type"; ValidateMessages checks the rest with LINE.
type RawMessage json.RawMessage

// Type returns the message's "type", or "" when it has none.
func (m RawMessage) Type() string {
	var t struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(m, &t)
	return t.Type
}

// MarshalJSON returns m.
func (m RawMessage) MarshalJSON() ([]byte, error) {
	if len(m) == 0 {
		return []byte("null"), nil
	}
	return m, nil
}

func (m RawMessage) validate(field string) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(m, &obj); err != nil {
		return invalid(field, "not a JSON object")
	}
	if m.Type() == "" {
		return invalid(field+".type", "missing")
	}
	return nil
}

func validateMessages(msgs []Message) error {
	if len(msgs) == 0 {
		return invalid("Messages", "at least one message is required")
	}
	if len(msgs) > MaxMessages {
		return invalid("Messages", "%d messages, at most %d per request", len(msgs), MaxMessages)
	}
	for i, m := range msgs {
		f := fmt.Sprintf("Messages[%d]", i)
		if m == nil {
			return invalid(f, "nil")
		}
		// A nil *TextMessage and the like is a Message too; calling it
		// would panic.
		if v := reflect.ValueOf(m); v.Kind() == reflect.Pointer && v.IsNil() {
			return invalid(f, "nil %T", m)
		}
		if err := m.validate(f); err != nil {
			return err
		}
	}
	return nil
}

// Validate asks LINE whether msgs are valid for a send of kind
// (EndpointPush, EndpointMulticast, EndpointNarrowcast or EndpointBroadcast),
// which checks what this package passes through unchecked, such as Flex
// contents. An invalid message is an *APIError whose Details name the
// property.
func (s *MessagesService) Validate(ctx context.Context, kind Endpoint, msgs []Message) (*Response, error) {
	switch kind {
	case EndpointPush, EndpointMulticast, EndpointNarrowcast, EndpointBroadcast:
	default:
		return nil, invalid("kind", "%q is not a send endpoint", kind)
	}
	if err := validateMessages(msgs); err != nil {
		return nil, err
	}
	return s.c.do(ctx, &call{class: EndpointOther, method: http.MethodPost, path: "/v2/bot/message/validate/" + string(kind),
		body: map[string]any{"messages": msgs}, retry: idempotent})
}
