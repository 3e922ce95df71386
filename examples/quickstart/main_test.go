package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestQuickstart runs the program on a small store and checks that it
// writes every report file.
func TestQuickstart(t *testing.T) {
	for _, k := range []string{"SHOPCRM_SHOPIFY_SHOP", "SHOPCRM_SHOPIFY_TOKEN", "SHOPCRM_LINE_TOKEN", "SHOPCRM_OMNISEND_API_KEY", "SHOPCRM_KLAVIYO_API_KEY"} {
		t.Setenv(k, "")
	}
	out := t.TempDir()
	if err := run(context.Background(), 150, out, "", false, 3); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"steps.csv", "segments.csv", "attribution.csv", "engagements.csv", "report.html"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// Every step's requests to a platform stand beside the minimum of
	// its work there, and are no fewer.
	f, err := os.Open(filepath.Join(out, "steps.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]bool{}
	for _, r := range rows[1:] {
		if !strings.HasPrefix(r[1], "requests ") {
			continue
		}
		n, err1 := strconv.Atoi(r[2])
		least, err2 := strconv.Atoi(r[4])
		if err1 != nil || err2 != nil || n < least || r[5] == "" {
			t.Errorf("steps.csv: %q: requests, minimum or floor missing, or fewer requests than the minimum", r)
		}
		steps[r[0]] = true
	}
	if len(steps) != 6 {
		t.Errorf("steps.csv: minimums for %v, want all six steps", steps)
	}
}
