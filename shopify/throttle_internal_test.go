package shopify

import "testing"

func TestGateBurst(t *testing.T) {
	tests := []struct {
		size, rate float64
		want       int
	}{
		{1000, 100, 950},   // 5% of the bucket
		{1000, 2000, 900},  // 50ms of restore
		{1000, 20000, 750}, // at most a quarter
		{2000, 100, 1900},
		{1, 1, 1},
	}
	for _, tt := range tests {
		if got := gateBurst(tt.size, tt.rate); got != tt.want {
			t.Errorf("gateBurst(%v, %v) = %d, want %d", tt.size, tt.rate, got, tt.want)
		}
	}
}

func TestPacer(t *testing.T) {
	var p pacer
	if f := p.next(false); f != 1 {
		t.Errorf("start %v", f)
	}
	for range 20 {
		p.next(true)
	}
	if f := p.next(true); f != paceFloor {
		t.Errorf("after many throttles %v, want %v", f, paceFloor)
	}
	for range 100 {
		p.next(false)
	}
	if f := p.next(false); f != 1 {
		t.Errorf("after recovery %v", f)
	}
}
