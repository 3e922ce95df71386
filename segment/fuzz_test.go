package segment

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseID checks ParseID never panics, fails only with *IDError, and
// round-trips: an accepted GID formats back byte for byte, an accepted
// number formats back to itself.
func FuzzParseID(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, k uint8) {
		kind := Kind(k)
		id, err := ParseID(s, kind)
		if err != nil {
			var ie *IDError
			if !errors.As(err, &ie) {
				t.Fatalf("ParseID(%q) returned %T %v", s, err, err)
			}
			return
		}
		if id.Kind != kind || id.Num <= 0 {
			t.Fatalf("ParseID(%q, %v) = %v", s, kind, id)
		}
		if strings.HasPrefix(s, gidPrefix) {
			if id.GID() != s {
				t.Fatalf("GID() = %q, input %q", id.GID(), s)
			}
		} else if strconv.FormatInt(id.Num, 10) != s {
			t.Fatalf("number %q parsed as %d", s, id.Num)
		}
		back, err := ParseGID(id.GID())
		if err != nil || back != id {
			t.Fatalf("ParseGID(%q) = %v, %v", id.GID(), back, err)
		}
	})
}

// FuzzDecodeSnapshot checks that any bytes either decode to a snapshot that
// satisfies the store's invariants and re-encodes identically, or fail
// cleanly.
func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(encodeSnapshot(Snapshot{Tag: "ecp-first", Members: cids(1, 2, 300, 7012345678901)}))
	f.Fuzz(func(t *testing.T, b []byte) {
		snap, err := decodeSnapshot(b)
		if err != nil {
			return
		}
		if err := checkSnapshot("s", snap); err != nil {
			t.Fatalf("decoded an invalid snapshot: %v", err)
		}
		if got := encodeSnapshot(snap); string(got) != string(b) {
			t.Fatalf("re-encoding differs")
		}
	})
}
