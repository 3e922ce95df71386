package transport

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestGateTwoWindows paces requests through a gate whose bucket would let
// twice the first window through, and checks that no span of either
// window saw more than its count.
func TestGateTwoWindows(t *testing.T) {
	g := NewGate(40, 40)
	g.SetWindow(10, 100*time.Millisecond)
	g.SetSecondWindow(25, 400*time.Millisecond)
	var mu sync.Mutex
	var at []time.Time
	var wg sync.WaitGroup
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
	for _, w := range []struct {
		n   int
		per time.Duration
	}{{10, 100 * time.Millisecond}, {25, 400 * time.Millisecond}} {
		for _, a := range at {
			in := 0
			for _, b := range at {
				// Release times may run a little late, never early:
				// allow a millisecond of timer slack.
				if !b.Before(a) && b.Sub(a) < w.per-time.Millisecond {
					in++
				}
			}
			if in > w.n {
				t.Fatalf("%d requests within %v, limit %d", in, w.per, w.n)
			}
		}
	}
}
