package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/quirehq/quire/blob"
)

// TestPutFlushesFileSystem checks the group flush of a directory store on
// Linux: a Put's content reaches the disk before the rename that publishes
// it, and the rename after; Puts in flight at once share flushes; a failed
// flush fails the Put and publishes nothing. Not parallel: it swaps the
// package's flush.
func TestPutFlushesFileSystem(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "blobs")
	var (
		mu      sync.Mutex
		watch   string // a final path whose presence each flush records
		present []bool
		calls   int
		fail    error
		slow    time.Duration
	)
	blob.SetSyncFS(t, func(fd int) error {
		mu.Lock()
		calls++
		if watch != "" {
			_, err := os.Stat(watch)
			present = append(present, err == nil)
		}
		err, d := fail, slow
		mu.Unlock()
		time.Sleep(d)
		if err != nil {
			return err
		}
		return unix.Syncfs(fd)
	})
	s := open(t, "file://"+root)

	content := []byte("flushed twice")
	watch = filepath.Join(root, filepath.FromSlash(blob.Key(sum(content))))
	_, err := s.Put(ctx, bytes.NewReader(content), nil)
	require.NoError(t, err)
	require.Equal(t, []bool{false, true}, present, "a flush before the rename publishes the blob, and one after")

	// A failed flush fails the Put, and nothing is published.
	fail = errors.New("input/output error")
	lost := []byte("never published")
	_, err = s.Put(ctx, bytes.NewReader(lost), nil)
	require.ErrorIs(t, err, fail)
	require.ErrorContains(t, err, "flush the content")
	ok, err := s.Exists(ctx, blob.Key(sum(lost)))
	require.NoError(t, err)
	require.False(t, ok)
	fail, watch = nil, ""

	// Puts in flight at once share the flushes.
	const n = 32
	calls, slow = 0, 5*time.Millisecond
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := s.Put(ctx, bytes.NewReader(fmt.Appendf(nil, "blob %d", i)), nil)
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Less(t, calls, 2*n, "flushes shared by the Puts in flight")
	require.GreaterOrEqual(t, calls, 2)
}
