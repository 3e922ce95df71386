package segment

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/tagging"
)

// FileStore is a [Store] keeping one file per segment in Dir, which must
// exist. Saves are atomic: the snapshot is written to a temporary file in
// Dir, synced, and renamed over the old one, so a crash leaves either the
// old snapshot or the new one, never a mix. A FileStore is safe for
// concurrent use; the last of two concurrent Saves of one segment wins.
//
// Generations: a save gives the snapshot one more than the generation it
// replaces, or the clock's time in nanoseconds if that is more, so a
// snapshot saved after a Delete does not repeat an earlier generation
// (unless the clock is set back past it). SaveIf compares the file's
// generation with the expected one, then, after writing the new file,
// again just before renaming it into place; saves within one process, by
// any FileStore of the same directory, are serialised per segment. Two
// processes saving one segment can still both pass the last check if
// their renames fall between each other's check and rename, a window of
// microseconds; to rule that out, do not commit one segment's plans from
// two processes at once (or lock around them yourself).
//
// File names are "segment-" and the segment name with every byte outside
// [a-z0-9_-] written as %XX, then ".snapshot", so any name is safe (no
// path separators, no names reserved by the system) and names differing
// only in case stay apart on case-insensitive file systems. The format is compact (about 3
// bytes per member or uncertain customer for Shopify ids) and checksummed:
// a damaged file is a [*SnapshotError], never a wrong membership. Files of
// the first format, which had no uncertain customers, and of the second,
// which had no generation, still load, with generation 1; every save
// writes the current one.
type FileStore struct {
	Dir string
}

// The magics of the formats: snapMagic is written, all are read.
// Version 1 had no uncertain customers, version 2 no generation.
const (
	snapMagic   = "SEGSNAP3"
	snapMagicV2 = "SEGSNAP2"
	snapMagicV1 = "SEGSNAP1"
)

// legacyGeneration is the generation of a snapshot saved in a format
// without one: nonzero, since it was saved, and below every generation a
// save now gives.
const legacyGeneration = 1

// snapCustomers is the resource-type byte of a snapshot: members are
// customer ids, the only type a snapshot holds.
const snapCustomers = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// path returns the file of segment.
func (s *FileStore) path(segment string) string {
	var b strings.Builder
	for i := 0; i < len(segment); i++ {
		c := segment[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return filepath.Join(s.Dir, "segment-"+b.String()+".snapshot")
}

// Load implements [Store].
func (s *FileStore) Load(ctx context.Context, segment string) (Snapshot, bool, error) {
	if err := ctx.Err(); err != nil {
		return Snapshot{}, false, err
	}
	if segment == "" {
		return Snapshot{}, false, &SnapshotError{Segment: segment, Reason: "empty segment name"}
	}
	path := s.path(segment)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// No snapshot means a first run, which re-tags every member: make
		// sure it is the file that is missing, not the whole directory.
		if _, derr := os.Stat(s.Dir); derr != nil {
			return Snapshot{}, false, &SnapshotError{Segment: segment, Path: path, Reason: "directory", Err: derr}
		}
		return Snapshot{}, false, nil
	}
	if err != nil {
		return Snapshot{}, false, &SnapshotError{Segment: segment, Path: path, Reason: "read", Err: err}
	}
	snap, err := decodeSnapshot(data)
	if err != nil {
		return Snapshot{}, false, &SnapshotError{Segment: segment, Path: path, Reason: "corrupt", Err: err}
	}
	return snap, true, nil
}

// Save implements [Store].
func (s *FileStore) Save(ctx context.Context, segment string, snap Snapshot) error {
	_, err := s.save(ctx, segment, 0, false, snap)
	return err
}

// SaveIf implements [Store]. See [FileStore] for what it detects across
// processes.
func (s *FileStore) SaveIf(ctx context.Context, segment string, gen uint64, snap Snapshot) (uint64, error) {
	return s.save(ctx, segment, gen, true, snap)
}

// fileLocks holds a *sync.Mutex per snapshot file (absolute path) saved by
// this process, serialising the saves of every FileStore of a directory.
var fileLocks sync.Map

// lock locks the snapshot file at path for saving and returns the unlock.
func lock(path string) func() {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	m, _ := fileLocks.LoadOrStore(path, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// save writes snap under a new generation, if cond only when the file's
// generation is gen.
func (s *FileStore) save(ctx context.Context, segment string, gen uint64, cond bool, snap Snapshot) (_ uint64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := checkSnapshot(segment, snap); err != nil {
		return 0, err
	}
	path := s.path(segment)
	fail := func(reason string, err error) error {
		return &SnapshotError{Segment: segment, Path: path, Reason: reason, Err: err}
	}
	defer lock(path)()
	// check returns the file's generation (0 for a damaged file), failing
	// on a condition unless it is gen.
	check := func() (uint64, error) {
		old, ok, err := fileGeneration(path)
		if err != nil {
			return 0, fail("read generation", err)
		}
		if cond && (!ok || old != gen) {
			return 0, &StalePlanError{Segment: segment}
		}
		return old, nil
	}
	old, err := check()
	if err != nil {
		return 0, err
	}
	snap.Generation = max(old+1, uint64(time.Now().UnixNano()))
	s.removeStaleTemps(path)
	f, err := os.CreateTemp(s.Dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fail("create temporary file", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(encodeSnapshot(snap)); err != nil {
		return 0, fail("write", err)
	}
	if err := f.Sync(); err != nil {
		return 0, fail("sync", err)
	}
	if err := f.Close(); err != nil {
		return 0, fail("close", err)
	}
	// A save cancelled while writing must not replace the snapshot.
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// Another process may have saved or deleted the snapshot meanwhile.
	if cond {
		if _, err := check(); err != nil {
			return 0, err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, fail("rename", err)
	}
	// Make the rename itself durable where the platform allows syncing a
	// directory; where it does not, the rename is still atomic.
	if d, err := os.Open(s.Dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return snap.Generation, nil
}

// fileGeneration returns the generation of the snapshot file at path,
// read from its header alone: 0 and true when there is no file, false
// when the file is too damaged to tell (no plan can have been made from
// it, and Load reports it).
func fileGeneration(path string) (uint64, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	var head [len(snapMagic) + binary.MaxVarintLen64]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return 0, false, err
	}
	h := head[:n]
	if len(h) < len(snapMagic) {
		return 0, false, nil
	}
	switch string(h[:len(snapMagic)]) {
	case snapMagic:
	case snapMagicV1, snapMagicV2:
		return legacyGeneration, true, nil
	default:
		return 0, false, nil
	}
	gen, k := binary.Uvarint(h[len(snapMagic):])
	return gen, k > 0 && gen != 0, nil
}

// staleTemp is the age past which a temporary file of a save is taken to
// be left over from a process that died while saving: no save takes that
// long, and a younger file may belong to a save running right now in
// another process.
const staleTemp = time.Hour

// removeStaleTemps deletes the temporary files earlier saves of the
// snapshot at path left behind when their process died mid-save.
func (s *FileStore) removeStaleTemps(path string) {
	olds, _ := filepath.Glob(filepath.Join(s.Dir, "."+globEscape(filepath.Base(path))+".tmp-*"))
	for _, old := range olds {
		if fi, err := os.Stat(old); err == nil && time.Since(fi.ModTime()) > staleTemp {
			_ = os.Remove(old)
		}
	}
}

// globEscape escapes the characters filepath.Match treats specially.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`).Replace(s)
}

// Delete implements [Store].
func (s *FileStore) Delete(ctx context.Context, segment string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if segment == "" {
		return &SnapshotError{Segment: segment, Reason: "empty segment name"}
	}
	path := s.path(segment)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &SnapshotError{Segment: segment, Path: path, Reason: "delete", Err: err}
	}
	return nil
}

// encodeSnapshot lays out: magic, generation (uvarint), tag (uvarint
// length + bytes), the type byte [snapCustomers], the members, the
// uncertain customers, and a big-endian CRC-32C of everything before it.
// Each id list is its count, then the ids as uvarint gaps from the
// previous id (the first from zero). Version 2 ([snapMagicV2]) has no
// generation; version 1 ([snapMagicV1]) has none either and ends after
// the members.
func encodeSnapshot(snap Snapshot) []byte {
	b := make([]byte, 0, len(snapMagic)+len(snap.Tag)+30+3*(len(snap.Members)+len(snap.Uncertain)))
	b = append(b, snapMagic...)
	b = binary.AppendUvarint(b, snap.Generation)
	b = binary.AppendUvarint(b, uint64(len(snap.Tag)))
	b = append(b, snap.Tag...)
	b = append(b, snapCustomers)
	b = appendIDs(b, snap.Members)
	b = appendIDs(b, snap.Uncertain)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// appendIDs appends the count of ids, then the ids (ascending) as gaps.
func appendIDs(b []byte, ids []gid.ID) []byte {
	b = binary.AppendUvarint(b, uint64(len(ids)))
	var last int64
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(id.Num-last))
		last = id.Num
	}
	return b
}

// decodeSnapshot reads what encodeSnapshot wrote, in any version,
// trusting nothing: every length is bounded by the bytes left, ids must
// ascend and stay in range, and the checksum must match.
func decodeSnapshot(data []byte) (Snapshot, error) {
	if len(data) < len(snapMagic)+4 {
		return Snapshot{}, errors.New("not a segment snapshot")
	}
	v1, legacy := false, false
	switch string(data[:len(snapMagic)]) {
	case snapMagic:
	case snapMagicV2:
		legacy = true
	case snapMagicV1:
		v1, legacy = true, true
	default:
		return Snapshot{}, errors.New("not a segment snapshot")
	}
	body, sum := data[:len(data)-4], binary.BigEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return Snapshot{}, errors.New("checksum mismatch")
	}
	d := idDecoder{p: body[len(snapMagic):]}
	gen := uint64(legacyGeneration)
	if !legacy {
		var ok bool
		if gen, ok = d.uvarint(); !ok || gen == 0 {
			return Snapshot{}, errors.New("bad generation")
		}
	}
	tagLen, ok := d.uvarint()
	if !ok || tagLen > uint64(len(d.p)) {
		return Snapshot{}, errors.New("bad tag length")
	}
	snap := Snapshot{Tag: string(d.p[:tagLen]), Generation: gen}
	d.p = d.p[tagLen:]
	if err := tagging.Check(snap.Tag); err != nil {
		return Snapshot{}, err
	}
	if len(d.p) < 1 {
		return Snapshot{}, errors.New("missing type")
	}
	typ := d.p[0]
	d.p = d.p[1:]
	if typ != snapCustomers {
		return Snapshot{}, errors.New("members are not customer ids")
	}
	var err error
	if snap.Members, err = d.ids("member"); err != nil {
		return Snapshot{}, err
	}
	if !v1 {
		if snap.Uncertain, err = d.ids("uncertain customer"); err != nil {
			return Snapshot{}, err
		}
	}
	if len(d.p) != 0 {
		return Snapshot{}, errors.New("trailing bytes")
	}
	return snap, nil
}

// idDecoder reads the fields of a snapshot from p.
type idDecoder struct{ p []byte }

func (d *idDecoder) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		return 0, false
	}
	d.p = d.p[n:]
	return v, true
}

// ids reads a list appendIDs wrote: nil when empty, customer ids strictly
// ascending and in range otherwise.
func (d *idDecoder) ids(what string) ([]gid.ID, error) {
	count, ok := d.uvarint()
	if !ok || count > uint64(len(d.p)) { // every id takes at least a byte
		return nil, errors.New("bad " + what + " count")
	}
	var out []gid.ID
	if count > 0 {
		out = make([]gid.ID, 0, count)
	}
	var last uint64
	for range count {
		gap, ok := d.uvarint()
		if !ok || gap == 0 || gap > 1<<63-1-last {
			return nil, errors.New("bad " + what + " id")
		}
		last += gap
		out = append(out, gid.ID{Type: gid.Customer, Num: int64(last)})
	}
	return out, nil
}
