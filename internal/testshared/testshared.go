// Package testshared finds the project's reference material (../shared,
// beside the module root) for tests: API specs, platform notes and seeds.
//
// Tests call Dir or Path. When the material is absent, as in a user's clone,
// the test is skipped with one clear line; with SHOPCRM_REQUIRE_SPECS=1, as in
// CI, it fails instead. SHOPCRM_SHARED overrides the location.
package testshared

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// RootModule is the module path of the library.
const RootModule = "github.com/shopcrm/shopcrm"

var (
	once   sync.Once
	dir    string
	dirErr error
)

// Dir returns the directory of the shared material, skipping or failing t
// when it cannot be found.
func Dir(t testing.TB) string {
	t.Helper()
	once.Do(func() { dir, dirErr = find() })
	if dirErr != nil {
		if os.Getenv("SHOPCRM_REQUIRE_SPECS") == "1" {
			t.Fatalf("shared specs required (SHOPCRM_REQUIRE_SPECS=1) but unavailable: %v", dirErr)
		}
		t.Skipf("skipping: shared specs not found (%v); set SHOPCRM_SHARED to run", dirErr)
	}
	return dir
}

// Path returns the path of a file under the shared directory, e.g.
// Path(t, "specs/line/messaging-api.yml"), checking that it is readable.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(t), filepath.FromSlash(rel))
	f, err := os.Open(p)
	if err != nil {
		if os.Getenv("SHOPCRM_REQUIRE_SPECS") == "1" {
			t.Fatalf("shared file required but unreadable: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	f.Close()
	return p
}

func find() (string, error) {
	if d := os.Getenv("SHOPCRM_SHARED"); d != "" {
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return "", errors.New("SHOPCRM_SHARED=" + d + " is not a directory")
		}
		return d, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	d := filepath.Join(filepath.Dir(root), "shared")
	if fi, err := os.Stat(filepath.Join(d, "specs")); err != nil || !fi.IsDir() {
		return "", errors.New(d + "/specs does not exist")
	}
	return d, nil
}

// ModuleRoot walks up from the working directory to the directory whose
// go.mod declares the library module (skipping nested modules such as the
// conformance module).
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if strings.TrimSpace(line) == "module "+RootModule {
					return d, nil
				}
			}
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no go.mod for " + RootModule + " above " + wd)
		}
	}
}
