package dayflow_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shopcrm/shopcrm/calendar"
	"github.com/shopcrm/shopcrm/examples/pipeline"
	"github.com/shopcrm/shopcrm/examples/temporal/dayflow"
)

// countingDir is a Directory that counts its opens and its Shops' closes,
// and can be told to fail.
type countingDir struct {
	mu     sync.Mutex
	opens  map[string]int
	closed map[string]int
	fail   error
	delay  time.Duration
}

// newCache returns a Cache over a new countingDir, closed when the test
// ends.
func newCache(t *testing.T, o dayflow.CacheOptions) (*countingDir, *dayflow.Cache) {
	d := &countingDir{opens: map[string]int{}, closed: map[string]int{}}
	c := dayflow.NewCache(d, o)
	t.Cleanup(c.Close)
	return d, c
}

func (d *countingDir) Open(ctx context.Context, shop string, day calendar.Date) (*dayflow.Shop, error) {
	time.Sleep(d.delay)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fail != nil {
		return nil, d.fail
	}
	d.opens[shop]++
	env := &pipeline.Env{Config: pipeline.Config{Shop: shop, Day: day}}
	return &dayflow.Shop{Env: env, Close: func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.closed[shop]++
	}}, nil
}

// counts returns how many times shop was opened and closed.
func (d *countingDir) counts(shop string) (opens, closed int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.opens[shop], d.closed[shop]
}

func mustOpen(t *testing.T, c *dayflow.Cache, shop string) *dayflow.Shop {
	t.Helper()
	sh, err := c.Open(context.Background(), shop, day)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// waitClosed waits until shop's Shop was closed n times.
func waitClosed(t *testing.T, d *countingDir, shop string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, c := d.counts(shop); c >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, c := d.counts(shop)
	t.Fatalf("%s closed %d times, want %d", shop, c, n)
}

func TestCacheReusesADay(t *testing.T) {
	d, c := newCache(t, dayflow.CacheOptions{})
	a := mustOpen(t, c, "a")
	a.Close()
	a.Close() // a second Close of one Shop releases nothing more
	b := mustOpen(t, c, "a")
	if a.Env != b.Env {
		t.Error("a second attempt got another Env: its clients start afresh")
	}
	b.Close()
	other, err := c.Open(context.Background(), "a", day.AddDays(1))
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if opens, closed := d.counts("a"); opens != 2 || closed != 0 {
		t.Errorf("opened %d, closed %d; want 2 (one per day), 0", opens, closed)
	}
	want := dayflow.CacheStats{Opens: 2, Reuses: 1, Open: 2}
	if diff := cmp.Diff(want, c.Stats()); diff != "" {
		t.Errorf("stats (-want +got):\n%s", diff)
	}
}

func TestCacheOpensOnceConcurrently(t *testing.T) {
	d, c := newCache(t, dayflow.CacheOptions{})
	d.delay = 20 * time.Millisecond
	envs := make([]*pipeline.Env, 8)
	var wg sync.WaitGroup
	for i := range envs {
		wg.Go(func() {
			sh, err := c.Open(context.Background(), "a", day)
			if err != nil {
				t.Error(err)
				return
			}
			defer sh.Close()
			envs[i] = sh.Env
		})
	}
	wg.Wait()
	for _, e := range envs {
		if e != envs[0] {
			t.Fatal("concurrent opens of one day got different Envs")
		}
	}
	if opens, _ := d.counts("a"); opens != 1 {
		t.Errorf("opened %d times, want 1", opens)
	}
}

func TestCacheEndDay(t *testing.T) {
	d, c := newCache(t, dayflow.CacheOptions{})

	// Unused: closed at once.
	mustOpen(t, c, "a").Close()
	c.EndDay("a", day)
	if _, closed := d.counts("a"); closed != 1 {
		t.Errorf("ended unused day closed %d times, want 1", closed)
	}

	// In use: closed when the attempt ends.
	sh := mustOpen(t, c, "b")
	c.EndDay("b", day)
	if _, closed := d.counts("b"); closed != 0 {
		t.Error("a day in use was closed")
	}
	sh.Close()
	if _, closed := d.counts("b"); closed != 1 {
		t.Errorf("ended day closed %d times after its attempt, want 1", closed)
	}

	// A retry after the end opens it again.
	mustOpen(t, c, "b").Close()
	if opens, _ := d.counts("b"); opens != 2 {
		t.Errorf("opened %d times, want 2", opens)
	}
	c.EndDay("unknown", day) // nothing open: nothing to do
}

func TestCacheIdle(t *testing.T) {
	d, c := newCache(t, dayflow.CacheOptions{Idle: 30 * time.Millisecond})
	sh := mustOpen(t, c, "a")
	time.Sleep(60 * time.Millisecond)
	if _, closed := d.counts("a"); closed != 0 {
		t.Fatal("a day in use was closed for idleness")
	}
	sh.Close()
	waitClosed(t, d, "a", 1)
	if s := c.Stats(); s.Open != 0 || s.Closed != 1 {
		t.Errorf("stats %+v, want none open, 1 closed", s)
	}
}

func TestCacheMaxIdle(t *testing.T) {
	d, c := newCache(t, dayflow.CacheOptions{MaxIdle: 2})
	var inUse []*dayflow.Shop
	for i := range 4 {
		inUse = append(inUse, mustOpen(t, c, fmt.Sprint(i)))
	}
	// Days in use count apart from MaxIdle.
	if s := c.Stats(); s.Open != 4 || s.Closed != 0 {
		t.Fatalf("stats %+v, want 4 open", s)
	}
	for _, sh := range inUse {
		sh.Close()
	}
	// 0 and 1 went over MaxIdle as 2 and 3 were released.
	mustOpen(t, c, "2").Close() // 2 is now the most recently used
	mustOpen(t, c, "4").Close() // pushes 3 out
	for shop, want := range map[string]int{"0": 1, "1": 1, "2": 0, "3": 1, "4": 0} {
		if _, closed := d.counts(shop); closed != want {
			t.Errorf("%s closed %d times, want %d", shop, closed, want)
		}
	}
}

func TestCacheFailedOpenIsNotKept(t *testing.T) {
	d, c := newCache(t, dayflow.CacheOptions{})
	d.fail = errors.New("store down")
	if _, err := c.Open(context.Background(), "a", day); !errors.Is(err, d.fail) {
		t.Fatalf("got %v, want the Directory's error", err)
	}
	d.mu.Lock()
	d.fail = nil
	d.mu.Unlock()
	mustOpen(t, c, "a").Close()
	if s := c.Stats(); s.Opens != 1 || s.Open != 1 {
		t.Errorf("stats %+v, want 1 open", s)
	}
}

func TestCacheClose(t *testing.T) {
	d, c := newCache(t, dayflow.CacheOptions{})
	mustOpen(t, c, "a").Close()
	sh := mustOpen(t, c, "b")
	c.Close()
	if _, closed := d.counts("a"); closed != 1 {
		t.Error("Close left an unused day open")
	}
	if _, closed := d.counts("b"); closed != 0 {
		t.Error("Close closed a day in use")
	}
	sh.Close()
	if _, closed := d.counts("b"); closed != 1 {
		t.Error("a day in use at Close stayed open after its attempt")
	}
	if _, err := c.Open(context.Background(), "a", day); !errors.Is(err, dayflow.ErrCacheClosed) {
		t.Errorf("Open after Close: %v, want ErrCacheClosed", err)
	}
}

func TestCacheOpenCancelled(t *testing.T) {
	d, c := newCache(t, dayflow.CacheOptions{})
	d.delay = 100 * time.Millisecond
	done := make(chan struct{})
	go func() {
		defer close(done)
		mustOpen(t, c, "a").Close()
	}()
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	switch sh, err := c.Open(ctx, "a", day); {
	case err == nil: // opened before the other goroutine
		sh.Close()
	case !errors.Is(err, context.Canceled):
		t.Errorf("got %v, want context.Canceled", err)
	}
	<-done
	c.EndDay("a", day)
	if _, closed := d.counts("a"); closed != 1 {
		t.Errorf("closed %d times, want 1: a cancelled wait left a use behind", closed)
	}
}
