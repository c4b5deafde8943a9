package extract

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testdocs"
	"github.com/quirehq/quire/internal/testenv"
)

// TestCorpus reads every file of testdata/formats and checks it against its
// line of testdata/formats/expected.json: its type, the passages of its
// text, its metadata and the documents inside it; or, for a file that
// cannot be read, the reason. The command line's TestFormatsCorpus takes
// the same files through the whole pipeline.
func TestCorpus(t *testing.T) {
	t.Parallel()
	corpus, err := testdocs.Corpus(filepath.Join("..", "testdata"))
	require.NoError(t, err)
	x := New(Config{})
	t.Cleanup(func() { _ = x.Close() })
	for _, e := range corpus {
		t.Run(e.Path, func(t *testing.T) {
			t.Parallel()
			testenv.RequireService(t, e.Needs, e.Unavailable())
			data, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(e.Path)))
			require.NoError(t, err)
			res, err := x.Extract(context.Background(), &Input{Name: filepath.Base(e.Path), Data: data})
			if e.Fails != "" {
				require.Error(t, err)
				require.Contains(t, err.Error(), e.Fails)
				return
			}
			require.NoError(t, err)
			require.Equal(t, e.Type, res.Type)
			require.Empty(t, e.Missing(res.Text), "passages missing from the text:\n%s", res.Text)
			if e.Title != "" {
				require.Equal(t, e.Title, res.Title)
			}
			if e.Author != "" {
				require.Equal(t, e.Author, res.Author)
			}
			require.Empty(t, e.MetaMismatch(res.Meta))
			var kids []string
			for _, c := range res.Children {
				kids = append(kids, c.Name)
			}
			sort.Strings(kids)
			want := append([]string(nil), e.Children...)
			sort.Strings(want)
			require.Equal(t, want, kids, "the documents inside")
		})
	}
}
