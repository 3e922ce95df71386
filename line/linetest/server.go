package linetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/shopcrm/shopcrm/line"
)

// Defaults of a new Server.
const (
	DefaultChannelID     = "1234567890"
	DefaultChannelSecret = "linetest-channel-secret"
	DefaultToken         = "linetest-long-lived-channel-token"
	BotUserID            = "Ub07b07b07b07b07b07b07b07b07b07b0"
)

// Fault is an injected failure.
type Fault int

// Faults the server can inject.
const (
	// FaultOK is no fault; queued with FailNext it lets one request through.
	FaultOK Fault = 0
	// FaultServerError answers 500 without acting.
	FaultServerError Fault = iota
	// FaultRateLimit answers a rate-limit 429 without acting.
	FaultRateLimit
	// FaultDrop closes the connection without acting.
	FaultDrop
	// FaultLostResponse acts (records the send, stores the retry key), then
	// closes the connection instead of answering.
	FaultLostResponse
	// FaultTimeout holds the request without acting until the client gives
	// up (or a minute passes), then closes the connection.
	FaultTimeout
	// FaultMalformed acts, then answers its status with a truncated body.
	FaultMalformed
)

// String names the fault.
func (f Fault) String() string {
	switch f {
	case FaultOK:
		return "none"
	case FaultServerError:
		return "server error"
	case FaultRateLimit:
		return "rate limit"
	case FaultDrop:
		return "drop"
	case FaultLostResponse:
		return "lost response"
	case FaultTimeout:
		return "timeout"
	case FaultMalformed:
		return "malformed"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// RateLimit is a rate limit the server enforces: PerSecond with a burst.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// DefaultLimits are LINE's documented limits with a small burst to absorb
// network jitter (multicast 200/s, narrowcast and broadcast 60/hour,
// audience writes 60/min, others 2,000/s).
func DefaultLimits() map[line.Endpoint]RateLimit {
	return map[line.Endpoint]RateLimit{
		line.EndpointPush:       {2000, 200},
		line.EndpointMulticast:  {200, 20},
		line.EndpointNarrowcast: {60.0 / 3600, 60},
		line.EndpointBroadcast:  {60.0 / 3600, 60},
		line.EndpointAudience:   {1, 60},
		line.EndpointOther:      {2000, 200},
	}
}

type config struct {
	channelID, secret, token string
	limits                   map[line.Endpoint]RateLimit
	latency                  time.Duration
	faultSeed                uint64
	faultRate                float64
	faultKinds               []Fault
	start                    time.Time
	quota                    int64 // <0: none
	polls                    int
	minAudience              int
}

// Option configures a Server.
type Option func(*config)

// WithChannel sets the channel id and secret (used by the token endpoints
// and to sign webhooks).
func WithChannel(id, secret string) Option {
	return func(c *config) { c.channelID, c.secret = id, secret }
}

// WithToken sets the long-lived channel access token the server accepts.
func WithToken(tok string) Option { return func(c *config) { c.token = tok } }

// WithLimit sets the enforced limit of an endpoint class; PerSecond ≤ 0
// disables it.
func WithLimit(e line.Endpoint, l RateLimit) Option { return func(c *config) { c.limits[e] = l } }

// WithLatency delays every request by d before it is handled, so round
// trips cost what they cost in real life.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithFaults injects faults into the send endpoints: each request fails with
// probability rate, with a kind drawn from kinds, deterministically from
// seed.
func WithFaults(seed uint64, rate float64, kinds ...Fault) Option {
	return func(c *config) { c.faultSeed, c.faultRate, c.faultKinds = seed, rate, kinds }
}

// WithClock starts the server's clock at t.
func WithClock(t time.Time) Option { return func(c *config) { c.start = t } }

// WithQuota sets a monthly message quota (recipients per month); without it
// the quota type is "none".
func WithQuota(n int64) Option { return func(c *config) { c.quota = n } }

// WithProgressPolls sets how many progress reads a narrowcast spends in each
// of waiting and sending, and an audience in IN_PROGRESS (default 1).
func WithProgressPolls(n int) Option { return func(c *config) { c.polls = max(n, 0) } }

// WithMinNarrowcastAudience makes narrowcasts to fewer than n recipients
// fail with error code 4, as LINE does for n = 50 (default 0: off).
func WithMinNarrowcastAudience(n int) Option { return func(c *config) { c.minAudience = n } }

// Received is a message delivered to a user.
type Received struct {
	RequestID string
	Endpoint  line.Endpoint
	Message   json.RawMessage
	At        time.Time
}

// Request is a request the server received.
type Request struct {
	Method    string
	Path      string
	Endpoint  line.Endpoint
	RetryKey  string
	Status    int // 0 when the connection was dropped
	Fault     Fault
	RequestID string
	At        time.Time
}

type keyEntry struct {
	requestID string
	at        time.Time
}

type tokenInfo struct {
	expires time.Time // zero: never
	kind    string
}

type narrowcast struct {
	accepted, completed time.Time
	targets             []string
	polls               int
	failCode            int64
	failDesc            string
}

type audience struct {
	group   line.AudienceGroup
	members map[string]bool
	jobs    []line.AudienceJob
	polls   int
}

// Server is a fake LINE API server.
type Server struct {
	srv *httptest.Server
	cfg config

	mu          sync.Mutex
	offset      time.Duration
	rnd         *mrand.Rand
	tokens      map[string]tokenInfo
	followers   []string
	profiles    map[string]line.Profile
	inbox       map[string][]Received
	requests    []Request
	keys        map[string]keyEntry
	narrowcasts map[string]*narrowcast
	audiences   map[int64]*audience
	nextID      int64
	limiters    map[line.Endpoint]*rate.Limiter
	throttled   map[line.Endpoint]int
	accepted    map[line.Endpoint]int
	usage       int64
	usageMonth  string
	scripted    map[line.Endpoint][]Fault
	ncFail      []narrowcast
	eventSeq    uint64
}

// NewServer starts a server. Close it when done.
func NewServer(opts ...Option) *Server {
	cfg := config{channelID: DefaultChannelID, secret: DefaultChannelSecret, token: DefaultToken,
		limits: DefaultLimits(), quota: -1, polls: 1}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		cfg:         cfg,
		rnd:         mrand.New(mrand.NewPCG(cfg.faultSeed, 0x11e)),
		tokens:      map[string]tokenInfo{cfg.token: {kind: "long-lived"}},
		profiles:    map[string]line.Profile{},
		inbox:       map[string][]Received{},
		keys:        map[string]keyEntry{},
		narrowcasts: map[string]*narrowcast{},
		audiences:   map[int64]*audience{},
		nextID:      1000000000,
		limiters:    map[line.Endpoint]*rate.Limiter{},
		throttled:   map[line.Endpoint]int{},
		accepted:    map[line.Endpoint]int{},
		scripted:    map[line.Endpoint][]Fault{},
	}
	if !cfg.start.IsZero() {
		s.offset = time.Until(cfg.start)
	}
	for e, l := range cfg.limits {
		if l.PerSecond > 0 {
			s.limiters[e] = rate.NewLimiter(rate.Limit(l.PerSecond), max(l.Burst, 1))
		}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the server's base URL, for both hosts.
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the server down.
func (s *Server) Close() { s.srv.Close() }

// ChannelSecret returns the channel secret webhooks are signed with.
func (s *Server) ChannelSecret() line.Secret { return line.NewSecret(s.cfg.secret) }

// ChannelID returns the channel id.
func (s *Server) ChannelID() string { return s.cfg.channelID }

// Token returns the long-lived channel access token the server accepts.
func (s *Server) Token() string { return s.cfg.token }

// Client returns a client pointed at the server, authenticated with the
// long-lived token; opts are applied after the server's own.
func (s *Server) Client(opts ...line.Option) *line.Client {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	all := append([]line.Option{line.WithBaseURL(s.URL()), line.WithDataURL(s.URL()), line.WithHTTPClient(hc)}, opts...)
	c, err := line.New(line.StaticToken(s.cfg.token), all...)
	if err != nil {
		panic("linetest: " + err.Error())
	}
	return c
}

// TokenIssuer returns a token issuer for the server's channel.
func (s *Server) TokenIssuer(kind line.TokenKind, opts ...line.TokenOption) *line.TokenIssuer {
	all := append([]line.TokenOption{line.WithTokenBaseURL(s.URL()), line.WithTokenClock(s.Now)}, opts...)
	t, err := line.NewTokenIssuer(kind, s.cfg.channelID, line.NewSecret(s.cfg.secret), all...)
	if err != nil {
		panic("linetest: " + err.Error())
	}
	return t
}

// Now is the server's clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

func (s *Server) now() time.Time { return time.Now().Add(s.offset) }

// Advance moves the server's clock forward by d.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// SetNow sets the server's clock to t.
func (s *Server) SetNow(t time.Time) {
	s.mu.Lock()
	s.offset = time.Until(t)
	s.mu.Unlock()
}

// AddFollowers adds friends of the account, each with a default profile.
func (s *Server) AddFollowers(userIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range userIDs {
		if _, ok := s.profiles[id]; ok {
			continue
		}
		s.followers = append(s.followers, id)
		s.profiles[id] = line.Profile{UserID: id, DisplayName: "user " + id[max(0, len(id)-4):]}
	}
}

// SetProfile adds or replaces a follower's profile.
func (s *Server) SetProfile(p line.Profile) {
	s.AddFollowers(p.UserID)
	s.mu.Lock()
	s.profiles[p.UserID] = p
	s.mu.Unlock()
}

// RemoveFollower removes a friend (as when the user blocks the account).
func (s *Server) RemoveFollower(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.profiles, userID)
	for i, id := range s.followers {
		if id == userID {
			s.followers = append(s.followers[:i], s.followers[i+1:]...)
			break
		}
	}
}

// FailNext makes the next request to endpoint class e fail with f; calls
// queue up.
func (s *Server) FailNext(e line.Endpoint, f Fault) {
	s.mu.Lock()
	s.scripted[e] = append(s.scripted[e], f)
	s.mu.Unlock()
}

// FailNextNarrowcast makes the next accepted narrowcast fail with LINE's
// error code (1 internal, 2 not enough recipients, 4 audience too small,
// 5 canceled to prevent partial delivery) and description.
func (s *Server) FailNextNarrowcast(code int64, description string) {
	s.mu.Lock()
	s.ncFail = append(s.ncFail, narrowcast{failCode: code, failDesc: description})
	s.mu.Unlock()
}

// Messages returns the messages delivered to userID, oldest first.
func (s *Server) Messages(userID string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.inbox[userID]...)
}

// Recipients returns the users who received at least one message, sorted.
func (s *Server) Recipients() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.inbox))
	for id := range s.inbox {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Requests returns every request received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Throttled returns how many requests of class e were answered with a
// rate-limit 429 by the enforced limit (injected faults not included).
func (s *Server) Throttled(e line.Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled[e]
}

// Accepted returns how many requests of class e were answered with 2xx.
func (s *Server) Accepted(e line.Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted[e]
}

// AudienceMembers returns the members of an audience group, sorted, and
// whether it exists.
func (s *Server) AudienceMembers(id int64) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.audiences[id]
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(a.members))
	for m := range a.members {
		out = append(out, m)
	}
	sort.Strings(out)
	return out, true
}

// Usage returns the messages counted against this month's quota.
func (s *Server) Usage() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollMonth()
	return s.usage
}

func (s *Server) rollMonth() {
	m := s.now().In(time.FixedZone("JST", 9*3600)).Format("2006-01")
	if m != s.usageMonth {
		s.usageMonth, s.usage = m, 0
	}
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// serve wraps every request: request id, latency, then the handler under
// the lock into a recorder, then faults that act on the connection.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	reqID := newID()
	// Limits count requests when they arrive; the latency then stands for
	// the round trip.
	class, _ := classify(r.Method, r.URL.Path)
	limited := false
	if !isTokenPath(r.URL.Path) {
		s.mu.Lock()
		if lim := s.limiters[class]; lim != nil && !lim.AllowN(s.now(), 1) {
			limited = true
		}
		s.mu.Unlock()
	}
	if s.cfg.latency > 0 {
		t := time.NewTimer(s.cfg.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("x-line-request-id", reqID)
	s.mu.Lock()
	fault := s.handle(rec, r, body, reqID, limited)
	s.mu.Unlock()
	if fault == FaultTimeout {
		t := time.NewTimer(time.Minute)
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
	}
	if fault == FaultDrop || fault == FaultLostResponse || fault == FaultTimeout {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	out := rec.Body.Bytes()
	if fault == FaultMalformed {
		w.Header().Del("Content-Length")
		out = out[:len(out)/2]
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(out)
}

// classify maps a request to its endpoint class; send reports whether it
// takes a retry key.
func classify(method, path string) (e line.Endpoint, send bool) {
	switch {
	case method == http.MethodPost && path == "/v2/bot/message/push":
		return line.EndpointPush, true
	case method == http.MethodPost && path == "/v2/bot/message/multicast":
		return line.EndpointMulticast, true
	case method == http.MethodPost && path == "/v2/bot/message/narrowcast":
		return line.EndpointNarrowcast, true
	case method == http.MethodPost && path == "/v2/bot/message/broadcast":
		return line.EndpointBroadcast, true
	case strings.HasPrefix(path, "/v2/bot/audienceGroup/") && method != http.MethodGet:
		return line.EndpointAudience, false
	}
	return line.EndpointOther, false
}

type apiError struct {
	Message string        `json:"message"`
	Details []errorDetail `json:"details,omitempty"`
}

type errorDetail struct {
	Message  string `json:"message"`
	Property string `json:"property,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string, details ...errorDetail) {
	writeJSON(w, status, apiError{Message: msg, Details: details})
}

func badBody(w http.ResponseWriter, details ...errorDetail) {
	writeError(w, http.StatusBadRequest, fmt.Sprintf("The request body has %d error(s)", len(details)), details...)
}

// handle runs under s.mu.
func (s *Server) handle(w *httptest.ResponseRecorder, r *http.Request, body []byte, reqID string, limited bool) Fault {
	class, send := classify(r.Method, r.URL.Path)
	key := r.Header.Get("X-Line-Retry-Key")
	rq := Request{Method: r.Method, Path: r.URL.Path, Endpoint: class, RetryKey: key, RequestID: reqID, At: s.now()}
	fault := s.dispatch(w, r, body, reqID, class, send, key, limited)
	rq.Fault = fault
	dropped := fault == FaultDrop || fault == FaultTimeout
	if !dropped && fault != FaultLostResponse {
		rq.Status = w.Code
	}
	if w.Code >= 200 && w.Code < 300 && !dropped {
		s.accepted[class]++
	}
	s.requests = append(s.requests, rq)
	return fault
}

func (s *Server) dispatch(w *httptest.ResponseRecorder, r *http.Request, body []byte, reqID string, class line.Endpoint, send bool, key string, limited bool) Fault {
	if isTokenPath(r.URL.Path) {
		s.tokenEndpoint(w, r, body)
		return 0
	}
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, "Authentication failed. Confirm that the access token in the authorization header is valid.")
		return 0
	}
	if _, present := r.Header["X-Line-Retry-Key"]; present {
		if !send {
			writeError(w, http.StatusBadRequest, "X-Line-Retry-Key is not supported for this endpoint")
			return 0
		}
		if !validKey(key) {
			writeError(w, http.StatusBadRequest, "The value of X-Line-Retry-Key is invalid",
				errorDetail{Message: "must be a UUID", Property: "X-Line-Retry-Key"})
			return 0
		}
	}
	if limited {
		s.throttled[class]++
		writeError(w, http.StatusTooManyRequests, "The API rate limit has been exceeded. Try again later.")
		return 0
	}
	fault := s.nextFault(class, send)
	switch fault {
	case FaultServerError:
		writeError(w, http.StatusInternalServerError, "Internal server error")
		return fault
	case FaultRateLimit:
		writeError(w, http.StatusTooManyRequests, "The API rate limit has been exceeded. Try again later.")
		return fault
	case FaultDrop, FaultTimeout:
		return fault
	}
	if send && key != "" {
		if e, ok := s.keys[key]; ok && s.now().Sub(e.at) < 24*time.Hour {
			w.Header().Set("x-line-accepted-request-id", e.requestID)
			writeError(w, http.StatusConflict, "The retry key is already accepted")
			return fault
		}
	}
	s.route(w, r, body, reqID)
	if send && key != "" && w.Code >= 200 && w.Code < 300 {
		s.keys[key] = keyEntry{requestID: reqID, at: s.now()}
	}
	return fault
}

func isTokenPath(p string) bool {
	return strings.HasPrefix(p, "/oauth2/") || strings.HasPrefix(p, "/v2/oauth/")
}

func (s *Server) nextFault(class line.Endpoint, send bool) Fault {
	if q := s.scripted[class]; len(q) > 0 {
		s.scripted[class] = q[1:]
		return q[0]
	}
	if send && s.cfg.faultRate > 0 && len(s.cfg.faultKinds) > 0 && s.rnd.Float64() < s.cfg.faultRate {
		return s.cfg.faultKinds[s.rnd.IntN(len(s.cfg.faultKinds))]
	}
	return 0
}

func validKey(k string) bool {
	if len(k) != 36 {
		return false
	}
	for i, c := range k {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	ti, ok := s.tokens[tok]
	return ok && (ti.expires.IsZero() || s.now().Before(ti.expires))
}

// PostWebhook is a helper for examples: it posts body to url with the
// signature header.
func postSigned(ctx context.Context, hc *http.Client, url string, body []byte, sig string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(line.SignatureHeader, sig)
	return hc.Do(req)
}
