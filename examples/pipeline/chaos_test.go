package pipeline_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm"
	"github.com/shopcrm/shopcrm/examples/pipeline"
	"github.com/shopcrm/shopcrm/internal/transport"
	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/klaviyo/klaviyotest"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/line/linetest"
	"github.com/shopcrm/shopcrm/omnisend"
	"github.com/shopcrm/shopcrm/omnisend/omnisendtest"
	"github.com/shopcrm/shopcrm/shopcrmtest"
	"github.com/shopcrm/shopcrm/shopify"
	"github.com/shopcrm/shopcrm/shopify/shopifytest"
)

var chaosSeeds = flag.Int("chaos.seeds", 2, "faulty days TestChaosDay runs, one seed each")

const (
	chaosCustomers = 80
	chaosRate      = 0.2
	// chaosTimeout is every client's time per attempt under faults: a
	// FaultTimeout costs that much, so it is short. On a busy machine a
	// request may outlast it without a fault: one more fault, which the
	// reruns absorb. A world without faults (the reference, the
	// cancellations) has the clients' usual minute, so it never fails
	// for the machine's load.
	chaosTimeout = time.Second
	// chaosRuns bounds the reruns of a faulty day.
	chaosRuns = 25
)

// chaosSecrets are the credentials the harness hands to the fakes and the
// clients, made at random for each world. secretsOf collects them by
// walking this struct, so a credential added here is scanned for without
// further ado.
type chaosSecrets struct {
	ShopifyToken        shopcrm.Secret // the Admin API access token
	ShopifyClientSecret shopcrm.Secret // the app's secret: OAuth and webhook signatures
	LINEChannelSecret   shopcrm.Secret // issues the channel's access tokens, signs webhooks
	LINEToken           shopcrm.Secret // a long-lived channel token the fake also accepts
	KlaviyoKey          shopcrm.Secret // the private API key
	OmnisendKey         shopcrm.Secret // the brand's API key
}

func newChaosSecrets(t *testing.T) *chaosSecrets {
	s := &chaosSecrets{}
	v := reflect.ValueOf(s).Elem()
	for i := range v.NumField() {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		v.Field(i).Set(reflect.ValueOf(shopcrm.NewSecret(strings.ToLower(v.Type().Field(i).Name) + "-" + hex.EncodeToString(b))))
	}
	return s
}

// secretsOf returns the value of every shopcrm.Secret field of s.
func secretsOf(s *chaosSecrets) []string {
	var out []string
	v := reflect.ValueOf(s).Elem()
	for i := range v.NumField() {
		if sec, ok := v.Field(i).Interface().(shopcrm.Secret); ok && !sec.IsZero() {
			out = append(out, sec.Reveal())
		}
	}
	return out
}

// lockedBuffer is a log destination shared by the clients' goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// chaosWorld is the four fakes seeded with one demo store, the clients a
// user wires to them and everything the harness watches: the faults
// drawn, the credentials handed out and the text produced.
type chaosWorld struct {
	store *shopifytest.Server
	chat  *linetest.Server
	crm   *klaviyotest.Server
	esp   *omnisendtest.Server
	demo  *pipeline.Demo
	env   *pipeline.Env

	secrets *chaosSecrets
	logs    *lockedBuffer

	mu     sync.Mutex
	faults map[string]int // "platform: fault" → drawn
	issued []string       // LINE tokens the issuer obtained
	// hook, when set, hears each request as it leaves and, through the
	// function it returns, as its answer arrives: the cancellation test
	// cancels there.
	hook atomic.Pointer[func() func()]
	text []string // error strings and report lines
}

// newChaosWorld starts a world whose fakes fail rate of the requests, with
// faults drawn from shopcrmtest.EveryFault at seed.
func newChaosWorld(t *testing.T, seed uint64, rate float64) *chaosWorld {
	t.Helper()
	w := &chaosWorld{secrets: newChaosSecrets(t), logs: &lockedBuffer{}, faults: map[string]int{}}
	sec := w.secrets
	chaos := func(platform string, n uint64) shopcrmtest.Chaos {
		return shopcrmtest.Chaos{Seed: seed*31 + n, Rate: rate, Faults: shopcrmtest.EveryFault("1"), OnFault: func(f shopcrmtest.Fault) {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.faults[platform+": "+faultName(f)]++
		}}
	}
	now := day.Start(jst).Add(23 * time.Hour)
	w.store = shopifytest.NewServer(shopifytest.WithNow(now), shopifytest.WithRateLimit(killLimit),
		shopifytest.WithToken(sec.ShopifyToken.Reveal()), shopifytest.WithOAuthClient("chaos-app", sec.ShopifyClientSecret.Reveal()),
		shopifytest.WithChaosFaults(chaos("shopify", 1)))
	w.chat = linetest.NewServer(linetest.WithNow(now), linetest.WithChannel("2000000001", sec.LINEChannelSecret.Reveal()),
		linetest.WithToken(sec.LINEToken.Reveal()), linetest.WithChaosFaults(chaos("line", 2)))
	crmOpts, crmLimits := fastKlaviyo()
	crmOpts = append(crmOpts, klaviyotest.WithNow(now), klaviyotest.WithJobDuration(0),
		klaviyotest.WithAPIKey(sec.KlaviyoKey.Reveal()), klaviyotest.WithChaosFaults(chaos("klaviyo", 3)))
	w.crm = klaviyotest.NewServer(crmOpts...)
	w.esp = omnisendtest.NewServer(omnisendtest.WithNow(now), omnisendtest.WithAPIKey(sec.OmnisendKey.Reveal()),
		omnisendtest.WithChaosFaults(chaos("omnisend", 4)))
	t.Cleanup(w.store.Close)
	t.Cleanup(w.chat.Close)
	t.Cleanup(w.crm.Close)
	t.Cleanup(w.esp.Close)
	demo, err := pipeline.SeedDemo(pipeline.Fakes{Shopify: w.store, LINE: w.chat, Klaviyo: w.crm, Omnisend: w.esp},
		pipeline.DemoOptions{Customers: chaosCustomers, Seed: 23, Day: day, Location: jst})
	if err != nil {
		t.Fatal(err)
	}
	w.demo = demo

	// The clients as a user wires them, every one logging at Debug into
	// the buffer the scan reads.
	log := slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	hc := func() *http.Client {
		timeout := time.Minute
		if rate > 0 {
			timeout = chaosTimeout
		}
		return &http.Client{Timeout: timeout, Transport: hookTransport{w: w, next: &http.Transport{MaxIdleConnsPerHost: 16}}}
	}
	shop, err := shopify.New(shopifytest.Shop, shopify.StaticToken(sec.ShopifyToken.Reveal()), shopify.WithBaseURL(w.store.URL()),
		shopify.WithRateLimit(killLimit), shopify.WithHTTPClient(hc()), shopify.WithSleep(chaosSleep), shopify.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := line.NewTokenIssuer(line.Stateless, "2000000001", line.NewSecret(sec.LINEChannelSecret.Reveal()),
		line.WithTokenBaseURL(w.chat.URL()), line.WithTokenClock(w.chat.Now), line.WithTokenHTTPClient(hc()))
	if err != nil {
		t.Fatal(err)
	}
	// Each token the issuer obtains is a secret too, registered as it
	// comes.
	tokens := shopcrm.TokenFunc(func(ctx context.Context) (shopcrm.Secret, error) {
		tok, err := issuer.Token(ctx)
		if err == nil {
			w.mu.Lock()
			if !slices.Contains(w.issued, tok.Reveal()) {
				w.issued = append(w.issued, tok.Reveal())
			}
			w.mu.Unlock()
		}
		return tok, err
	})
	bot, err := line.New(tokens, line.WithBaseURL(w.chat.URL()), line.WithDataURL(w.chat.URL()), line.WithHTTPClient(hc()),
		line.WithSleep(chaosSleep), line.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	crm, err := klaviyo.New(klaviyo.PrivateKey(sec.KlaviyoKey.Reveal()), append(crmLimits, klaviyo.WithBaseURL(w.crm.URL()),
		klaviyo.WithHTTPClient(hc()), klaviyo.WithSleep(chaosSleep), klaviyo.WithLogger(log), klaviyo.WithPollInterval(5*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	esp, err := omnisend.New(omnisend.APIKey(sec.OmnisendKey.Reveal()), omnisend.WithBaseURL(w.esp.URL()), omnisend.WithHTTPClient(hc()),
		omnisend.WithSleep(chaosSleep), omnisend.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	state, err := pipeline.NewState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w.env = &pipeline.Env{Config: harnessConfig(demo.Config), Clients: pipeline.Clients{Shopify: shop, LINE: bot, Klaviyo: crm, Omnisend: esp}, State: state}
	return w
}

// The harness's events, sent to the LINE repeat buyers.
const (
	joinedEvent = "joined LINE repeat buyers" // real time: at most once
	dailyEvent  = "LINE repeat buyer"         // historical: deduplicated
)

// harnessConfig is the demo's day with the writes the demo leaves out:
// Omnisend events, real-time and historical, and a Klaviyo list the day
// creates (a create whose answer is lost must not make two).
func harnessConfig(c pipeline.Config) pipeline.Config {
	c.BulkPoll = 5 * time.Millisecond
	c.OmnisendEvents = &pipeline.OmnisendEvents{Segment: "LINE repeat buyers", Joined: joinedEvent, Daily: dailyEvent}
	ks := *c.KlaviyoSync
	ks.Lists = maps.Clone(ks.Lists)
	ks.Lists["First-time buyers"] = "Shopify first-time buyers"
	c.KlaviyoSync = &ks
	return c
}

// fastKlaviyo are Klaviyo's limits 20 times as high, for the fake and
// for the client: every rerun of the day queries the metric aggregates
// again (3 a second, 60 a minute), and these tests are about outcomes,
// not about waiting.
func fastKlaviyo() ([]klaviyotest.Option, []klaviyo.Option) {
	var srv []klaviyotest.Option
	var client []klaviyo.Option
	for e, l := range klaviyo.DefaultLimits() {
		l = klaviyo.Limit{Burst: 20 * l.Burst, Steady: 20 * l.Steady}
		srv = append(srv, klaviyotest.WithRateLimit(e, l))
		client = append(client, klaviyo.WithEndpointLimit(e, l))
	}
	return srv, client
}

// hookTransport calls the world's hook around each request.
type hookTransport struct {
	w    *chaosWorld
	next http.RoundTripper
}

func (h hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if hook := h.w.hook.Load(); hook != nil {
		answered := (*hook)()
		defer answered()
	}
	return h.next.RoundTrip(r)
}

// chaosSleep waits a twentieth of what the clients ask: backoffs and
// Retry-After waits keep their order and shape at a test's pace.
func chaosSleep(ctx context.Context, d time.Duration) error { return transport.Sleep(ctx, d/20) }

func faultName(f shopcrmtest.Fault) string {
	switch {
	case f.Kind == shopcrmtest.FaultRateLimit && f.RetryAfter != "":
		return "429 with Retry-After"
	case f.Kind == shopcrmtest.FaultRateLimit:
		return "429 without Retry-After"
	case f.Kind == shopcrmtest.FaultStatus:
		return fmt.Sprint(f.Status)
	}
	return f.Kind.String()
}

// runDay runs the day until it succeeds, as a user would, at most
// chaosRuns times, keeping every error string and report line. It returns
// the runs it took and the last report.
func (w *chaosWorld) runDay(t *testing.T, ctx context.Context) (int, *pipeline.Report) {
	t.Helper()
	for run := 1; run <= chaosRuns; run++ {
		rep, err := pipeline.RunDay(ctx, w.env, w.demo.Events)
		w.keep(t, rep, err)
		if err == nil {
			return run, rep
		}
		t.Logf("run %d: %v", run, err)
	}
	t.Fatalf("the day did not succeed in %d runs", chaosRuns)
	return 0, nil
}

// keep records a run's error and every line of its report, in text and
// in files.
func (w *chaosWorld) keep(t *testing.T, rep *pipeline.Report, err error) {
	var lines []string
	if err != nil {
		lines = append(lines, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	}
	if rep != nil {
		var b bytes.Buffer
		if werr := rep.WriteText(&b); werr != nil {
			t.Fatal(werr)
		}
		lines = append(lines, strings.Split(b.String(), "\n")...)
		dir := t.TempDir()
		files, werr := rep.WriteFiles(dir)
		if werr != nil {
			t.Fatal(werr)
		}
		for _, f := range files {
			data, rerr := os.ReadFile(f)
			if rerr != nil {
				t.Fatal(rerr)
			}
			lines = append(lines, strings.Split(string(data), "\n")...)
		}
	}
	w.mu.Lock()
	w.text = append(w.text, lines...)
	w.mu.Unlock()
}

// scanSecrets looks for every secret handed out (and every token issued)
// in the logs, the errors, the reports and the state directory, and
// returns the lines it scanned.
func (w *chaosWorld) scanSecrets(t *testing.T) int {
	t.Helper()
	w.mu.Lock()
	secrets := append(secretsOf(w.secrets), w.issued...)
	logs := strings.Split(w.logs.String(), "\n")
	lines := append(slices.Clone(logs), w.text...)
	w.mu.Unlock()
	state := len(lines)
	err := filepath.WalkDir(w.env.State.Dir(), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		lines = append(lines, strings.Split(string(data), "\n")...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, l := range lines {
		for _, s := range secrets {
			// Half a secret is still a leak: a truncated log line or
			// error keeps the start.
			if strings.Contains(l, s[len(s)/2:]) || strings.Contains(l, s[:len(s)/2]) {
				found++
				t.Errorf("a secret leaked: %.300s", l)
			}
		}
	}
	if len(secrets) < 6 {
		t.Errorf("only %d secrets collected", len(secrets))
	}
	t.Logf("secrets: %d collected (%d handed out, %d issued), %d lines scanned (%d log, %d error and report, %d state), %d found",
		len(secrets), len(secretsOf(w.secrets)), len(secrets)-len(secretsOf(w.secrets)), len(lines),
		len(logs), state-len(logs), len(lines)-state, found)
	return len(lines)
}

// chaosEnd is what a day leaves on the four fakes, keyed by what is
// stable across worlds (emails, not generated ids).
type chaosEnd struct {
	Shopify         endState                  // and LINE
	KlaviyoProfiles map[string]map[string]any // email → custom properties
	KlaviyoLists    map[string][]string       // list name → member emails
	KlaviyoEvents   map[string]int            // metric, email, unique id → events
	OmnisendTags    map[string][]string       // email → tags
	OmnisendEvents  map[string]int            // name, email, event id → events
}

// writes counts the requests that changed something on the fakes.
func (w *chaosWorld) writes() int { return fakeWrites(w.store, w.chat, w.crm, w.esp) }

func (w *chaosWorld) end() chaosEnd { return readAll(w.store, w.chat, w.crm, w.esp) }

// readAll reads the end state of the four fakes.
func readAll(store *shopifytest.Server, chat *linetest.Server, crm *klaviyotest.Server, esp *omnisendtest.Server) chaosEnd {
	e := chaosEnd{Shopify: readEnd(store, chat), KlaviyoProfiles: map[string]map[string]any{},
		KlaviyoLists: map[string][]string{}, KlaviyoEvents: map[string]int{}, OmnisendTags: map[string][]string{}, OmnisendEvents: map[string]int{}}
	email := map[string]string{}
	for _, p := range crm.Profiles() {
		email[p.ID] = p.Email
		e.KlaviyoProfiles[p.Email] = p.Properties
	}
	for name, ids := range crm.Lists() {
		if len(ids) > 1 {
			e.KlaviyoLists[name+" (duplicate lists)"] = ids
		}
		for _, id := range ids {
			members, _ := crm.ListMembers(id)
			var emails []string
			for _, m := range members {
				emails = append(emails, email[m])
			}
			e.KlaviyoLists[name] = append(e.KlaviyoLists[name], emails...)
		}
		slices.Sort(e.KlaviyoLists[name])
	}
	for _, ev := range crm.Events() {
		e.KlaviyoEvents[ev.Metric+" "+email[ev.ProfileID]+" "+ev.UniqueID]++
	}
	for _, c := range esp.Contacts() {
		e.OmnisendTags[c.Email] = sorted(c.Tags)
	}
	for _, ev := range esp.Events() {
		e.OmnisendEvents[ev.Name+" "+ev.Email+" "+ev.ID]++
	}
	return e
}

// duplicates counts what the day did twice: a LINE message, a Klaviyo or
// Omnisend event, a marketing engagement.
func (e chaosEnd) duplicates(want chaosEnd) []string {
	var out []string
	for u, n := range e.Shopify.LINE {
		if n > want.Shopify.LINE[u] {
			out = append(out, fmt.Sprintf("LINE user %s got %d messages, want %d", u, n, want.Shopify.LINE[u]))
		}
	}
	for _, m := range []struct {
		what      string
		got, want map[string]int
	}{{"Klaviyo event", e.KlaviyoEvents, want.KlaviyoEvents}, {"Omnisend event", e.OmnisendEvents, want.OmnisendEvents},
		{"engagement", e.Shopify.Engagements, want.Shopify.Engagements}} {
		for k, n := range m.got {
			if n > max(m.want[k], 1) {
				out = append(out, fmt.Sprintf("%s %q recorded %d times", m.what, k, n))
			}
		}
	}
	slices.Sort(out)
	return out
}

var (
	chaosRefOnce     sync.Once
	chaosRef         chaosEnd
	chaosRefRequests int64 // the requests of the fault-free day
	chaosRefErr      error
)

// chaosReference is the fault-free day's end state, computed once.
func chaosReference(t *testing.T) chaosEnd {
	chaosRefOnce.Do(func() {
		// The world's fakes close with the first test that asks; the
		// end state is plain data and outlives them.
		w := newChaosWorld(t, 0, 0)
		var n atomic.Int64
		count := func() func() { n.Add(1); return func() {} }
		w.hook.Store(&count)
		rep, err := pipeline.RunDay(context.Background(), w.env, w.demo.Events)
		chaosRefRequests = n.Load()
		if err != nil {
			chaosRefErr = err
			return
		}
		for _, s := range rep.Steps {
			t.Logf("fault-free: %s", s)
		}
		t.Logf("fault-free: %d requests", chaosRefRequests)
		chaosRef = w.end()
	})
	if chaosRefErr != nil {
		t.Fatalf("fault-free day: %v", chaosRefErr)
	}
	return chaosRef
}

// TestChaosDay runs the demo day with every fake failing about a fifth of
// the requests, every kind of fault mixed, rerunning the day until it
// succeeds: the fakes end as after a fault-free day, with nothing lost and
// nothing done twice, and no secret in any log line, error or report.
func TestChaosDay(t *testing.T) {
	want := chaosReference(t)
	total := map[string]int{}
	lines := 0
	for seed := range uint64(*chaosSeeds) {
		t.Run(fmt.Sprint("seed", seed+1), func(t *testing.T) {
			w := newChaosWorld(t, seed+1, chaosRate)
			if seed == 0 {
				// The first seed also loses the answers of the sends
				// that are never resent, so the reporting of unknown
				// outcomes runs every time.
				w.store.AddFaults(shopcrmtest.Fault{Op: "marketingEngagementCreate", Kind: shopcrmtest.FaultLostResponse})
				w.esp.AddFaults(shopcrmtest.Fault{Op: "sendEvent", Kind: shopcrmtest.FaultLostResponse})
			}
			runs, rep := w.runDay(t, context.Background())
			got := w.end()
			dups := got.duplicates(want)
			for _, d := range dups {
				t.Error(d)
			}
			lost := unknownEngagements(t, rep, &got, want, seed == 0)
			lost += unknownEvents(t, stepNotes(rep, "omnisend"), &got, want, seed == 0)
			d := cmp.Diff(want, got)
			if d != "" {
				t.Errorf("after %d runs under faults, the fakes differ from a fault-free day (-want +got):\n%s", runs, d)
			}
			lines += w.scanSecrets(t)
			w.mu.Lock()
			drawn := 0
			for k, n := range w.faults {
				total[k] += n
				drawn += n
			}
			// The fakes' own counters agree: every fault struck a request.
			counted := w.store.Stats().Faults + w.chat.Stats().Faults + w.crm.Stats().Faults + w.esp.Stats().Faults
			if scripted := map[bool]int{true: 2}[seed == 0]; counted != drawn+scripted {
				t.Errorf("the fakes counted %d faults, the harness %d drawn and %d scripted", counted, drawn, scripted)
			}
			t.Logf("%d runs; faults: %v; sends in doubt missing (each reported): %d; end state as fault-free: %v; duplicates: %d",
				runs, w.faults, lost, d == "", len(dups))
			w.mu.Unlock()
		})
	}
	byKind := map[string]int{}
	for k, n := range total {
		byKind[k[strings.Index(k, ": ")+2:]] += n
	}
	t.Logf("%d seeds: faults by kind %v, by platform and kind %v; %d lines scanned", *chaosSeeds, byKind, total, lines)
	if *chaosSeeds > 1 && len(byKind) < len(shopcrmtest.EveryFault("1")) {
		t.Errorf("not every kind of fault was drawn: %v", slices.Sorted(maps.Keys(byKind)))
	}
}

// unknownEvents accepts a real-time Omnisend event missing from got when
// the notes name it (by its event id): such an event is never sent again.
// With lost true, the first event's answer was lost, and the notes must
// name it although Omnisend has it. It returns the events named.
func unknownEvents(t *testing.T, notes []string, got *chaosEnd, want chaosEnd, lost bool) int {
	t.Helper()
	named := func(id string) bool {
		return slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, id) })
	}
	n := 0
	for k, c := range want.OmnisendEvents {
		name, id, _ := strings.Cut(k, " ")
		id = id[strings.LastIndex(id, " ")+1:]
		if !strings.HasPrefix(k, joinedEvent+" ") || got.OmnisendEvents[k] > 0 {
			continue
		}
		if !named(id) {
			t.Errorf("real-time event %s (%s) is missing and the report does not name it", id, name)
		}
		n++
		got.OmnisendEvents[k] = c
	}
	if lost && !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, joinedEvent) }) {
		t.Errorf("a real-time event's answer was lost and the report names none: %q", notes)
	}
	for _, n := range notes {
		if strings.Contains(n, joinedEvent) {
			t.Logf("reported: %s", n)
		}
	}
	return n
}

// stepNotes are the notes of the report's step called step.
func stepNotes(rep *pipeline.Report, step string) []string {
	for _, s := range rep.Steps {
		if s.Step == step {
			return s.Notes
		}
	}
	return nil
}

// unknownEngagements accepts an engagement missing from got when the
// last run's report names it as unknown: an engagement whose request may
// have reached Shopify is never sent again (Shopify would count it twice).
// With lost true every engagement's answer was lost, and the report must
// name each although Shopify has it. It returns how many were missing.
func unknownEngagements(t *testing.T, rep *pipeline.Report, got *chaosEnd, want chaosEnd, lost bool) int {
	t.Helper()
	var notes []string
	if rep.Marketing != nil {
		notes = rep.Marketing.Notes
	}
	return unreported(t, notes, got, want, lost)
}

// unreported is unknownEngagements on the marketing step's notes.
func unreported(t *testing.T, notes []string, got *chaosEnd, want chaosEnd, lost bool) int {
	t.Helper()
	n := 0
	for k := range want.Shopify.Engagements {
		if got.Shopify.Engagements[k] > 0 && !lost {
			continue
		}
		if got.Shopify.Engagements[k] == 0 {
			n++
		}
		reported := false
		for _, note := range notes {
			note = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(note), "- "))
			reported = reported || strings.HasPrefix(note, "channel:"+k) || strings.HasPrefix(note, "activity:"+k)
		}
		if !reported {
			t.Errorf("engagement %s is missing or unknown and the report does not name it: %q", k, notes)
		}
		got.Shopify.Engagements[k] = want.Shopify.Engagements[k]
	}
	return n
}
