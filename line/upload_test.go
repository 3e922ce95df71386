package line_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopcrm/shopcrm/line/linetest"
)

// stallReader blocks until done is closed, like a caller's stalled source.
type stallReader struct{ done chan struct{} }

func (s stallReader) Read(p []byte) (int, error) { <-s.done; return 0, errors.New("closed") }

// TestUploadHonoursContext: a file upload whose reader stalls ends when the
// context does.
func TestUploadHonoursContext(t *testing.T) {
	srv := linetest.NewServer()
	defer srv.Close()
	c := srv.Client()
	done := make(chan struct{})
	defer close(done)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := c.Audiences.CreateFromFile(ctx, "stalled upload", stallReader{done})
	if took := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || took > 3*time.Second {
		t.Fatalf("err = %v after %s", err, took)
	}
}
