package pipeline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopcrm/shopcrm/klaviyo"
	"github.com/shopcrm/shopcrm/line"
	"github.com/shopcrm/shopcrm/shopify"
)

// recordKinds are the types the steps read their records into.
var recordKinds = []func() any{
	func() any { return &klaviyo.EventCursor{} },
	func() any { return &map[string]string{} },
	func() any { return &map[string]bool{} },
	func() any { return &line.SendRecord{} },
	func() any { return &shopify.EngagementRecord{} },
	func() any { return &map[string]shopify.Activity{} },
}

// FuzzStateRecord writes arbitrary bytes where a record is kept (seeds in
// testdata/fuzz/FuzzStateRecord: records as the steps write them, cut
// short, of the wrong shape) and reads them back as each kind of record
// the steps keep. A file that loads is a record that saves and loads
// again to the same encoding; one that does not is reported as damaged,
// never as a missing record.
func FuzzStateRecord(f *testing.F) {
	f.Add(uint8(1), []byte(`{"a@example.com":"01GDDKASAP8TKDDA2GRZDSVP4H"}`))
	f.Fuzz(func(t *testing.T, kind uint8, content []byte) {
		s, err := NewState(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(s.path("rec"), content, 0o644); err != nil {
			t.Fatal(err)
		}
		newV := recordKinds[int(kind)%len(recordKinds)]
		v := newV()
		ok, err := s.load("rec", v)
		if err != nil {
			if ok || !strings.Contains(err.Error(), "damaged") {
				t.Fatalf("load of %q: %v, %v", content, ok, err)
			}
			return
		}
		if !ok {
			t.Fatalf("an existing record %q loaded as missing", content)
		}
		first, err := json.Marshal(v)
		if err != nil {
			return // a value the type cannot encode (an Outcome out of range): saving it reports it
		}
		if err := s.save("rec", v); err != nil {
			t.Fatal(err)
		}
		again := newV()
		if ok, err := s.load("rec", again); !ok || err != nil {
			t.Fatalf("saved %s does not load: %v", first, err)
		}
		second, _ := json.Marshal(again)
		if !bytes.Equal(first, second) {
			t.Fatalf("record changed when saved and loaded:\n%s\n%s", first, second)
		}
	})
}

// FuzzStatePath checks the mapping of record names (a segment's name, a
// day, a message's segment: input from configuration and platforms) to
// files: every name stays inside the records directory without making a
// hidden file, and two names never share a file.
func FuzzStatePath(f *testing.F) {
	for _, n := range []string{"klaviyo-emails", "line-2026-01-02-vip", "../../etc/passwd", ".hidden", "a/b", "a%2Fb", "名前", "", "%", "a.b"} {
		f.Add(n, n+"x")
	}
	s := &State{dir: "/state"}
	f.Fuzz(func(t *testing.T, a, b string) {
		pa, pb := s.path(a), s.path(b)
		for _, n := range []string{a, b} {
			p := s.path(n)
			// No name leaves the directory, and none but the empty one
			// (".json") makes a hidden file.
			if filepath.Dir(p) != filepath.Join("/state", "records") || n != "" && strings.HasPrefix(filepath.Base(p), ".") {
				t.Fatalf("record %q at %q", n, p)
			}
		}
		if a != b && pa == pb {
			t.Fatalf("%q and %q share %s", a, b, pa)
		}
	})
}
