package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
)

// TestPutFlushesEachBlob checks that a directory store's Put, where it does
// not flush the whole file system (no syncfs), flushes the content before
// the rename that publishes it, then the directory entries the blob added,
// so that what it stored survives a crash of the machine. A crash cannot be
// made on demand here: the flushes are recorded (and made to fail) instead.
// Not parallel: it swaps the package's flushes.
func TestPutFlushesEachBlob(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "blobs")
	var files, dirs []string
	var failFile error
	blob.SetSyncs(t, func(f *os.File) error {
		files = append(files, f.Name())
		if failFile != nil {
			return failFile
		}
		return f.Sync()
	}, func(dir string) error {
		dirs = append(dirs, dir)
		_, err := os.Stat(dir) // the directory is there to flush
		return err
	})
	s := open(t, "file://"+root)
	blob.FlushEachBlob(s)
	keyPath := func(key string) string { return filepath.Join(root, filepath.FromSlash(key)) }

	first := []byte("first blob")
	res, err := s.Put(ctx, bytes.NewReader(first), nil)
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.Equal(t, filepath.Dir(keyPath(res.Key)), filepath.Dir(files[0]), "the content is flushed where it is renamed")
	require.NotEqual(t, keyPath(res.Key), files[0], "the content is flushed before the rename publishes it")
	keyDir := filepath.Dir(keyPath(res.Key))
	require.Equal(t, []string{keyDir, filepath.Dir(keyDir), filepath.Join(root, "sha256"), root}, dirs,
		"the key's directory, and every directory's entry that the first blob made")

	// Content whose key shares the first directory level: only the new
	// second level's entry is flushed beyond the key's directory.
	var second []byte
	for i := 0; ; i++ {
		second = fmt.Appendf(nil, "second blob %d", i)
		if k := blob.Key(sum(second)); k[:10] == res.Key[:10] && k[:13] != res.Key[:13] {
			break
		}
	}
	files, dirs = nil, nil
	res2, err := s.Put(ctx, bytes.NewReader(second), nil)
	require.NoError(t, err)
	require.Len(t, files, 1)
	keyDir2 := filepath.Dir(keyPath(res2.Key))
	require.Equal(t, []string{keyDir2, filepath.Dir(keyDir2)}, dirs)

	// Stored content is not written, nor flushed, again.
	files, dirs = nil, nil
	again, err := s.Put(ctx, bytes.NewReader(first), nil)
	require.NoError(t, err)
	require.True(t, again.Existed)
	require.Empty(t, files)
	require.Empty(t, dirs)

	// A flush that fails fails the Put, and publishes nothing.
	failFile = errors.New("input/output error")
	third := []byte("third blob")
	_, err = s.Put(ctx, bytes.NewReader(third), nil)
	require.ErrorIs(t, err, failFile)
	require.ErrorContains(t, err, "flush the content")
	ok, err := s.Exists(ctx, blob.Key(sum(third)))
	require.NoError(t, err)
	require.False(t, ok, "a blob whose content did not reach the disk is not published")
	failFile = nil

	// Memory and object storage have nothing to flush.
	files, dirs = nil, nil
	mem := open(t, "mem://")
	_, err = mem.Put(ctx, bytes.NewReader(first), nil)
	require.NoError(t, err)
	require.Empty(t, files)
	require.Empty(t, dirs)
}
