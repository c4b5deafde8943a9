package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

// TestTrackerOrder: the worker may finish a document, or find its
// attachments, before the ingest that sent it has counted it; the run
// counts each once, with its outcome, whatever the order.
func TestTrackerOrder(t *testing.T) {
	t.Parallel()
	tr := newTracker()
	tr.finished(&store.Document{ID: "child", State: store.StateDone})
	tr.addChild("parent", "child") // the parent is not counted yet
	tr.finished(&store.Document{ID: "parent", State: store.StateFailed, FailureReason: "corrupt"})
	total, _ := tr.counts()
	require.Zero(t, total, "nothing is the run's before its ingest counts it")

	require.True(t, tr.add("parent"))
	require.False(t, tr.add("parent"))
	total, finished := tr.counts()
	require.Equal(t, 2, total)
	require.Equal(t, 2, finished)
	sum := tr.summary(time.Second)
	require.Equal(t, 1, sum.Attachments)
	require.Equal(t, 1, sum.Done)
	require.Equal(t, 1, sum.Failed)
	require.Equal(t, map[string]int{"corrupt": 1}, sum.Reasons)

	// In the usual order: counted, then finished.
	require.True(t, tr.add("late"))
	tr.addChild("late", "late-child")
	total, finished = tr.counts()
	require.Equal(t, 4, total)
	require.Equal(t, 2, finished)
	tr.finished(&store.Document{ID: "late-child", State: store.StateDone})
	tr.finished(&store.Document{ID: "late", State: store.StateDone})
	_, finished = tr.counts()
	require.Equal(t, 4, finished)
	select {
	case <-tr.wake:
	default:
		t.Fatal("finishing a document wakes the run")
	}
}
