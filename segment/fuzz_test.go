package segment

import (
	"strings"
	"testing"
)

// FuzzDecodeSnapshot checks that any bytes either decode to a snapshot that
// satisfies the store's invariants and re-encodes identically (a file of
// an older format re-encodes in the current one, to the same snapshot),
// or fail cleanly.
func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(encodeSnapshot(Snapshot{Tag: "ecp-first", Members: cids(1, 2, 300, 7012345678901), Generation: 1}))
	f.Add(encodeSnapshot(Snapshot{Tag: "ecp-first", Members: cids(1, 300), Uncertain: cids(2, 300, 7012345678901), Generation: 1751284800123456789}))
	f.Add([]byte(snapshotV1))
	f.Fuzz(func(t *testing.T, b []byte) {
		snap, err := decodeSnapshot(b)
		if err != nil {
			return
		}
		if err := checkSnapshot("s", snap); err != nil {
			t.Fatalf("decoded an invalid snapshot: %v", err)
		}
		got := encodeSnapshot(snap)
		if !strings.HasPrefix(string(b), snapMagicV1) && !strings.HasPrefix(string(b), snapMagicV2) {
			if string(got) != string(b) {
				t.Fatalf("re-encoding differs")
			}
			return
		}
		again, err := decodeSnapshot(got)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "older format re-encoded", snap, again)
	})
}
