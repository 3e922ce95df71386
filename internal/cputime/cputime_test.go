package cputime_test

import (
	"testing"

	"github.com/shopcrm/shopcrm/internal/cputime"
)

func TestNowAdvancesWithWork(t *testing.T) {
	start := cputime.Now()
	x := uint64(1)
	for cputime.Now()-start <= 0 {
		for range 1_000_000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	if x == 0 {
		t.Log(x) // keeps the loop
	}
}
