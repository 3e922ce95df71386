package transport

import (
	"context"
	"errors"
	"testing"
	"time"
)

// maxInSpan is the most of times (ascending) that any span shorter than
// span holds.
func maxInSpan(times []time.Time, span time.Duration) int {
	most, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) >= span {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return most
}

// TestGateWindow: a bucket of 40/s with a burst of 4 lets 4 + 4 requests
// through its first 100 ms; with a window of 4 per 100 ms on top, no span
// of 100 ms ever holds more than 4, and the gate still runs at the rate.
func TestGateWindow(t *testing.T) {
	const n, span = 4, 100 * time.Millisecond
	g := NewGate(40, n)
	g.SetWindow(n, span)
	if wn, wp := g.Window(); wn != n || wp != span {
		t.Fatalf("Window() = %d, %v", wn, wp)
	}
	ctx := context.Background()
	start := time.Now()
	var times []time.Time
	for range 13 {
		if err := g.Wait(ctx, 1); err != nil {
			t.Fatal(err)
		}
		times = append(times, time.Now())
	}
	// Timers fire late, never early, and a loaded machine returns from a
	// wait late enough to bunch the next call with it; 25 ms of slack
	// covers that while a gate without the window (4 at once, then one
	// every 25 ms) still puts 7 in a span of 75 ms.
	if most := maxInSpan(times, span-25*time.Millisecond); most > n {
		t.Errorf("%d requests within %v; the window allows %d", most, span, n)
	}
	if took := time.Since(start); took < 3*span || took > 10*span {
		t.Errorf("13 requests took %v, want about %v", took, 3*span)
	}
}

func TestWindowReserveAllowCancel(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := NewWindow(3, time.Hour)
	for i := range 3 {
		if at := w.Reserve(t0.Add(time.Duration(i)*time.Minute), 1); !at.Equal(t0.Add(time.Duration(i) * time.Minute)) {
			t.Fatalf("reservation %d at %v", i, at)
		}
	}
	// The fourth waits until the first leaves the hour; the fifth until
	// the second does.
	fourth := w.Reserve(t0.Add(10*time.Minute), 1)
	if want := t0.Add(time.Hour); !fourth.Equal(want) {
		t.Errorf("fourth at %v, want %v", fourth, want)
	}
	if fifth := w.Reserve(t0.Add(10*time.Minute), 1); !fifth.Equal(t0.Add(time.Hour + time.Minute)) {
		t.Errorf("fifth at %v", fifth)
	}
	// Given-up reservations are taken back.
	w.Cancel(t0.Add(time.Hour+time.Minute), 1)
	w.Cancel(fourth, 1)
	if again := w.Reserve(t0.Add(10*time.Minute), 1); !again.Equal(fourth) {
		t.Errorf("after cancel: %v, want %v", again, fourth)
	}

	// Allow counts arrivals: three in an hour, then refusals until the
	// first is an hour old.
	a := NewWindow(3, time.Hour)
	var got []bool
	for _, m := range []int{0, 1, 2, 30, 59, 60, 61, 62} {
		got = append(got, a.Allow(t0.Add(time.Duration(m)*time.Minute)))
	}
	want := []bool{true, true, true, false, false, true, true, true}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Allow sequence = %v, want %v", got, want)
			break
		}
	}
	var none *Window = NewWindow(0, time.Hour)
	if !none.Allow(t0) || !none.Reserve(t0, 5).Equal(t0) {
		t.Error("a window of 0 limits")
	}
}

// TestGateWindowDeadline: a wait the window would push past the deadline
// fails at once and gives its place back.
func TestGateWindowDeadline(t *testing.T) {
	g := NewGate(1000, 2)
	g.SetWindow(2, time.Hour)
	ctx := context.Background()
	for range 2 {
		if err := g.Wait(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := g.Wait(short, 1); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 20*time.Millisecond {
		t.Errorf("third wait: %v after %v", err, time.Since(start))
	}
	g.SetWindow(0, 0)
	if err := g.Wait(short, 1); err != nil {
		t.Errorf("without the window: %v", err)
	}
}
