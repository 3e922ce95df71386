package segment

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := &FileStore{Dir: dir}
	cases := map[string]Snapshot{
		"first":           {Tag: "ecp-first", Members: cids(1, 2, 9, 7012345678901, 1<<63-1)},
		"Empty":           {Tag: "ecp-empty"},
		"doubt":           {Tag: "ecp-first", Members: cids(1, 5), Uncertain: cids(5, 6, 1<<63-1)},
		"../up/and/Away ": {Tag: "定期便"},
	}
	for name, snap := range cases {
		if err := s.Save(ctx, name, snap); err != nil {
			t.Fatalf("Save(%q): %v", name, err)
		}
	}
	for name, want := range cases {
		got, ok, err := s.Load(ctx, name)
		if err != nil || !ok {
			t.Fatalf("Load(%q) = %v, %v", name, ok, err)
		}
		diff(t, "snapshot "+name, want, got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// Every name maps to one plain file in dir; no temporary files remain.
	diff(t, "files", []string{"segment-%2E%2E%2Fup%2Fand%2F%41way%20.snapshot", "segment-%45mpty.snapshot", "segment-doubt.snapshot", "segment-first.snapshot"}, names)

	if err := s.Delete(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(ctx, "first"); ok || err != nil {
		t.Errorf("after Delete: %v, %v", ok, err)
	}
	if err := s.Delete(ctx, "first"); err != nil {
		t.Errorf("Delete of a missing snapshot: %v", err)
	}
}

func TestFileStoreReplacesAtomically(t *testing.T) {
	ctx := context.Background()
	s := &FileStore{Dir: t.TempDir()}
	if err := s.Save(ctx, "x", Snapshot{Tag: "t", Members: cids(1, 2, 3)}); err != nil {
		t.Fatal(err)
	}
	// A save that cannot complete leaves the old snapshot in place.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Save(cancelled, "x", Snapshot{Tag: "t", Members: cids(4)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Save with a cancelled context = %v", err)
	}
	if err := s.Save(ctx, "x", Snapshot{Tag: "t", Members: cids(5, 4)}); err == nil {
		t.Fatal("unsorted snapshot saved")
	}
	got, _, err := s.Load(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "snapshot", cids(1, 2, 3), got.Members)
	if err := s.Save(ctx, "x", Snapshot{Tag: "t", Members: cids(7)}); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.Load(ctx, "x")
	diff(t, "replaced", cids(7), got.Members)
	entries, _ := os.ReadDir(s.Dir)
	if len(entries) != 1 {
		t.Errorf("%d files left, want 1", len(entries))
	}
}

func TestFileStoreCorruption(t *testing.T) {
	ctx := context.Background()
	s := &FileStore{Dir: t.TempDir()}
	if err := s.Save(ctx, "x", Snapshot{Tag: "t", Members: cids(1, 500, 70000), Uncertain: cids(2, 500)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Dir, "segment-x.snapshot")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range good {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x10
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.Load(ctx, "x")
		var se *SnapshotError
		if !errors.As(err, &se) || se.Reason != "corrupt" || se.Path != path {
			t.Fatalf("byte %d flipped: Load error = %v, want a corrupt *SnapshotError", i, err)
		}
	}
	for _, n := range []int{0, 4, len(good) - 1} {
		os.WriteFile(path, good[:n], 0o644)
		if _, _, err := s.Load(ctx, "x"); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
}

// snapshotV1 is a file of the first format, as the code of that format
// wrote it for Snapshot{Tag: "ecp-first", Members: cids(1, 2, 300,
// 7012345678901)}.
const snapshotV1 = "SEGSNAP1\tecp-first\x01\x04\x01\x01\xaa\x02\x89\x96\xfe\x82\x8b\xcc\x01\x82\xb1\xea\xf2"

// TestFileStoreReadsFirstFormat: a snapshot saved before uncertain
// customers were recorded loads with none, and the next save writes the
// current format.
func TestFileStoreReadsFirstFormat(t *testing.T) {
	ctx := context.Background()
	s := &FileStore{Dir: t.TempDir()}
	path := filepath.Join(s.Dir, "segment-first.snapshot")
	if err := os.WriteFile(path, []byte(snapshotV1), 0o644); err != nil {
		t.Fatal(err)
	}
	want := Snapshot{Tag: "ecp-first", Members: cids(1, 2, 300, 7012345678901)}
	got, ok, err := s.Load(ctx, "first")
	if err != nil || !ok {
		t.Fatalf("Load = %v, %v", ok, err)
	}
	diff(t, "first format", want, got)
	// A damaged file of the first format is caught like any other.
	bad := []byte(snapshotV1)
	bad[len(bad)-6] ^= 1
	if _, err := decodeSnapshot(bad); err == nil {
		t.Error("damaged first-format file accepted")
	}

	want.Uncertain = cids(3)
	if err := s.Save(ctx, "first", want); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), snapMagic) || snapMagic == snapMagicV1 {
		t.Errorf("saved as %q, want the current format %q", data[:8], snapMagic)
	}
	if got, _, err = s.Load(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	diff(t, "current format", want, got)
	// The current format adds the generation and the uncertain list and
	// nothing else: the list's count and one gap here.
	if n := len(snapshotV1) + len(binary.AppendUvarint(nil, got.Generation)) + 2; len(data) != n {
		t.Errorf("%d bytes, want %d", len(data), n)
	}
	if got.Generation <= legacyGeneration {
		t.Errorf("generation %d after a save over a file of the first format, want more than %d", got.Generation, legacyGeneration)
	}
}

func TestFileStoreErrors(t *testing.T) {
	ctx := context.Background()
	missing := &FileStore{Dir: filepath.Join(t.TempDir(), "nope")}
	var se *SnapshotError
	if err := missing.Save(ctx, "x", Snapshot{Tag: "t"}); !errors.As(err, &se) || !strings.Contains(err.Error(), "create temporary file") {
		t.Errorf("Save into a missing dir = %v", err)
	}
	if _, ok, err := missing.Load(ctx, "x"); ok || !errors.As(err, &se) || se.Reason != "directory" {
		t.Errorf("Load from a missing dir = %v, %v; want a *SnapshotError", ok, err)
	}
	s := &FileStore{Dir: t.TempDir()}
	if err := os.Mkdir(filepath.Join(s.Dir, "segment-d.snapshot"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load(ctx, "d"); !errors.As(err, &se) || se.Reason != "read" {
		t.Errorf("Load of a directory = %v", err)
	}
	if err := s.Save(ctx, "", Snapshot{Tag: "t"}); !errors.As(err, &se) {
		t.Errorf("Save with an empty name = %v", err)
	}
	if err := s.Delete(ctx, ""); !errors.As(err, &se) {
		t.Errorf("Delete with an empty name = %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.Load(cancelled, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context = %v", err)
	}
	if err := s.Delete(cancelled, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled context = %v", err)
	}
}

// TestFileStoreRemovesStaleTemps: a temporary file left by a process that
// died mid-save is removed by the next save; a recent one (perhaps a save
// running elsewhere) is left alone.
func TestFileStoreRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	s := &FileStore{Dir: dir}
	stale := filepath.Join(dir, ".segment-vip.snapshot.tmp-123")
	recent := filepath.Join(dir, ".segment-vip.snapshot.tmp-456")
	for _, f := range []string{stale, recent} {
		if err := os.WriteFile(f, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(context.Background(), "vip", Snapshot{Tag: "vip"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temp file still there: %v", err)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("recent temp file removed: %v", err)
	}
}
