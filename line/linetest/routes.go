package linetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/shopcrm/shopcrm/internal/fake"
	"github.com/shopcrm/shopcrm/line"
)

const monthlyLimit = "You have reached your monthly limit."

// aggregationUnitRe is the pattern of a multicast's customAggregationUnits
// (messaging-api.yml, MulticastRequest).
var aggregationUnitRe = regexp.MustCompile(`^[a-zA-Z0-9_]{1,30}$`)

func (s *Server) route(w *httptest.ResponseRecorder, r *http.Request, body []byte, reqID string) {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPost && p == "/v2/bot/message/push":
		s.push(w, body, reqID)
	case r.Method == http.MethodPost && p == "/v2/bot/message/multicast":
		s.multicast(w, body, reqID)
	case r.Method == http.MethodPost && p == "/v2/bot/message/broadcast":
		s.broadcast(w, body, reqID)
	case r.Method == http.MethodPost && p == "/v2/bot/message/narrowcast":
		s.narrowcast(w, body, reqID)
	case r.Method == http.MethodGet && p == "/v2/bot/message/progress/narrowcast":
		s.progress(w, r.URL.Query().Get("requestId"))
	case r.Method == http.MethodPost && strings.HasPrefix(p, "/v2/bot/message/validate/"):
		switch strings.TrimPrefix(p, "/v2/bot/message/validate/") {
		case "reply", "push", "multicast", "narrowcast", "broadcast":
			if _, ok := decodeSend(w, body); ok {
				w.WriteHeader(http.StatusOK)
			}
		default:
			writeError(w, http.StatusNotFound, "Not found")
		}
	case r.Method == http.MethodGet && p == "/v2/bot/message/quota":
		if s.cfg.quota < 0 {
			fake.WriteJSON(w, 200, map[string]any{"type": "none"})
		} else {
			fake.WriteJSON(w, 200, map[string]any{"type": "limited", "value": s.cfg.quota})
		}
	case r.Method == http.MethodGet && p == "/v2/bot/message/quota/consumption":
		s.rollMonth()
		fake.WriteJSON(w, 200, map[string]any{"totalUsage": s.usage})
	case r.Method == http.MethodGet && strings.HasPrefix(p, "/v2/bot/profile/"):
		prof, ok := s.profiles[strings.TrimPrefix(p, "/v2/bot/profile/")]
		if !ok {
			writeError(w, http.StatusNotFound, "Not found")
			return
		}
		fake.WriteJSON(w, 200, prof)
	case r.Method == http.MethodGet && p == "/v2/bot/followers/ids":
		s.followersIDs(w, r)
	case r.Method == http.MethodPost && strings.HasPrefix(p, "/v2/bot/user/") && strings.HasSuffix(p, "/linkToken"):
		uid := strings.TrimSuffix(strings.TrimPrefix(p, "/v2/bot/user/"), "/linkToken")
		if _, ok := s.profiles[uid]; !ok {
			writeError(w, http.StatusNotFound, "Not found")
			return
		}
		fake.WriteJSON(w, 200, map[string]string{"linkToken": strings.ReplaceAll(newID(), "-", "")})
	case strings.HasPrefix(p, "/v2/bot/audienceGroup/"):
		s.audienceRoute(w, r, body)
	default:
		writeError(w, http.StatusNotFound, "Not found")
	}
}

type sendReq struct {
	To                     json.RawMessage   `json:"to"`
	Messages               []json.RawMessage `json:"messages"`
	NotificationDisabled   *bool             `json:"notificationDisabled"`
	CustomAggregationUnits []string          `json:"customAggregationUnits"`
	Recipient              json.RawMessage   `json:"recipient"`
	Filter                 *struct {
		Demographic json.RawMessage `json:"demographic"`
	} `json:"filter"`
	Limit *struct {
		Max                   *int32 `json:"max"`
		UpToRemainingQuota    bool   `json:"upToRemainingQuota"`
		ForbidPartialDelivery bool   `json:"forbidPartialDelivery"`
	} `json:"limit"`
}

func decodeSend(w http.ResponseWriter, body []byte) (*sendReq, bool) {
	var req sendReq
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, "The request body is not valid JSON")
		return nil, false
	}
	var details []errorDetail
	if len(req.Messages) == 0 {
		details = append(details, errorDetail{"Size must be between 1 and 5", "messages"})
	} else if len(req.Messages) > 5 {
		details = append(details, errorDetail{"Size must be between 1 and 5", "messages"})
	}
	for i, m := range req.Messages {
		details = append(details, checkMessage(fmt.Sprintf("messages[%d]", i), m)...)
	}
	if len(req.CustomAggregationUnits) > 1 {
		details = append(details, errorDetail{"Size must be between 0 and 1", "customAggregationUnits"})
	}
	if len(details) > 0 {
		badBody(w, details...)
		return nil, false
	}
	return &req, true
}

func checkMessage(prop string, raw json.RawMessage) []errorDetail {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return []errorDetail{{"Must be an object", prop}}
	}
	str := func(k string) string { v, _ := m[k].(string); return v }
	if d := checkCommon(prop, m); d != nil {
		return d
	}
	switch str("type") {
	case "text":
		t := str("text")
		if t == "" {
			return []errorDetail{{"May not be empty", prop + ".text"}}
		}
		if n := len(utf16.Encode([]rune(t))); n > 5000 {
			return []errorDetail{{"Length must be between 0 and 5000", prop + ".text"}}
		}
	case "sticker":
		if str("packageId") == "" || str("stickerId") == "" {
			return []errorDetail{{"May not be empty", prop + ".stickerId"}}
		}
	case "image":
		for _, k := range []string{"originalContentUrl", "previewImageUrl"} {
			if !strings.HasPrefix(str(k), "https://") {
				return []errorDetail{{"Must be a valid HTTPS URL", prop + "." + k}}
			}
		}
	case "flex":
		if str("altText") == "" {
			return []errorDetail{{"May not be empty", prop + ".altText"}}
		}
		if _, ok := m["contents"].(map[string]any); !ok {
			return []errorDetail{{"May not be empty", prop + ".contents"}}
		}
	case "textV2", "video", "audio", "location", "imagemap", "template", "coupon":
	default:
		return []errorDetail{{"Must be one of the following values: [text, textV2, sticker, image, video, audio, location, imagemap, template, flex, coupon]", prop + ".type"}}
	}
	return nil
}

// checkCommon checks the properties every message may carry, with their
// limits in messaging-api.yml: quickReply.items (at most 13), sender.name
// (at most 20 characters) and sender.iconUrl (at most 2,000).
func checkCommon(prop string, m map[string]any) []errorDetail {
	if qr, ok := m["quickReply"].(map[string]any); ok {
		if items, _ := qr["items"].([]any); len(items) > 13 {
			return []errorDetail{{"Size must be between 0 and 13", prop + ".quickReply.items"}}
		}
	}
	if sender, ok := m["sender"].(map[string]any); ok {
		name, _ := sender["name"].(string)
		icon, _ := sender["iconUrl"].(string)
		switch {
		case utf8.RuneCountInString(name) > 20:
			return []errorDetail{{"Length must be between 0 and 20", prop + ".sender.name"}}
		case utf8.RuneCountInString(icon) > 2000:
			return []errorDetail{{"Length must be between 0 and 2000", prop + ".sender.iconUrl"}}
		}
	}
	return nil
}

// charge counts n recipients against the monthly quota; false when over.
func (s *Server) charge(w http.ResponseWriter, n int) bool {
	s.rollMonth()
	if s.cfg.quota >= 0 && s.usage+int64(n) > s.cfg.quota {
		writeError(w, http.StatusTooManyRequests, monthlyLimit)
		return false
	}
	s.usage += int64(n)
	return true
}

func (s *Server) deliver(to []string, msgs []json.RawMessage, reqID string, e line.Endpoint) {
	now := s.now()
	for _, u := range to {
		for _, m := range msgs {
			s.inbox[u] = append(s.inbox[u], Received{RequestID: reqID, Endpoint: e, Message: m, At: now})
		}
	}
}

func (s *Server) push(w http.ResponseWriter, body []byte, reqID string) {
	req, ok := decodeSend(w, body)
	if !ok {
		return
	}
	var to string
	if json.Unmarshal(req.To, &to) != nil || to == "" {
		badBody(w, errorDetail{"May not be empty", "to"})
		return
	}
	if !validRecipient(to) {
		invalidProperty(w, "to")
		return
	}
	if !s.charge(w, 1) {
		return
	}
	s.deliver([]string{to}, req.Messages, reqID, line.EndpointPush)
	sent := make([]map[string]string, len(req.Messages))
	for i := range sent {
		sent[i] = map[string]string{"id": strconv.FormatInt(s.nextSeq(), 10), "quoteToken": strings.ReplaceAll(newID(), "-", "")}
	}
	fake.WriteJSON(w, 200, map[string]any{"sentMessages": sent})
}

func (s *Server) nextSeq() int64 { s.nextID++; return s.nextID }

// invalidProperty answers a malformed value, such as a user id that is not
// "U" and 32 lowercase hex digits, as LINE answers a push to one.
func invalidProperty(w http.ResponseWriter, prop string) {
	writeError(w, http.StatusBadRequest, fmt.Sprintf("The property, '%s', in the request body is invalid (line: -, column: -)", prop))
}

// validRecipient reports whether id is a user, group ("C") or room ("R")
// id: a letter and 32 lowercase hex digits.
func validRecipient(id string) bool {
	if id != "" && (id[0] == 'C' || id[0] == 'R') {
		id = "U" + id[1:]
	}
	return line.ValidUserID(id)
}

func (s *Server) multicast(w http.ResponseWriter, body []byte, reqID string) {
	req, ok := decodeSend(w, body)
	if !ok {
		return
	}
	var to []string
	if json.Unmarshal(req.To, &to) != nil || len(to) == 0 || len(to) > 500 {
		badBody(w, errorDetail{"Size must be between 1 and 500", "to"})
		return
	}
	for i, u := range to {
		if u == "" {
			badBody(w, errorDetail{"May not be empty", fmt.Sprintf("to[%d]", i)})
			return
		}
		if !line.ValidUserID(u) {
			invalidProperty(w, fmt.Sprintf("to[%d]", i))
			return
		}
	}
	for i, u := range req.CustomAggregationUnits {
		if !aggregationUnitRe.MatchString(u) {
			badBody(w, errorDetail{"Must match ^[a-zA-Z0-9_]{1,30}$", fmt.Sprintf("customAggregationUnits[%d]", i)})
			return
		}
	}
	if !s.charge(w, len(to)) {
		return
	}
	s.deliver(to, req.Messages, reqID, line.EndpointMulticast)
	fake.WriteJSON(w, 200, map[string]any{})
}

func (s *Server) broadcast(w http.ResponseWriter, body []byte, reqID string) {
	req, ok := decodeSend(w, body)
	if !ok {
		return
	}
	to := append([]string(nil), s.followers...)
	if !s.charge(w, len(to)) {
		return
	}
	s.deliver(to, req.Messages, reqID, line.EndpointBroadcast)
	fake.WriteJSON(w, 200, map[string]any{})
}

func (s *Server) narrowcast(w http.ResponseWriter, body []byte, reqID string) {
	req, ok := decodeSend(w, body)
	if !ok {
		return
	}
	if req.Filter != nil && len(req.Filter.Demographic) > 0 && string(req.Filter.Demographic) != "null" {
		// Followers carry no age, gender, area, app type or friendship
		// length here, so no answer would be LINE's: refuse rather than
		// send to everyone.
		badBody(w, errorDetail{"linetest does not model demographic filters", "filter.demographic"})
		return
	}
	targets := map[string]bool{}
	small := false // an audience under the minimum is included
	if len(req.Recipient) > 0 && string(req.Recipient) != "null" {
		set, detail := s.evalRecipient("recipient", req.Recipient, &small)
		if detail != nil {
			writeError(w, http.StatusBadRequest, detail.Message, *detail)
			return
		}
		targets = set
	} else {
		for _, f := range s.followers {
			targets[f] = true
		}
	}
	to := make([]string, 0, len(targets))
	for u := range targets {
		if _, follower := s.profiles[u]; follower {
			to = append(to, u)
		}
	}
	sort.Strings(to)
	if l := req.Limit; l != nil && l.ForbidPartialDelivery && !l.UpToRemainingQuota {
		// messaging-api.yml: "can be set to true only if
		// upToRemainingQuota is set to true".
		badBody(w, errorDetail{"forbidPartialDelivery can be true only with upToRemainingQuota", "limit.forbidPartialDelivery"})
		return
	}
	if req.Limit != nil && req.Limit.Max != nil {
		if *req.Limit.Max < 1 {
			badBody(w, errorDetail{"Must be greater than or equal to 1", "limit.max"})
			return
		}
		to = to[:min(len(to), int(*req.Limit.Max))]
	}
	nc := &narrowcast{accepted: s.now(), targets: to}
	if l := req.Limit; l != nil && l.UpToRemainingQuota && s.cfg.quota >= 0 {
		s.rollMonth()
		if left := int(max(s.cfg.quota-s.usage, 0)); len(to) > left {
			if l.ForbidPartialDelivery {
				nc.failCode, nc.failDesc = 5, "canceled to prevent partial delivery"
			} else {
				nc.targets = to[:left]
				to = nc.targets
			}
		}
	}
	switch {
	case nc.failCode != 0:
	case small:
		nc.failCode, nc.failDesc = 4, fmt.Sprintf("An audience of less than %d recipients is included as a condition of sending.", s.cfg.minAudience)
	case len(s.ncFail) > 0:
		nc.failCode, nc.failDesc = s.ncFail[0].failCode, s.ncFail[0].failDesc
		s.ncFail = s.ncFail[1:]
	}
	if nc.failCode == 0 {
		if !s.charge(w, len(to)) {
			return
		}
		s.deliver(to, req.Messages, reqID, line.EndpointNarrowcast)
	}
	s.narrowcasts[reqID] = nc
	fake.WriteJSON(w, http.StatusAccepted, map[string]any{})
}

// evalRecipient returns the users a recipient object selects; small is set
// when it includes an audience under the minimum size.
func (s *Server) evalRecipient(prop string, raw json.RawMessage, small *bool) (map[string]bool, *errorDetail) {
	var r struct {
		Type            string            `json:"type"`
		AudienceGroupID int64             `json:"audienceGroupId"`
		RequestID       string            `json:"requestId"`
		And             []json.RawMessage `json:"and"`
		Or              []json.RawMessage `json:"or"`
		Not             json.RawMessage   `json:"not"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, &errorDetail{"Must be an object", prop}
	}
	switch r.Type {
	case "audience":
		a, ok := s.audiences[r.AudienceGroupID]
		if !ok {
			return nil, &errorDetail{"audience group not found", prop + ".audienceGroupId"}
		}
		if a.group.Status != "READY" {
			return nil, &errorDetail{"audience group is not ready", prop + ".audienceGroupId"}
		}
		if s.cfg.minAudience > 0 && len(a.members) < s.cfg.minAudience {
			*small = true
		}
		out := map[string]bool{}
		for m := range a.members {
			out[m] = true
		}
		return out, nil
	case "redelivery":
		nc, ok := s.narrowcasts[r.RequestID]
		if !ok {
			return nil, &errorDetail{"request not found", prop + ".requestId"}
		}
		out := map[string]bool{}
		for _, u := range nc.targets {
			out[u] = true
		}
		return out, nil
	case "operator":
		switch {
		case len(r.And) > 0:
			var acc map[string]bool
			for i, x := range r.And {
				set, d := s.evalRecipient(fmt.Sprintf("%s.and[%d]", prop, i), x, small)
				if d != nil {
					return nil, d
				}
				if acc == nil {
					acc = set
					continue
				}
				for u := range acc {
					if !set[u] {
						delete(acc, u)
					}
				}
			}
			return acc, nil
		case len(r.Or) > 0:
			acc := map[string]bool{}
			for i, x := range r.Or {
				set, d := s.evalRecipient(fmt.Sprintf("%s.or[%d]", prop, i), x, small)
				if d != nil {
					return nil, d
				}
				for u := range set {
					acc[u] = true
				}
			}
			return acc, nil
		case len(r.Not) > 0:
			set, d := s.evalRecipient(prop+".not", r.Not, small)
			if d != nil {
				return nil, d
			}
			acc := map[string]bool{}
			for _, f := range s.followers {
				if !set[f] {
					acc[f] = true
				}
			}
			return acc, nil
		}
		return nil, &errorDetail{"an operator needs and, or or not", prop}
	}
	return nil, &errorDetail{"Must be one of the following values: [operator, audience, redelivery]", prop + ".type"}
}

func (s *Server) progress(w http.ResponseWriter, id string) {
	nc, ok := s.narrowcasts[id]
	if !ok {
		writeError(w, http.StatusNotFound, "Not found")
		return
	}
	nc.polls++
	out := map[string]any{"acceptedTime": nc.accepted.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
	switch {
	case nc.polls <= s.cfg.polls:
		out["phase"] = "waiting"
	case nc.polls <= 2*s.cfg.polls:
		out["phase"] = "sending"
		out["targetCount"] = len(nc.targets)
	default:
		if nc.completed.IsZero() {
			nc.completed = s.now()
		}
		out["completedTime"] = nc.completed.UTC().Format("2006-01-02T15:04:05.000Z07:00")
		if nc.failCode != 0 {
			out["phase"] = "failed"
			out["errorCode"] = nc.failCode
			out["failedDescription"] = nc.failDesc
			out["successCount"], out["failureCount"], out["targetCount"] = 0, 0, len(nc.targets)
		} else {
			out["phase"] = "succeeded"
			out["successCount"], out["failureCount"], out["targetCount"] = len(nc.targets), 0, len(nc.targets)
		}
	}
	fake.WriteJSON(w, 200, out)
}

func (s *Server) followersIDs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 300
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "Invalid limit", errorDetail{"Must be between 1 and 1000", "limit"})
			return
		}
		limit = n
	}
	start := 0
	if v := q.Get("start"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "c"))
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "Invalid start", errorDetail{"Invalid continuation token", "start"})
			return
		}
		start = n
	}
	start = min(start, len(s.followers))
	end := min(start+limit, len(s.followers))
	out := map[string]any{"userIds": append([]string{}, s.followers[start:end]...)}
	if end < len(s.followers) {
		out["next"] = "c" + strconv.Itoa(end)
	}
	fake.WriteJSON(w, 200, out)
}

// tokens

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	fake.WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request, body []byte) {
	r.Body = http.NoBody
	form, err := parseForm(r, body)
	if err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	switch {
	case r.Method == http.MethodPost && (r.URL.Path == "/oauth2/v3/token" || r.URL.Path == "/v2/oauth/accessToken"):
		if form.Get("grant_type") != "client_credentials" {
			tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials")
			return
		}
		if form.Get("client_id") != s.cfg.channelID || form.Get("client_secret") != s.cfg.secret {
			tokenError(w, http.StatusBadRequest, "invalid_client", "invalid client_id or client_secret")
			return
		}
		life, kind := 900, "stateless"
		if r.URL.Path == "/v2/oauth/accessToken" {
			life, kind = 30*24*3600, "short-lived"
			if s.liveTokens(kind) >= MaxShortLivedTokens {
				tokenError(w, http.StatusBadRequest, "invalid_request",
					fmt.Sprintf("the channel already has %d valid short-lived channel access tokens", MaxShortLivedTokens))
				return
			}
		}
		tok := "lt-" + kind + "-" + strings.ReplaceAll(newID(), "-", "")
		s.tokens[tok] = tokenInfo{expires: s.now().Add(time.Duration(life) * time.Second), kind: kind}
		fake.WriteJSON(w, 200, map[string]any{"access_token": tok, "expires_in": life, "token_type": "Bearer"})
	case r.Method == http.MethodGet && r.URL.Path == "/oauth2/v2.1/verify", r.Method == http.MethodPost && r.URL.Path == "/v2/oauth/verify":
		tok := form.Get("access_token")
		ti, ok := s.tokens[tok]
		if !ok || (!ti.expires.IsZero() && !s.now().Before(ti.expires)) {
			tokenError(w, http.StatusBadRequest, "invalid_request", "access token expired or invalid")
			return
		}
		exp := int64(0)
		if !ti.expires.IsZero() {
			exp = int64(ti.expires.Sub(s.now()) / time.Second)
		}
		fake.WriteJSON(w, 200, map[string]any{"client_id": s.cfg.channelID, "expires_in": exp, "scope": "profile chat_message.write"})
	case r.Method == http.MethodPost && (r.URL.Path == "/v2/oauth/revoke" || r.URL.Path == "/oauth2/v2.1/revoke"):
		tok := form.Get("access_token")
		if ti, ok := s.tokens[tok]; ok && ti.kind != "stateless" {
			delete(s.tokens, tok)
		}
		w.WriteHeader(http.StatusOK)
	default:
		tokenError(w, http.StatusNotFound, "not_found", "no such endpoint")
	}
}

// MaxShortLivedTokens is how many short-lived tokens may be valid at once
// for a channel; the server refuses to issue more (400 invalid_request, in
// the token endpoints' error shape; LINE's wording is not documented).
// Expired and revoked tokens do not count.
const MaxShortLivedTokens = 30

// liveTokens counts the tokens of kind that have not expired.
func (s *Server) liveTokens(kind string) int {
	n := 0
	for _, ti := range s.tokens {
		if ti.kind == kind && (ti.expires.IsZero() || s.now().Before(ti.expires)) {
			n++
		}
	}
	return n
}

func parseForm(r *http.Request, body []byte) (url.Values, error) {
	vals := r.URL.Query()
	if len(body) > 0 {
		req, err := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := req.ParseForm(); err != nil {
			return nil, err
		}
		for k, v := range req.PostForm {
			vals[k] = v
		}
	}
	return vals, nil
}
