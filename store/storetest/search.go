package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

func exerciseSearch(t *testing.T, h Harness) {
	ctx := context.Background()

	// corpus saves texts as documents named after their keys.
	corpus := func(t *testing.T, st store.Store, texts map[string]string) map[string]*store.Document {
		docs := map[string]*store.Document{}
		// In key order, so that "newest first" is the reverse of it.
		for _, key := range slices.Sorted(maps.Keys(texts)) {
			text := texts[key]
			d := newDocument(t, st, func(p *store.CreateDocumentParams) { p.Name = key })
			require.NoError(t, st.SaveText(ctx, &store.SaveTextParams{DocumentID: d.ID, Text: text}))
			docs[key] = d
		}
		return docs
	}
	found := func(t *testing.T, st store.Store, query string) []string {
		t.Helper()
		res, err := st.Search(ctx, &store.SearchParams{Query: query})
		require.NoError(t, err, query)
		var out []string
		for _, h := range res.Hits {
			out = append(out, h.Document.Name)
		}
		return out
	}

	t.Run("Finds", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		corpus(t, b.st, map[string]string{
			"invoice": "Invoice number 4471 from Acme Corporation, due in thirty days.",
			"letter":  "Dear customer, thank you for your letter about the invoice.",
			"german":  "Die Übersicht der Größenordnung für das Geschäftsjahr.",
			"greek":   "Η αναφορά για το οικονομικό έτος.",
			"russian": "Отчёт о доходах компании за год.",
			"recipe":  "Mix flour, water and salt; bake the bread for forty minutes.",
		})
		tests := []struct {
			query string
			want  []string
		}{
			{"acme", []string{"invoice"}},
			{"ACME corporation", []string{"invoice"}},
			{"invoice", []string{"invoice", "letter"}},
			{"invoice customer", []string{"letter"}},
			{`"thank you"`, []string{"letter"}},
			{`"you thank"`, nil},
			{"acme or bread", []string{"invoice", "recipe"}},
			{"invoice -acme", []string{"letter"}},
			{"4471", []string{"invoice"}},
			{"Übersicht", []string{"german"}},
			{"übersicht größenordnung", []string{"german"}},
			{"αναφορά", []string{"greek"}},
			{"ОТЧЁТ", []string{"russian"}},
			{"nothing-like-this", nil},
			// Only what must not match, or nothing to match at all: no
			// hits, never everything.
			{"-acme", nil},
			{"", nil},
			{`"" * : ( ) ^ NEAR AND NOT`, nil},
		}
		for _, tt := range tests {
			require.ElementsMatch(t, tt.want, found(t, b.st, tt.query), "query %q", tt.query)
		}
		// Queries that are syntax in FTS5 or tsquery are only words here.
		for _, q := range []string{`acme"`, `acme*`, `*`, `a*b`, `title:acme`, `'`, `\`, `acme:*`, `!acme`, `<->`, `(acme`, `acme OR`, `OR acme`, `acme & | !`, `a'cme`, `-`, `"unclosed acme`} {
			_, err := b.st.Search(ctx, &store.SearchParams{Query: q})
			require.NoError(t, err, "query %q", q)
		}
		require.Equal(t, []string{"invoice"}, found(t, b.st, `"acme corporation`), "an unclosed quote runs to the end")
	})

	t.Run("Ranks", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		corpus(t, b.st, map[string]string{
			"once":  "The report mentions the contract once, among many other unrelated words about weather, lunch, travel and sports.",
			"often": "Contract terms: the contract says the contract ends when the contract is cancelled.",
			"none":  "Nothing relevant here at all.",
		})
		res, err := b.st.Search(ctx, &store.SearchParams{Query: "contract"})
		require.NoError(t, err)
		hits := res.Hits
		require.Len(t, hits, 2)
		require.Equal(t, "often", hits[0].Document.Name)
		require.Equal(t, "once", hits[1].Document.Name)
		require.Greater(t, hits[0].Score, hits[1].Score)

		// The snippet shows the match, marked.
		require.Equal(t, []string{"contract"}, matched(hits[1]))
		require.Contains(t, hits[1].SnippetText(), "mentions the contract once")
		require.NotContains(t, hits[1].SnippetText(), "\uE000")

		// Pages of hits.
		page, err := b.st.Search(ctx, &store.SearchParams{Query: "contract", Limit: 1})
		require.NoError(t, err)
		require.Len(t, page.Hits, 1)
		require.Equal(t, "often", page.Hits[0].Document.Name)
		page, err = b.st.Search(ctx, &store.SearchParams{Query: "contract", Limit: 1, Cursor: page.Next})
		require.NoError(t, err)
		require.Len(t, page.Hits, 1)
		require.Equal(t, "once", page.Hits[0].Document.Name)
		require.Empty(t, page.Next)
	})

	t.Run("SnippetsOfLongTexts", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		// Past the first tens of thousands of characters: a snippet is
		// still the passage that holds the word, marked, not the text's
		// beginning.
		filler := strings.Repeat("weather report lunch travel sports ", 2000)
		corpus(t, b.st, map[string]string{
			"far":   filler + "and at last the indemnity clause applies. " + filler,
			"early": "The indemnity clause comes first. " + filler,
		})
		res, err := b.st.Search(ctx, &store.SearchParams{Query: "indemnity"})
		require.NoError(t, err)
		require.Len(t, res.Hits, 2)
		for _, h := range res.Hits {
			require.Equal(t, []string{"indemnity"}, matched(h), h.Document.Name)
			require.Contains(t, h.SnippetText(), "indemnity clause", h.Document.Name)
			require.Less(t, len(h.SnippetText()), 1000, h.Document.Name)
		}
	})

	t.Run("FollowsChanges", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		docs := corpus(t, b.st, map[string]string{"a": "original wording", "b": "unrelated"})
		require.Equal(t, []string{"a"}, found(t, b.st, "original"))
		require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: docs["a"].ID, Text: "revised wording"}))
		require.Empty(t, found(t, b.st, "original"), "the old text is gone from the index")
		require.Equal(t, []string{"a"}, found(t, b.st, "revised"))
		require.ElementsMatch(t, []string{"a"}, found(t, b.st, "wording"))

		// Filter by state; ListDocuments takes the same query.
		moveTo(t, b.st, docs["a"].ID, store.StateIndexed)
		res, err := b.st.Search(ctx, &store.SearchParams{Query: "revised", State: store.StateReceived})
		require.NoError(t, err)
		require.Empty(t, res.Hits)
		res, err = b.st.Search(ctx, &store.SearchParams{Query: "revised", State: store.StateIndexed})
		require.NoError(t, err)
		require.Len(t, res.Hits, 1)
		list, err := b.st.ListDocuments(ctx, &store.ListDocumentsParams{Query: "revised or unrelated"})
		require.NoError(t, err)
		require.Equal(t, []string{"b", "a"}, names(list.Documents))
		list, err = b.st.ListDocuments(ctx, &store.ListDocumentsParams{Query: "revised", State: store.StateReceived})
		require.NoError(t, err)
		require.Empty(t, list.Documents)
	})

	// Writers at once: on SQLite their transactions commit in groups, and
	// the texts of a group are indexed at its commit (migration 0007).
	t.Run("ConcurrentWriters", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		const n = 40
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				d := newDocument(t, b.st, func(p *store.CreateDocumentParams) { p.Name = fmt.Sprint("doc", i) })
				for _, text := range []string{"first%d shared", "second%d shared", "second%d shared"} {
					assert.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: d.ID, Text: fmt.Sprintf(text, i)}))
				}
				if i%4 == 0 {
					assert.NoError(t, b.st.DeleteDocument(ctx, d.ID))
				}
			})
		}
		wg.Wait()
		var want []string
		for i := range n {
			if i%4 != 0 {
				want = append(want, fmt.Sprint("doc", i))
			}
			require.Empty(t, found(t, b.st, fmt.Sprint("first", i)), "replaced text %d", i)
		}
		require.Equal(t, want[:1], found(t, b.st, "second1"))
		require.Empty(t, found(t, b.st, "second4"), "deleted document")
		res, err := b.st.Search(ctx, &store.SearchParams{Query: "shared", Limit: n})
		require.NoError(t, err)
		var got []string
		for _, h := range res.Hits {
			got = append(got, h.Document.Name)
		}
		require.ElementsMatch(t, want, got)
		if strings.HasPrefix(b.url, "sqlite") {
			require.Zero(t, b.count(t, "SELECT count(*) FROM document_fts_pending"), "texts left unindexed")
			// FTS5 compares its index with the texts it was built from.
			b.count(t, "SELECT count(*) FROM document_fts WHERE 0") // opens the raw database
			_, err := b.db.Exec("INSERT INTO document_fts (document_fts, rank) VALUES ('integrity-check', 1)")
			require.NoError(t, err, "full-text index out of step with the texts")
		}
	})

	// The embedded store indexes texts in batches (store/sqlite_fts.go): a
	// text no query asked for is indexed within a second all the same, and
	// a query finds a text saved just before it.
	t.Run("IndexedWithoutQuery", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		if !strings.HasPrefix(b.url, "sqlite") {
			t.Skip("PostgreSQL indexes a text in the write that saves it")
		}
		d := newDocument(t, b.st, func(p *store.CreateDocumentParams) { p.Name = "quiet" })
		require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: d.ID, Text: "a quiet archive"}))
		require.Eventually(t, func() bool {
			return b.count(t, "SELECT count(*) FROM document_fts_pending") == 0
		}, 10*time.Second, 20*time.Millisecond, "a text waits unindexed")
		e := newDocument(t, b.st, func(p *store.CreateDocumentParams) { p.Name = "fresh" })
		require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: e.ID, Text: "a fresh archive"}))
		require.Equal(t, []string{e.Name}, found(t, b.st, "fresh"))
	})

	t.Run("Ranked", func(t *testing.T) { t.Parallel(); exerciseRankedSearch(t, h) })

	t.Run("LongText", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		// 260,000 distinct words, 1.3 MB of them, more than PostgreSQL's
		// tsvector holds: the text is saved whole, and searchable at least
		// where the index reaches.
		var sb strings.Builder
		for i := range 260_000 {
			sb.WriteString(word(i))
			sb.WriteByte(' ')
		}
		sb.WriteString("needle")
		d := newDocument(t, b.st)
		require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: d.ID, Text: sb.String()}))
		text, err := b.st.GetText(ctx, d.ID)
		require.NoError(t, err)
		require.Equal(t, sb.String(), text)
		res, err := b.st.Search(ctx, &store.SearchParams{Query: word(7)})
		require.NoError(t, err)
		require.Len(t, res.Hits, 1)
		dd, err := b.st.GetDocument(ctx, d.ID)
		require.NoError(t, err)
		require.Equal(t, 260_001, dd.WordCount)
	})
}

// word returns a distinct letters-only word for each i.
func word(i int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := []byte("w")
	for ; i > 0 || len(b) < 5; i /= 26 {
		b = append(b, letters[i%26])
	}
	return string(b)
}

// matched returns the parts of a hit's snippet marked as matches, in lower
// case.
func matched(h store.SearchHit) []string {
	var out []string
	for _, p := range h.Snippet {
		if p.Match {
			out = append(out, strings.ToLower(p.Text))
		}
	}
	return out
}
