package pipeline_test

import (
	"context"
	"testing"

	"github.com/shopcrm/shopcrm/examples/pipeline"
)

// TestSegmentsSnapshotWhenTagsAlreadyThere is a run killed after sending
// a segment's tags and before saving its snapshot: the rerun reconciles,
// finds every tag in place and sends nothing, and must still save the
// snapshot, or every later step (LINE, Omnisend, Klaviyo) fails for want
// of it, run after run.
func TestSegmentsSnapshotWhenTagsAlreadyThere(t *testing.T) {
	s := newSmallStore(t)
	ctx := context.Background()
	if _, err := pipeline.Segments(ctx, s.env(t, tempState(t))); err != nil {
		t.Fatal(err)
	}

	// The snapshots are lost: a state that never saw them.
	state := tempState(t)
	env := s.env(t, state)
	res, err := pipeline.Segments(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Counts["tag changes"]; n != 0 {
		t.Errorf("the rerun planned %d tag changes, want 0: every tag is in place", n)
	}
	for _, def := range env.Segments {
		if _, ok, err := state.Segments().Load(ctx, def.Name); err != nil || !ok {
			t.Errorf("segment %q: no snapshot after a run that found its tags in place (%v)", def.Name, err)
		}
	}
	if _, err := pipeline.SyncOmnisend(ctx, env); err != nil {
		t.Errorf("the next step: %v", err)
	}
}

// tempState is a new state in a temporary directory.
func tempState(t *testing.T) *pipeline.State {
	t.Helper()
	state, err := pipeline.NewState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return state
}
