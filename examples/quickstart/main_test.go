package main

import (
	"context"
	"os"
	"path/filepath"
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
}
