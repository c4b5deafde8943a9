package blob_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
)

func TestPreview(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, newStore := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			key, err := blob.PreviewKey("01JEXAMPLE0000000000000XYZ")
			require.NoError(t, err)
			require.Equal(t, "previews/YZ/01JEXAMPLE0000000000000XYZ.jpg", key)

			require.NoError(t, s.PutPreview(ctx, key, []byte("first"), "image/jpeg"))
			require.NoError(t, s.PutPreview(ctx, key, []byte("second"), "image/jpeg"), "a preview is replaced")
			r, err := s.Open(ctx, key)
			require.NoError(t, err)
			got, err := io.ReadAll(r)
			r.Close()
			require.NoError(t, err)
			require.Equal(t, "second", string(got))

			require.NoError(t, s.Delete(ctx, key))
			ok, err := s.Exists(ctx, key)
			require.NoError(t, err)
			require.False(t, ok)
			require.NoError(t, s.Delete(ctx, key), "deleting twice is no error")
		})
	}

	t.Run("FileIsPrivate", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s := open(t, "file://"+dir)
		key, err := blob.PreviewKey("01JEXAMPLE0000000000000ABC")
		require.NoError(t, err)
		require.NoError(t, s.PutPreview(ctx, key, []byte("x"), "image/jpeg"))
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(key)))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		t.Parallel()
		s := open(t, "mem://")
		for _, id := range []string{"", "ab", "../../etc/passwd", "01J/X", "01J.jpg", "ÀÀÀÀ"} {
			_, err := blob.PreviewKey(id)
			require.ErrorIs(t, err, blob.ErrInvalidKey, id)
		}
		for _, key := range []string{"previews/../x.jpg", "previews/AB/01JXYZ.jpg", "previews/YZ/01JXYZ.png", "previews/01JXYZ.jpg"} {
			require.ErrorIs(t, s.PutPreview(ctx, key, []byte("x"), "image/jpeg"), blob.ErrInvalidKey, key)
			_, err := s.Open(ctx, key)
			require.ErrorIs(t, err, blob.ErrInvalidKey, key)
		}
	})
}
