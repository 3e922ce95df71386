package segment

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shopcrm/shopcrm/gid"
	"github.com/shopcrm/shopcrm/tagging"
)

// FileStore is a [Store] keeping one file per segment in Dir, which must
// exist. Saves are atomic: the snapshot is written to a temporary file in
// Dir, synced, and renamed over the old one, so a crash leaves either the
// old snapshot or the new one, never a mix. A FileStore is safe for
// concurrent use; the last of two concurrent saves of one segment wins.
//
// File names are "segment-" and the segment name with every byte outside
// [a-z0-9_-] written as %XX, then ".snapshot", so any name is safe (no
// path separators, no names reserved by the system) and names differing
// only in case stay apart on case-insensitive file systems. The format is compact (about 3
// bytes per member or uncertain customer for Shopify ids) and checksummed:
// a damaged file is a [*SnapshotError], never a wrong membership. Files of
// the first format, which had no uncertain customers, still load; every
// save writes the current one.
type FileStore struct {
	Dir string
}

// The magics of the two formats: snapMagic is written, both are read.
// Version 1 had no uncertain customers.
const (
	snapMagic   = "SEGSNAP2"
	snapMagicV1 = "SEGSNAP1"
)

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
func (s *FileStore) Save(ctx context.Context, segment string, snap Snapshot) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkSnapshot(segment, snap); err != nil {
		return err
	}
	path := s.path(segment)
	fail := func(reason string, err error) error {
		return &SnapshotError{Segment: segment, Path: path, Reason: reason, Err: err}
	}
	s.removeStaleTemps(path)
	f, err := os.CreateTemp(s.Dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fail("create temporary file", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(encodeSnapshot(snap)); err != nil {
		return fail("write", err)
	}
	if err := f.Sync(); err != nil {
		return fail("sync", err)
	}
	if err := f.Close(); err != nil {
		return fail("close", err)
	}
	// A save cancelled while writing must not replace the snapshot.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail("rename", err)
	}
	// Make the rename itself durable where the platform allows syncing a
	// directory; where it does not, the rename is still atomic.
	if d, err := os.Open(s.Dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
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

// encodeSnapshot lays out: magic, tag (uvarint length + bytes), the type
// byte [snapCustomers], the members, the uncertain customers, and a
// big-endian CRC-32C of everything before it. Each id list is its count,
// then the ids as uvarint gaps from the previous id (the first from zero).
// Version 1 ([snapMagicV1]) ends after the members.
func encodeSnapshot(snap Snapshot) []byte {
	b := make([]byte, 0, len(snapMagic)+len(snap.Tag)+20+3*(len(snap.Members)+len(snap.Uncertain)))
	b = append(b, snapMagic...)
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

// decodeSnapshot reads what encodeSnapshot wrote, in either version,
// trusting nothing: every length is bounded by the bytes left, ids must
// ascend and stay in range, and the checksum must match.
func decodeSnapshot(data []byte) (Snapshot, error) {
	if len(data) < len(snapMagic)+4 {
		return Snapshot{}, errors.New("not a segment snapshot")
	}
	v1 := false
	switch string(data[:len(snapMagic)]) {
	case snapMagic:
	case snapMagicV1:
		v1 = true
	default:
		return Snapshot{}, errors.New("not a segment snapshot")
	}
	body, sum := data[:len(data)-4], binary.BigEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return Snapshot{}, errors.New("checksum mismatch")
	}
	d := idDecoder{p: body[len(snapMagic):]}
	tagLen, ok := d.uvarint()
	if !ok || tagLen > uint64(len(d.p)) {
		return Snapshot{}, errors.New("bad tag length")
	}
	snap := Snapshot{Tag: string(d.p[:tagLen])}
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
