package transport

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestGateTwoWindows paces requests through a gate whose bucket would let
// twice the first window through, and checks that request k (in the order
// the waits returned) went no earlier than k/10 first windows and k/25
// second windows after the start. Times are taken after Wait returns, so a
// late wake-up can only make a request look later: the bound holds on a
// busy machine.
func TestGateTwoWindows(t *testing.T) {
	g := NewGate(40, 40)
	g.SetWindow(10, 100*time.Millisecond)
	g.SetSecondWindow(25, 400*time.Millisecond)
	var mu sync.Mutex
	var at []time.Time
	var wg sync.WaitGroup
	start := time.Now()
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.Wait(context.Background(), 1); err != nil {
				t.Error(err)
			}
			mu.Lock()
			at = append(at, time.Now())
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n, per := g.SecondWindow(); n != 25 || per != 400*time.Millisecond {
		t.Errorf("SecondWindow = %d, %v", n, per)
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	for k, a := range at {
		lo := max(time.Duration(k/10)*100*time.Millisecond, time.Duration(k/25)*400*time.Millisecond)
		if a.Sub(start) < lo {
			t.Fatalf("request %d went %v after the start, before %v", k, a.Sub(start), lo)
		}
	}
	// The second window binds: 60 requests need two of its spans.
	if el := at[len(at)-1].Sub(start); el < 800*time.Millisecond {
		t.Errorf("60 requests in %v: the second window did not hold", el)
	}
}

// TestWindowResizeKeepsBookings: a window made longer in place still
// counts what it booked before.
func TestWindowResizeKeepsBookings(t *testing.T) {
	t0 := time.Now()
	w := NewWindow(2, time.Second)
	w.Reserve(t0, 1)
	w.Reserve(t0, 1)
	w.Resize(2, 2*time.Second)
	if at := w.Reserve(t0, 1); at.Sub(t0) != 2*time.Second {
		t.Errorf("third event at +%v, want +2s", at.Sub(t0))
	}
	if n, per := w.Limit(); n != 2 || per != 2*time.Second {
		t.Errorf("Limit = %d, %v", n, per)
	}
}
