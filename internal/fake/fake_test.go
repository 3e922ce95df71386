package fake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/internal/fake"
	"github.com/shopcrm/shopcrm/shopcrmtest"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := fake.NewClock(start)
	if d := c.Now().Sub(start); d < 0 || d > time.Second {
		t.Fatalf("Now = %v, want about %v", c.Now(), start)
	}
	c.Advance(24 * time.Hour)
	if d := c.Now().Sub(start); d < 24*time.Hour || d > 24*time.Hour+time.Second {
		t.Errorf("after Advance: %v", c.Now())
	}
	c.SetNow(start)
	if d := c.Now().Sub(start); d < 0 || d > time.Second {
		t.Errorf("after SetNow: %v", c.Now())
	}
	if d := time.Since(fake.NewClock(time.Time{}).Now()); d < -time.Second || d > time.Second {
		t.Errorf("zero start is not real time: off by %v", d)
	}
}

func kinds(fs *fake.Faults, n int, ops ...string) []shopcrmtest.FaultKind {
	var out []shopcrmtest.FaultKind
	for range n {
		f := fs.Pick(func(op string) bool {
			for _, o := range ops {
				if o == op {
					return true
				}
			}
			return false
		})
		out = append(out, f.Kind)
	}
	return out
}

func TestScriptedFaults(t *testing.T) {
	fs, err := fake.NewFaults([]shopcrmtest.Fault{
		{Op: "a", Kind: shopcrmtest.FaultNone},
		{Op: "a", Kind: shopcrmtest.FaultStatus, Times: 2},
		{Kind: shopcrmtest.FaultDrop},
		{Op: "b", Kind: shopcrmtest.FaultRateLimit, RetryAfter: "0.01"},
	}, fake.Chaos{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The Op-less drop is the first fault a "b" request matches.
	got := append(kinds(fs, 1, "b"), kinds(fs, 4, "a")...)
	got = append(got, kinds(fs, 2, "b")...)
	want := []shopcrmtest.FaultKind{shopcrmtest.FaultDrop, shopcrmtest.FaultNone, shopcrmtest.FaultStatus, shopcrmtest.FaultStatus,
		shopcrmtest.FaultNone, shopcrmtest.FaultRateLimit, shopcrmtest.FaultNone}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}

	fs, _ = fake.NewFaults([]shopcrmtest.Fault{{Kind: shopcrmtest.FaultStatus, Status: 401, Times: -1}}, fake.Chaos{}, nil)
	for range 5 {
		if f := fs.Pick(func(string) bool { return false }); f.Status != 401 {
			t.Fatalf("always-fault = %+v", f)
		}
	}
	if err := fs.Add(shopcrmtest.Fault{Kind: shopcrmtest.FaultMalformed}); err != nil {
		t.Fatal(err)
	}
	if f := fs.Pick(func(string) bool { return false }); f.Kind != shopcrmtest.FaultStatus {
		t.Errorf("a fault added later overtook an unlimited one: %+v", f)
	}
}

func TestFaultStatusDefaults(t *testing.T) {
	fs, _ := fake.NewFaults([]shopcrmtest.Fault{{Kind: shopcrmtest.FaultStatus}, {Kind: shopcrmtest.FaultRateLimit}}, fake.Chaos{}, nil)
	if f := fs.Pick(nil); f.Status != 503 {
		t.Errorf("status fault = %+v, want 503", f)
	}
	if f := fs.Pick(nil); f.Status != 429 {
		t.Errorf("rate-limit fault = %+v, want 429", f)
	}
}

func TestChaosIsDeterministic(t *testing.T) {
	draw := func(seed uint64) []shopcrmtest.FaultKind {
		fs, err := fake.NewFaults(nil, fake.Chaos{Seed: seed, Rate: 0.5}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return kinds(fs, 200)
	}
	a, b := draw(7), draw(7)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different faults:\n%s", diff)
	}
	if cmp.Equal(a, draw(8)) {
		t.Error("seeds 7 and 8 drew the same faults")
	}
	seen := map[shopcrmtest.FaultKind]int{}
	for _, k := range a {
		seen[k]++
	}
	for _, k := range append(fake.DefaultChaosKinds, shopcrmtest.FaultNone) {
		if seen[k] == 0 {
			t.Errorf("kind %v never drawn: %v", k, seen)
		}
	}
	if seen[shopcrmtest.FaultNone] < 60 || seen[shopcrmtest.FaultNone] > 140 {
		t.Errorf("rate 0.5: %d of 200 went through", seen[shopcrmtest.FaultNone])
	}
}

// TestChaosTemplates draws whole faults, statuses and Retry-After
// included, from templates, and tells OnFault of each chaos draw (never of
// a scripted fault).
func TestChaosTemplates(t *testing.T) {
	var heard []shopcrmtest.Fault
	draw := func(seed uint64) []shopcrmtest.Fault {
		heard = nil
		fs, err := fake.NewFaults([]shopcrmtest.Fault{{Kind: shopcrmtest.FaultDrop}}, fake.FromChaos(shopcrmtest.Chaos{
			Seed: seed, Rate: 0.5, Faults: shopcrmtest.EveryFault("1"),
			OnFault: func(f shopcrmtest.Fault) { heard = append(heard, f) },
		}), nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []shopcrmtest.Fault
		for range 400 {
			if f := fs.Pick(func(string) bool { return true }); f.Kind != shopcrmtest.FaultNone {
				out = append(out, f)
			}
		}
		return out
	}
	a := draw(3)
	if diff := cmp.Diff(a[1:], heard); diff != "" {
		t.Errorf("OnFault heard other faults than the chaos draws (-drawn +heard):\n%s", diff)
	}
	if diff := cmp.Diff(a, draw(3)); diff != "" {
		t.Errorf("same seed, different faults:\n%s", diff)
	}
	// A drawn 429 carries its status; the template leaves it to the kind.
	key := func(f shopcrmtest.Fault) string { return fmt.Sprint(f.Kind, f.Status%429, f.RetryAfter) }
	seen := map[string]int{}
	for _, f := range a[1:] {
		seen[key(f)]++
	}
	for _, f := range shopcrmtest.EveryFault("1") {
		if seen[key(f)] == 0 {
			t.Errorf("template %q never drawn: %v", f, seen)
		}
	}
	if _, err := fake.NewFaults(nil, fake.Chaos{Rate: 0.1, Templates: []shopcrmtest.Fault{{Kind: shopcrmtest.FaultDrop, Op: "x"}}}, nil); err == nil {
		t.Error("a template with an Op was accepted")
	}
	if _, err := fake.NewFaults(nil, fake.Chaos{Rate: 0.1, Templates: []shopcrmtest.Fault{{Kind: shopcrmtest.FaultDrop, Status: 500}}}, nil); err == nil {
		t.Error("a drop with a status was accepted")
	}
}

func TestFaultsRefused(t *testing.T) {
	onlyX := func(op string) error {
		if op != "x" {
			return errors.New("unknown op")
		}
		return nil
	}
	bad := map[string]shopcrmtest.Fault{
		"unknown kind":        {Kind: 99},
		"unknown op":          {Op: "y", Kind: shopcrmtest.FaultDrop},
		"status 200":          {Kind: shopcrmtest.FaultStatus, Status: 200},
		"rate limit with 503": {Kind: shopcrmtest.FaultRateLimit, Status: 503},
		"status on a drop":    {Kind: shopcrmtest.FaultDrop, Status: 500},
		"retry-after on none": {Kind: shopcrmtest.FaultNone, RetryAfter: "1"},
		"status without kind": {Status: 503},
	}
	for name, f := range bad {
		if _, err := fake.NewFaults([]shopcrmtest.Fault{f}, fake.Chaos{}, onlyX); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, c := range map[string]fake.Chaos{
		"rate above 1":  {Rate: 1.5},
		"negative rate": {Rate: -0.1},
		"none as kind":  {Rate: 0.1, Kinds: []shopcrmtest.FaultKind{shopcrmtest.FaultNone}},
	} {
		if _, err := fake.NewFaults(nil, c, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	fs, _ := fake.NewFaults(nil, fake.Chaos{}, onlyX)
	if err := fs.Add(shopcrmtest.Fault{Op: "x", Kind: shopcrmtest.FaultDrop}, shopcrmtest.Fault{Op: "y"}); err == nil {
		t.Error("Add accepted an unknown op")
	}
	if f := fs.Pick(func(string) bool { return true }); f.Kind != shopcrmtest.FaultNone {
		t.Errorf("a refused Add added %+v", f)
	}
}

// server serves one fault per request from a script, counting the requests
// it acted on.
func server(t *testing.T, acted *atomic.Int32, faults ...shopcrmtest.Fault) (*httptest.Server, *fake.Base) {
	t.Helper()
	b, err := fake.New(fake.Config{Faults: faults}, fake.Platform{MaxBody: 16,
		ErrorBody: func(status int) any { return map[string]any{"error": http.StatusText(status)} }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := b.Receive(w, r); !ok {
			return
		}
		b.Seen("op")
		f := b.Pick([]string{"op"})
		rec := httptest.NewRecorder()
		b.Respond(rec, f, func() {
			acted.Add(1)
			b.Accepted("op")
			fake.WriteJSON(rec, http.StatusOK, map[string]any{"ok": true})
		})
		fake.Deliver(w, r, rec, f)
	}))
	t.Cleanup(hs.Close)
	return hs, b
}

func TestFaultActions(t *testing.T) {
	var acted atomic.Int32
	hs, b := server(t, &acted,
		shopcrmtest.Fault{Kind: shopcrmtest.FaultRateLimit, RetryAfter: "0.01"},
		shopcrmtest.Fault{Kind: shopcrmtest.FaultStatus, Status: 401},
		shopcrmtest.Fault{Kind: shopcrmtest.FaultDrop},
		shopcrmtest.Fault{Kind: shopcrmtest.FaultLostResponse},
		shopcrmtest.Fault{Kind: shopcrmtest.FaultMalformed},
		shopcrmtest.Fault{Kind: shopcrmtest.FaultTimeout},
	)
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 200 * time.Millisecond}
	type answer struct {
		Status     int
		RetryAfter string
		Body       string
		Err        bool
		Acted      int32
	}
	get := func() answer {
		before := acted.Load()
		resp, err := hc.Get(hs.URL)
		if err != nil {
			return answer{Err: true, Acted: acted.Load() - before}
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return answer{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After"), Body: string(body), Acted: acted.Load() - before}
	}
	want := []answer{
		{Status: 429, RetryAfter: "0.01", Body: `{"error":"Too Many Requests"}` + "\n"},
		{Status: 401, Body: `{"error":"Unauthorized"}` + "\n"},
		{Err: true},
		{Err: true, Acted: 1},
		{Status: 200, Body: `{"ok":`, Acted: 1},
		{Err: true},
		{Status: 200, Body: `{"ok":true}` + "\n", Acted: 1},
	}
	var got []answer
	for range want {
		got = append(got, get())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	st := b.Stats()
	wantStats := shopcrmtest.Stats{Requests: 7, Faults: 6, Accepted: 3,
		Ops: map[string]shopcrmtest.OpStats{"op": {Requests: 7, Faults: 6, Accepted: 3}}}
	if diff := cmp.Diff(wantStats, st); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

func TestTimeoutEndsWhenClientHangsUp(t *testing.T) {
	var acted atomic.Int32
	hs, _ := server(t, &acted, shopcrmtest.Fault{Kind: shopcrmtest.FaultTimeout})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, hs.URL, nil)
	start := time.Now()
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
	closeSoon(t, hs, "the timeout fault kept holding after the client hung up")
	if acted.Load() != 0 || time.Since(start) > 5*time.Second {
		t.Errorf("acted %d times", acted.Load())
	}
}

func TestReceive(t *testing.T) {
	var acted atomic.Int32
	hs, b := server(t, &acted)
	resp, err := http.Post(hs.URL, "text/plain", strings.NewReader(strings.Repeat("x", 17)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || acted.Load() != 0 || b.Stats().Requests != 1 {
		t.Errorf("17 bytes over a 16-byte cap: %d, acted %d", resp.StatusCode, acted.Load())
	}

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := fake.Receive(r, 1<<10, time.Minute); err == nil {
			t.Error("a minute passed")
		}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, slow.URL, strings.NewReader("body"))
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Error("no error from the slow server")
	}
	closeSoon(t, slow, "the latency wait ignored the client hanging up")
}

// closeSoon closes hs, which waits for its handlers, and fails with msg
// when a handler is still busy after a few seconds.
func closeSoon(t *testing.T, hs *httptest.Server, msg string) {
	t.Helper()
	done := make(chan struct{})
	go func() { hs.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal(msg)
	}
}
