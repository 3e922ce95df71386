package segment

import "testing"

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
