package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/shopcrm/shopcrm/segment"
)

// State is what the steps keep between runs, in a directory: segment
// snapshots (segments/) and send records (records/). Every file is
// written whole or not at all (a temporary file renamed over the old
// one), so a process killed at any point leaves the last complete
// version. One State serves one shop.
type State struct {
	dir string
	mu  sync.Mutex // one writer per record at a time within a process
}

// NewState opens (creating it if needed) the state directory dir.
func NewState(dir string) (*State, error) {
	for _, sub := range []string{"segments", "records"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("pipeline: state: %w", err)
		}
	}
	return &State{dir: dir}, nil
}

// Dir returns the state directory.
func (s *State) Dir() string { return s.dir }

// Segments returns the store of segment snapshots.
func (s *State) Segments() segment.Store {
	return &segment.FileStore{Dir: filepath.Join(s.dir, "segments")}
}

// load reads record name into v and reports whether it exists.
func (s *State) load(name string, v any) (bool, error) {
	b, err := os.ReadFile(s.path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pipeline: state %s: %w", name, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("pipeline: state %s is damaged: %w", name, err)
	}
	return true, nil
}

// save writes v as record name, atomically and durably.
func (s *State) save(name string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return fmt.Errorf("pipeline: state %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	path := s.path(name)
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("pipeline: state %s: %w", name, err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("pipeline: state %s: %w", name, err)
	}
	// The rename survives a process kill as it is; syncing the directory
	// makes it survive a machine's crash too, where the platform allows.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// path maps a record name to its file, escaping everything but letters,
// digits, '-', '_' and '.', so that any segment name is a safe file name.
func (s *State) path(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' && i > 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return filepath.Join(s.dir, "records", b.String()+".json")
}
