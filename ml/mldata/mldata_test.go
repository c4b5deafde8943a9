package mldata_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/mldata"
)

// TestLoad: documents are labelled by their top folder, keyed by their
// path under dir; hidden names are skipped, symlinks followed, and a
// document that cannot be read is left out, not fatal.
func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	corpus := t.TempDir()
	write := func(path, body string) {
		t.Helper()
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	}
	write(filepath.Join(dir, "spam", "2024", "a.txt"), "Win a prize now")
	write(filepath.Join(dir, "ham", "b.html"), "<html><head><title>Minutes</title></head><body>The meeting notes</body></html>")
	write(filepath.Join(dir, "ham", ".hidden.txt"), "never read")
	write(filepath.Join(dir, ".git", "c.txt"), "never read")
	write(filepath.Join(dir, "ham", "broken.pdf"), "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF")
	write(filepath.Join(corpus, "linked.txt"), "A linked document")
	require.NoError(t, os.Symlink(filepath.Join(corpus, "linked.txt"), filepath.Join(dir, "ham", "linked.txt")))

	x := extract.New(extract.Config{})
	t.Cleanup(func() { _ = x.Close() })
	got, err := mldata.Load(t.Context(), dir, &mldata.LoadOpts{Extractor: x, Workers: 2})
	require.NoError(t, err)
	byKey := map[string]ml.Example{}
	for _, e := range got {
		byKey[e.Key] = e
	}
	require.Len(t, byKey, 3, "the broken PDF is left out: %v", got)
	require.Equal(t, "spam", byKey["spam/2024/a.txt"].Label)
	require.Contains(t, byKey["spam/2024/a.txt"].Text, "Win a prize now")
	require.Equal(t, "ham", byKey["ham/b.html"].Label)
	require.Contains(t, byKey["ham/b.html"].Text, "Minutes", "the title is part of what a classifier reads")
	require.Contains(t, byKey["ham/linked.txt"].Text, "A linked document")

	_, err = mldata.Load(t.Context(), t.TempDir(), &mldata.LoadOpts{Extractor: x})
	require.ErrorIs(t, err, mldata.ErrNoData)
	_, err = mldata.Load(t.Context(), filepath.Join(dir, "missing"), &mldata.LoadOpts{Extractor: x})
	require.ErrorIs(t, err, os.ErrNotExist)
}
