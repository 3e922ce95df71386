package linetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/internal/fake"
	"github.com/shopcrm/shopcrm/internal/transport"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

// Defaults of a new Server.
const (
	DefaultChannelID     = "1234567890"
	DefaultChannelSecret = "linetest-channel-secret"
	DefaultToken         = "linetest-long-lived-channel-token"
	BotUserID            = "Ub07b07b07b07b07b07b07b07b07b07b0"
)

// Fault is a scripted failure; see [shopcrmtest.Fault]. Its Op is an
// endpoint class ("push", "multicast", "narrowcast", "broadcast",
// "audience", "audience-read", "other", the values of line.Endpoint) or a
// request path
// ("/v2/bot/message/push").
type Fault = shopcrmtest.Fault

// FaultKind says how a request fails; the kinds are shopcrmtest's
// ([shopcrmtest.FaultStatus], [shopcrmtest.FaultDrop], ...).
type FaultKind = shopcrmtest.FaultKind

// Stats counts what the server did; see [shopcrmtest.Stats]. Its ops are
// the endpoint classes, and 429s of the enforced per-endpoint limits and of
// the audience job limit count as throttled (monthly-quota 429s do not).
type Stats = shopcrmtest.Stats

// OpStats counts what the server did for one endpoint class.
type OpStats = shopcrmtest.OpStats

// DefaultLimits are LINE's documented limits (multicast 200/s, narrowcast
// and broadcast 60/hour, audience writes and reads 60/min, others 2,000/s).
// The per-second ones are token buckets with a small burst to absorb
// network jitter; for the classes LINE counts per hour or minute (see
// line.Endpoint.Window) the server admits PerSecond × Window requests in any
// window of its clock, and Burst is not used.
func DefaultLimits() map[line.Endpoint]shopcrm.RateLimit {
	return map[line.Endpoint]shopcrm.RateLimit{
		line.EndpointPush:         {PerSecond: 2000, Burst: 200},
		line.EndpointMulticast:    {PerSecond: 200, Burst: 20},
		line.EndpointNarrowcast:   {PerSecond: 60.0 / 3600},
		line.EndpointBroadcast:    {PerSecond: 60.0 / 3600},
		line.EndpointAudience:     {PerSecond: 1},
		line.EndpointAudienceRead: {PerSecond: 1},
		line.EndpointOther:        {PerSecond: 2000, Burst: 200},
	}
}

type config struct {
	fake.Config
	channelID, secret, token string
	limits                   map[line.Endpoint]shopcrm.RateLimit
	quota                    int64 // <0: none
	polls                    int
	minAudience              int
	audienceJobs             int
	jobDuration              time.Duration
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

// WithRateLimit sets the enforced limit of an endpoint class: PerSecond
// requests per second with bursts of Burst, or, for a class LINE counts per
// hour or minute, PerSecond × line.Endpoint.Window requests in any window.
// PerSecond ≤ 0 disables it.
func WithRateLimit(e line.Endpoint, l shopcrm.RateLimit) Option {
	return func(c *config) { c.limits[e] = l }
}

// WithLatency delays every request by d before it is handled, so round
// trips cost what they cost in real life. A client hanging up during the
// wait is noticed.
func WithLatency(d time.Duration) Option { return func(c *config) { c.Latency = d } }

// WithQuota sets a monthly message quota (recipients per month); without it
// the quota type is "none".
func WithQuota(n int64) Option { return func(c *config) { c.quota = n } }

// WithFaults scripts faults, consumed in order by the requests they match
// (after authentication, retry-key checks and the rate limit; requests to
// the token endpoints too). NewServer panics on a fault it cannot carry
// out, such as an unknown endpoint class.
func WithFaults(f ...Fault) Option { return func(c *config) { c.Faults = append(c.Faults, f...) } }

// WithProgressPolls sets how many progress reads a narrowcast spends in each
// of waiting and sending, and how many reads of its group an audience job
// spends in each of QUEUED and WORKING (default 1). 0 finishes them at once.
func WithProgressPolls(n int) Option { return func(c *config) { c.polls = max(n, 0) } }

// WithChaos makes each request that no scripted fault matched fail with
// probability rate, with a kind drawn from kinds (default: 503, dropped
// connection, lost response, malformed body), deterministically from seed.
func WithChaos(seed uint64, rate float64, kinds ...FaultKind) Option {
	return func(c *config) { c.Chaos = fake.Chaos{Seed: seed, Rate: rate, Kinds: kinds} }
}

// WithChaosFaults makes each request that no scripted fault matched fail
// as c says: with probability c.Rate, with a fault drawn from c.Faults
// (statuses and Retry-After headers included; see shopcrmtest.EveryFault),
// and c.OnFault told of each one. It replaces WithChaos.
func WithChaosFaults(c shopcrmtest.Chaos) Option {
	return func(cfg *config) { cfg.Chaos = fake.FromChaos(c) }
}

// DefaultMinNarrowcastAudience is LINE's smallest audience a narrowcast may
// include: a narrowcast with an audience of fewer recipients is accepted
// (202) and then fails with error code 4.
const DefaultMinNarrowcastAudience = 50

// WithMinNarrowcastAudience sets the smallest audience a narrowcast may
// include (default [DefaultMinNarrowcastAudience], as LINE); n ≤ 0 turns
// the check off. A narrowcast including a smaller audience is accepted and
// then fails with error code 4.
func WithMinNarrowcastAudience(n int) Option { return func(c *config) { c.minAudience = max(n, 0) } }

// WithNow starts the server's clock at t (it then runs at real speed).
func WithNow(t time.Time) Option { return func(c *config) { c.Now = t } }

// Received is a message delivered to a user.
type Received struct {
	RequestID string          // x-line-request-id of the send
	Endpoint  line.Endpoint   // the send's endpoint class
	Message   json.RawMessage // the message as sent
	At        time.Time       // the server's clock at delivery
}

// Request is a request the server received.
type Request struct {
	Method    string
	Path      string
	Endpoint  line.Endpoint // the endpoint class of the path
	RetryKey  string        // X-Line-Retry-Key, if sent
	Status    int           // 0 when no answer was sent (dropped, timed out, lost)
	Fault     FaultKind     // the injected fault, FaultNone when none
	RequestID string        // x-line-request-id of the answer
	At        time.Time     // the server's clock on arrival
}

type keyEntry struct {
	requestID string
	at        time.Time
	raced     bool            // a narrowcast retry was already accepted and failed with error code 3
	sent      json.RawMessage // a push's sentMessages, repeated in the 409 of its retries
}

// NarrowcastRaceWindow is how long after a narrowcast was accepted the
// first retry with its key is itself accepted (202) and then fails with
// error code 3, as when LINE detects the conflict after accepting the
// retry; any other retry within 24 hours is answered 409. LINE does not
// document when it answers which; this is the fake's model.
const NarrowcastRaceWindow = time.Minute

// msgRetryAccepted is the failedDescription of a narrowcast retry found to
// conflict after it was accepted (error code 3); LINE's wording is not
// documented, this is the OpenAPI description of the code.
const msgRetryAccepted = "A conflict error of requests occurs because a request that has already been accepted is retried."

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

// Server is a fake LINE API server.
type Server struct {
	srv  *httptest.Server
	cfg  config
	base *fake.Base

	mu          sync.Mutex
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
	windows     map[line.Endpoint]*transport.Window
	usage       int64
	usageMonth  string
	ncFail      []narrowcast
	jobFail     []string
	eventSeq    uint64
}

// NewServer starts a server. Close it when done. It panics on options it
// cannot carry out.
func NewServer(opts ...Option) *Server {
	cfg := config{channelID: DefaultChannelID, secret: DefaultChannelSecret, token: DefaultToken,
		limits: DefaultLimits(), quota: -1, polls: 1, minAudience: DefaultMinNarrowcastAudience,
		audienceJobs: DefaultAudienceJobs, jobDuration: DefaultAudienceJobDuration}
	for _, o := range opts {
		o(&cfg)
	}
	base, err := fake.New(cfg.Config, fake.Platform{MaxBody: 64 << 20, ErrorBody: errorBody, ValidOp: validOp})
	if err != nil {
		panic("linetest: " + err.Error())
	}
	s := &Server{
		cfg:         cfg,
		base:        base,
		tokens:      map[string]tokenInfo{cfg.token: {kind: "long-lived"}},
		profiles:    map[string]line.Profile{},
		inbox:       map[string][]Received{},
		keys:        map[string]keyEntry{},
		narrowcasts: map[string]*narrowcast{},
		audiences:   map[int64]*audience{},
		nextID:      1000000000,
		limiters:    map[line.Endpoint]*rate.Limiter{},
		windows:     map[line.Endpoint]*transport.Window{},
	}
	for e, l := range cfg.limits {
		switch w := e.Window(); {
		case l.PerSecond <= 0:
		case w > 0:
			s.windows[e] = transport.NewWindow(max(int(math.Round(l.PerSecond*w.Seconds())), 1), w)
		default:
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
// long-lived token and dating multicast chunks by the server's clock;
// opts are applied after the server's own.
func (s *Server) Client(opts ...line.Option) *line.Client {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	all := append([]line.Option{line.WithBaseURL(s.URL()), line.WithDataURL(s.URL()), line.WithHTTPClient(hc), line.WithClock(s.Now)}, opts...)
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
func (s *Server) Now() time.Time { return s.base.Now() }

func (s *Server) now() time.Time { return s.base.Now() }

// Advance moves the server's clock forward by d.
func (s *Server) Advance(d time.Duration) { s.base.Advance(d) }

// SetNow sets the server's clock to t.
func (s *Server) SetNow(t time.Time) { s.base.SetNow(t) }

// UserID returns a well-formed LINE user id numbered n: "U" and n in 32
// lowercase hex digits. The server refuses user ids of any other form, as
// LINE does.
func UserID(n uint64) string { return fmt.Sprintf("U%032x", n) }

// AddFollowers adds friends of the account, each with a default profile. It
// panics on an id that is not a LINE user id (see [UserID]).
func (s *Server) AddFollowers(userIDs ...string) {
	for _, id := range userIDs {
		if !line.ValidUserID(id) {
			panic(fmt.Sprintf("linetest: AddFollowers: %q is not a LINE user id (U and 32 lowercase hex digits)", id))
		}
	}
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

// SetProfile adds or replaces a follower's profile. It panics on a
// malformed user id, as AddFollowers does.
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

// AddFaults appends scripted faults, as WithFaults does at the start. It
// panics on a fault it cannot carry out.
func (s *Server) AddFaults(f ...Fault) {
	if err := s.base.AddFaults(f...); err != nil {
		panic("linetest: " + err.Error())
	}
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

// Stats returns the counters.
func (s *Server) Stats() Stats { return s.base.Stats() }

// AudienceMembers returns the members of an audience group, sorted, and
// whether it exists: the users of its finished upload jobs, those a
// narrowcast to it reaches.
func (s *Server) AudienceMembers(id int64) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.audiences[id]
	if !ok {
		return nil, false
	}
	s.refresh(a)
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

// serve wraps every request: request id, rate limit, body and latency,
// then the handler under the lock into a recorder, then the answer through
// the fault.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	reqID := newID()
	w.Header().Set("x-line-request-id", reqID)
	// Limits count requests when they arrive; the latency then stands for
	// the round trip.
	class, _ := classify(r.Method, r.URL.Path)
	limited := false
	if !isTokenPath(r.URL.Path) {
		s.mu.Lock()
		if lim := s.limiters[class]; lim != nil && !lim.AllowN(s.now(), 1) {
			limited = true
		}
		if win := s.windows[class]; win != nil && !win.Allow(s.now()) {
			limited = true
		}
		s.mu.Unlock()
	}
	body, _, ok := s.base.Receive(w, r)
	if !ok {
		return
	}
	rec := httptest.NewRecorder()
	s.mu.Lock()
	fault := s.handle(rec, r, body, reqID, limited)
	s.mu.Unlock()
	fake.Deliver(w, r, rec, fault)
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
	case strings.HasPrefix(path, "/v2/bot/audienceGroup/"):
		return line.EndpointAudienceRead, false
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

func writeError(w http.ResponseWriter, status int, msg string, details ...errorDetail) {
	fake.WriteJSON(w, status, apiError{Message: msg, Details: details})
}

func badBody(w http.ResponseWriter, details ...errorDetail) {
	writeError(w, http.StatusBadRequest, fmt.Sprintf("The request body has %d error(s)", len(details)), details...)
}

// errorBody is LINE's body for an HTTP error status.
func errorBody(status int) any {
	msg := http.StatusText(status)
	switch status {
	case http.StatusUnauthorized:
		msg = msgUnauthorized
	case http.StatusNotFound:
		msg = "Not found"
	case http.StatusTooManyRequests:
		msg = msgRateLimited
	case http.StatusInternalServerError:
		msg = "Internal server error"
	}
	return apiError{Message: msg}
}

const (
	msgUnauthorized = "Authentication failed. Confirm that the access token in the authorization header is valid."
	msgRateLimited  = "The API rate limit has been exceeded. Try again later."
	// msgRetryKeyAccepted is the 409 body's message in LINE's guide to
	// retrying API requests.
	msgRetryKeyAccepted = "The retry key is already accepted"
)

// validOp accepts the endpoint classes and paths the server routes.
func validOp(op string) error {
	switch line.Endpoint(op) {
	case line.EndpointPush, line.EndpointMulticast, line.EndpointNarrowcast, line.EndpointBroadcast,
		line.EndpointAudience, line.EndpointAudienceRead, line.EndpointOther:
		return nil
	}
	if strings.HasPrefix(op, "/v2/bot/") || isTokenPath(op) {
		return nil
	}
	return fmt.Errorf("op %q is neither an endpoint class nor a path the fake serves", op)
}

// handle runs under s.mu.
func (s *Server) handle(w *httptest.ResponseRecorder, r *http.Request, body []byte, reqID string, limited bool) Fault {
	class, send := classify(r.Method, r.URL.Path)
	key := r.Header.Get("X-Line-Retry-Key")
	rq := Request{Method: r.Method, Path: r.URL.Path, Endpoint: class, RetryKey: key, RequestID: reqID, At: s.now()}
	s.base.Seen(string(class))
	fault := s.dispatch(w, r, body, reqID, class, send, key, limited)
	rq.Fault = fault.Kind
	if fake.Answers(fault.Kind) {
		rq.Status = w.Code
	}
	if fake.Acts(fault.Kind) && w.Code >= 200 && w.Code < 300 {
		s.base.Accepted(string(class))
	}
	s.requests = append(s.requests, rq)
	return fault
}

// dispatch checks the request, picks its fault and, unless the fault
// strikes first, carries it out.
func (s *Server) dispatch(w *httptest.ResponseRecorder, r *http.Request, body []byte, reqID string, class line.Endpoint, send bool, key string, limited bool) Fault {
	token := isTokenPath(r.URL.Path)
	if !token && !s.admit(w, r, class, send, key, limited) {
		return Fault{}
	}
	fault := s.base.Pick([]string{string(class)}, r.URL.Path)
	s.base.Respond(w, fault, func() {
		if token {
			s.tokenEndpoint(w, r, body)
			return
		}
		s.act(w, r, body, reqID, class, send, key)
	})
	return fault
}

// admit answers requests refused before any fault: no valid token, a
// misplaced or malformed retry key, over the rate limit.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, class line.Endpoint, send bool, key string, limited bool) bool {
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, msgUnauthorized)
		return false
	}
	if _, present := r.Header["X-Line-Retry-Key"]; present {
		if !send {
			writeError(w, http.StatusBadRequest, "X-Line-Retry-Key is not supported for this endpoint")
			return false
		}
		if !validKey(key) {
			writeError(w, http.StatusBadRequest, "The value of X-Line-Retry-Key is invalid",
				errorDetail{Message: "must be a UUID", Property: "X-Line-Retry-Key"})
			return false
		}
	}
	if limited {
		s.base.Throttled(string(class))
		writeError(w, http.StatusTooManyRequests, msgRateLimited)
		return false
	}
	return true
}

// act carries out an admitted request: a send whose retry key was accepted
// in the last 24 hours answers 409 with the first request's id, except the
// first narrowcast retry within NarrowcastRaceWindow, accepted and then
// failed with error code 3.
func (s *Server) act(w *httptest.ResponseRecorder, r *http.Request, body []byte, reqID string, class line.Endpoint, send bool, key string) {
	if send && key != "" {
		if e, ok := s.keys[key]; ok && s.now().Sub(e.at) < 24*time.Hour {
			if class == line.EndpointNarrowcast && !e.raced && s.now().Sub(e.at) < NarrowcastRaceWindow {
				e.raced = true
				s.keys[key] = e
				s.narrowcasts[reqID] = &narrowcast{accepted: s.now(), failCode: 3, failDesc: msgRetryAccepted}
				fake.WriteJSON(w, http.StatusAccepted, map[string]any{})
				return
			}
			w.Header().Set("x-line-accepted-request-id", e.requestID)
			if e.sent != nil {
				// LINE's retry guide: a push's 409 repeats the sentMessages
				// of the accepted request.
				fake.WriteJSON(w, http.StatusConflict, map[string]any{"message": msgRetryKeyAccepted, "sentMessages": e.sent})
				return
			}
			writeError(w, http.StatusConflict, msgRetryKeyAccepted)
			return
		}
	}
	s.route(w, r, body, reqID)
	if send && key != "" && w.Code >= 200 && w.Code < 300 {
		e := keyEntry{requestID: reqID, at: s.now()}
		if class == line.EndpointPush {
			var out struct {
				SentMessages json.RawMessage `json:"sentMessages"`
			}
			_ = json.Unmarshal(w.Body.Bytes(), &out)
			e.sent = out.SentMessages
		}
		s.keys[key] = e
	}
}

func isTokenPath(p string) bool {
	return strings.HasPrefix(p, "/oauth2/") || strings.HasPrefix(p, "/v2/oauth/")
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
