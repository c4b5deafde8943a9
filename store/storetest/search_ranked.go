package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

// exerciseRankedSearch holds the search of issue #20 to its promises:
// relevance, phrases and prefixes, highlights, filters, facets and cursors.
func exerciseRankedSearch(t *testing.T, h Harness) {
	ctx := context.Background()

	type doc struct {
		name, text, mime, lang string
		labels, tags           []string
		parent                 string
	}
	// save creates the documents in order, so later ones are newer.
	save := func(t *testing.T, st store.Store, docs ...doc) map[string]*store.Document {
		t.Helper()
		out := map[string]*store.Document{}
		for _, d := range docs {
			created := newDocument(t, st, func(p *store.CreateDocumentParams) {
				p.Name = d.name
				if d.mime != "" {
					p.MIMEType = d.mime
				}
				if d.parent != "" {
					p.ParentID = out[d.parent].ID
				}
			})
			require.NoError(t, st.SaveText(ctx, &store.SaveTextParams{DocumentID: created.ID, Text: d.text}))
			if d.lang != "" {
				require.NoError(t, st.SaveAnalysis(ctx, &store.SaveAnalysisParams{DocumentID: created.ID, ModelVersion: "lang@1", Language: d.lang}))
			}
			if len(d.tags) > 0 {
				_, err := st.TagDocuments(ctx, &store.TagDocumentsParams{DocumentIDs: []string{created.ID}, Tags: d.tags, SetBy: "user:test"})
				require.NoError(t, err)
			}
			for _, l := range d.labels {
				_, err := st.AddLabel(ctx, &store.AddLabelParams{DocumentID: created.ID, Label: l, SetBy: "test"})
				require.NoError(t, err)
			}
			got, err := st.GetDocument(ctx, created.ID)
			require.NoError(t, err)
			out[d.name] = got
		}
		return out
	}
	search := func(t *testing.T, st store.Store, p store.SearchParams) *store.SearchResult {
		t.Helper()
		res, err := st.Search(ctx, &p)
		require.NoError(t, err, "%+v", p)
		return res
	}
	hitNames := func(res *store.SearchResult) []string {
		out := []string{}
		for _, h := range res.Hits {
			out = append(out, h.Document.Name)
		}
		return out
	}
	filler := func(n int) string {
		words := []string{"weather", "lunch", "travel", "sports", "garden", "music", "river", "window"}
		var b strings.Builder
		for i := range n {
			b.WriteString(words[i%len(words)] + " ")
		}
		return b.String()
	}

	t.Run("RareWordOftenRanksFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		// The same length of text, the rare word ten times or once; the
		// one saying it once is the newer, so order of indexing does not
		// explain the result.
		save(t, b.st,
			doc{name: "ten", text: strings.Repeat("zygote ", 10) + filler(60)},
			doc{name: "one", text: "zygote " + filler(69)},
			doc{name: "none", text: filler(70)},
		)
		res := search(t, b.st, store.SearchParams{Query: "zygote"})
		require.Equal(t, []string{"ten", "one"}, hitNames(res))
		require.Greater(t, res.Hits[0].Score, res.Hits[1].Score)
		require.False(t, res.Windowed)
	})

	t.Run("PhraseOftenRanksFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		// Both say the phrase's words; "apart" never side by side, so it
		// is no hit; "often" says the phrase five times and ranks above
		// "once", the newer.
		save(t, b.st,
			doc{name: "often", text: strings.Repeat("zinc oxide ", 5) + filler(60)},
			doc{name: "apart", text: "oxide of " + filler(30) + " zinc " + filler(38)},
			doc{name: "once", text: "zinc oxide " + filler(68)},
		)
		res := search(t, b.st, store.SearchParams{Query: `"zinc oxide"`})
		require.Equal(t, []string{"often", "once"}, hitNames(res))
		require.Greater(t, res.Hits[0].Score, res.Hits[1].Score)
		for _, h := range res.Hits {
			require.NotEmpty(t, h.Snippet, h.Document.Name)
		}
	})

	t.Run("PhraseAndPrefix", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		save(t, b.st,
			doc{name: "invoice", text: "Invoice for the annual maintenance contract."},
			doc{name: "invoicing", text: "Our invoicing department replies within a week."},
			doc{name: "voice", text: "A voice message about the annual contract maintenance."},
		)
		for _, tt := range []struct {
			q    string
			want []string
		}{
			{"invoi*", []string{"invoice", "invoicing"}},
			{"INVOI*", []string{"invoice", "invoicing"}},
			{"invoi", []string{}},
			{"voi*", []string{"voice"}},
			{`"maintenance contract"`, []string{"invoice"}},
			{`"contract maintenance"`, []string{"voice"}},
			{`"annual maint*"`, []string{}}, // a phrase is as written: no prefix inside quotes
			{"annual maint*", []string{"invoice", "voice"}},
			{"invoi* -depart*", []string{"invoice"}},
			{"invoicing OR voice", []string{"invoicing", "voice"}},
			// PostgreSQL finds a phrase's candidates by its words, then
			// tests the phrase: both documents hold both words.
			{`contract -"annual contract"`, []string{"invoice"}},
			{`"contract maintenance" OR invoicing`, []string{"voice", "invoicing"}},
		} {
			require.ElementsMatch(t, tt.want, hitNames(search(t, b.st, store.SearchParams{Query: tt.q})), tt.q)
		}
	})

	t.Run("Highlights", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		save(t, b.st, doc{name: "a", text: "Before anything else: the quarterly Report shows revenue grew. " + filler(40)})
		for _, tt := range []struct {
			q    string
			want []string
		}{
			{"report", []string{"report"}},
			{"revenue report", []string{"report", "revenue"}},
			{"rep*", []string{"report"}},
			{`"revenue grew"`, []string{"revenue grew"}},
		} {
			res := search(t, b.st, store.SearchParams{Query: tt.q})
			require.Len(t, res.Hits, 1, tt.q)
			got := matched(res.Hits[0])
			// A phrase is marked as one part on SQLite and word by word on
			// PostgreSQL; the words are what count.
			require.ElementsMatch(t, strings.Fields(strings.Join(tt.want, " ")), strings.Fields(strings.Join(got, " ")), tt.q)
			require.Contains(t, res.Hits[0].SnippetText(), "revenue grew", tt.q)
		}
	})

	t.Run("Windowed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		// Three old documents hold a rare word; more than a window of
		// newer ones hold only the common word.
		save(t, b.st,
			doc{name: "old", text: "zebra common " + filler(20)},
			doc{name: "old", text: "zebra common " + filler(21)},
			doc{name: "old", text: "zebra common " + filler(22)},
		)
		newer := store.SearchWindow + 5
		var (
			wg   sync.WaitGroup
			errs = make(chan error, newer)
			sem  = make(chan struct{}, 8)
		)
		for i := range newer {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				sum, key := content()
				d, _, err := b.st.CreateDocument(ctx, &store.CreateDocumentParams{
					SHA256: sum, Name: "new", MIMEType: "text/plain", Size: 1, Source: store.SourceUpload, BlobKey: key,
				})
				if err == nil {
					err = b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: d.ID, Text: "common " + filler(10+i%7)})
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}

		// All pages of a search: the hits' names, and the first page's
		// result.
		all := func(p store.SearchParams) ([]string, *store.SearchResult) {
			t.Helper()
			p.Limit = store.ListLimitMax
			var names []string
			var first *store.SearchResult
			for {
				res := search(t, b.st, p)
				if first == nil {
					first = res
				}
				names = append(names, hitNames(res)...)
				if res.Next == "" {
					return names, first
				}
				p.Cursor = res.Next
			}
		}

		// A common word ranks and counts the window, the newest matches.
		names, res := all(store.SearchParams{Query: "common", Facets: true})
		require.True(t, res.Windowed)
		require.Equal(t, store.SearchWindow, res.Facets.Counted)
		require.Len(t, names, store.SearchWindow)
		require.NotContains(t, names, "old")
		// By date, it pages through every match.
		names, res = all(store.SearchParams{Query: "common", Sort: store.SortOldest, Facets: true})
		require.True(t, res.Windowed)
		require.Len(t, names, newer+3)
		require.Equal(t, []string{"old", "old", "old", "new"}, names[:4])
		// A rare word is found exactly, however old its documents.
		for _, q := range []string{"zebra", `"zebra common"`, "zebra common"} {
			names, res = all(store.SearchParams{Query: q, Facets: true})
			require.False(t, res.Windowed, q)
			require.Equal(t, 3, res.Facets.Counted, q)
			require.Equal(t, []string{"old", "old", "old"}, names, q)
		}
	})

	t.Run("FiltersAndFacets", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		for _, name := range []string{"Invoice", "Tax"} {
			_, err := b.st.CreateTag(ctx, &store.CreateTagParams{Name: name})
			require.NoError(t, err)
		}
		docs := save(t, b.st,
			doc{name: "mail", text: "ledger of the quarter", mime: "message/rfc822", lang: "en", labels: []string{"finance"}, tags: []string{"Invoice"}},
			doc{name: "att", text: "ledger attached", mime: "application/pdf", lang: "en", labels: []string{"finance", "urgent"}, tags: []string{"Invoice", "Tax"}, parent: "mail"},
			doc{name: "de", text: "ledger auf Deutsch", mime: "application/pdf", lang: "de"},
			doc{name: "plain", text: "ledger without language", mime: "text/plain"},
			doc{name: "other", text: "unrelated words", mime: "text/plain", lang: "en"},
		)
		moveTo(t, b.st, docs["de"].ID, store.StateDone)

		res := search(t, b.st, store.SearchParams{Query: "ledger", Facets: true})
		require.ElementsMatch(t, []string{"mail", "att", "de", "plain"}, hitNames(res))
		f := res.Facets
		require.NotNil(t, f)
		require.Equal(t, 4, f.Counted)
		require.Equal(t, []store.FacetCount{{Value: "application/pdf", Count: 2}, {Value: "message/rfc822", Count: 1}, {Value: "text/plain", Count: 1}}, f.Type)
		require.Equal(t, []store.FacetCount{{Value: "en", Count: 2}, {Value: "de", Count: 1}}, f.Language)
		require.Equal(t, []store.FacetCount{{Value: "received", Count: 3}, {Value: "done", Count: 1}}, f.State)
		require.Equal(t, []store.FacetCount{{Value: "Invoice", Count: 2}, {Value: "Tax", Count: 1}}, f.Tag)

		// Facets count what the filters keep.
		res = search(t, b.st, store.SearchParams{Query: "ledger", MIMEType: "application/pdf", Facets: true})
		require.ElementsMatch(t, []string{"att", "de"}, hitNames(res))
		require.Equal(t, 2, res.Facets.Counted)
		require.Equal(t, []store.FacetCount{{Value: "application/pdf", Count: 2}}, res.Facets.Type)
		require.Equal(t, []store.FacetCount{{Value: "de", Count: 1}, {Value: "en", Count: 1}}, res.Facets.Language)
		require.Equal(t, []store.FacetCount{{Value: "done", Count: 1}, {Value: "received", Count: 1}}, res.Facets.State)
		require.Equal(t, []store.FacetCount{{Value: "Invoice", Count: 1}, {Value: "Tax", Count: 1}}, res.Facets.Tag)

		for _, tt := range []struct {
			p    store.SearchParams
			want []string
		}{
			{store.SearchParams{Language: "en"}, []string{"mail", "att"}},
			{store.SearchParams{Language: "fr"}, []string{}},
			{store.SearchParams{State: store.StateDone}, []string{"de"}},
			{store.SearchParams{Labels: []string{"finance"}}, []string{"mail", "att"}},
			{store.SearchParams{Labels: []string{"finance", "urgent"}}, []string{"att"}},
			{store.SearchParams{ParentID: docs["mail"].ID}, []string{"att"}},
			{store.SearchParams{Tags: []string{"invoice"}}, []string{"mail", "att"}},
			{store.SearchParams{Tags: []string{"INVOICE", "tax"}}, []string{"att"}},
			{store.SearchParams{Tags: []string{"nosuchtag"}}, []string{}},
			{store.SearchParams{CreatedFrom: docs["att"].CreatedAt}, []string{"att", "de", "plain"}},
			{store.SearchParams{CreatedBefore: docs["att"].CreatedAt}, []string{"mail"}},
			{store.SearchParams{CreatedFrom: docs["att"].CreatedAt, CreatedBefore: docs["plain"].CreatedAt}, []string{"att", "de"}},
			{store.SearchParams{UpdatedFrom: docs["de"].UpdatedAt.Add(time.Microsecond)}, []string{"de", "plain"}},
			{store.SearchParams{UpdatedBefore: time.Now().Add(-time.Hour)}, []string{}},
		} {
			tt.p.Query = "ledger"
			tt.p.Facets = true
			res := search(t, b.st, tt.p)
			require.ElementsMatch(t, tt.want, hitNames(res), "%+v", tt.p)
			require.Equal(t, len(tt.want), res.Facets.Counted, "%+v", tt.p)
		}

		// Nothing to match: no hits, empty facets.
		res = search(t, b.st, store.SearchParams{Query: "-ledger", Facets: true})
		require.Empty(t, res.Hits)
		require.Equal(t, &store.SearchFacets{}, res.Facets)
		require.Nil(t, search(t, b.st, store.SearchParams{Query: "ledger"}).Facets, "facets only when asked")
	})

	t.Run("PagesReturnEveryHitOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		const n = 23
		var docs []doc
		for i := range n {
			// Some texts rank alike (i%3), so ties must page too.
			docs = append(docs, doc{name: fmt.Sprint("d", i), text: strings.Repeat("harbour ", 1+i%3) + filler(20)})
		}
		docs = append(docs, doc{name: "miss", text: filler(20)})
		saved := save(t, b.st, docs...)
		for _, sort := range []store.SearchSort{"", store.SortRelevance, store.SortNewest, store.SortOldest} {
			var (
				got    []string
				cursor string
				pages  int
			)
			for {
				res := search(t, b.st, store.SearchParams{Query: "harbour", Sort: sort, Limit: 5, Cursor: cursor})
				got = append(got, hitNames(res)...)
				pages++
				if res.Next == "" {
					break
				}
				require.Len(t, res.Hits, 5)
				cursor = res.Next
				require.Less(t, pages, 10, "paging does not end")
			}
			require.Len(t, got, n, "sort %q: %v", sort, got)
			var want []string
			for i := range n {
				want = append(want, fmt.Sprint("d", i))
			}
			require.ElementsMatch(t, want, got, "sort %q", sort)
			switch sort {
			case store.SortNewest:
				require.Equal(t, "d22", got[0])
				require.Equal(t, "d0", got[n-1])
			case store.SortOldest:
				require.Equal(t, want, got)
			default:
				// Three repeats first: d2, d5, …
				require.Contains(t, []string{"d2", "d5", "d8", "d11", "d14", "d17", "d20"}, got[0])
			}
		}
		require.NotNil(t, saved["miss"])
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		save(t, b.st,
			doc{name: "a", text: "anchor one"}, doc{name: "b", text: "anchor two"}, doc{name: "c", text: "anchor three"})
		first := search(t, b.st, store.SearchParams{Query: "anchor", Limit: 1})
		require.NotEmpty(t, first.Next)

		tampered := []byte(first.Next)
		tampered[len(tampered)/2] ^= 1
		now := time.Now()
		for _, p := range []store.SearchParams{
			{Query: "anchor", Cursor: "not a cursor"},
			{Query: "anchor", Cursor: "AAAA"},
			{Query: "anchor", Cursor: string(tampered)},
			{Query: "anchor", Cursor: first.Next[:len(first.Next)-2]},
			{Query: "other", Cursor: first.Next},
			{Query: "anchor", Sort: store.SortNewest, Cursor: first.Next},
			{Query: "anchor", State: store.StateDone, Cursor: first.Next},
			{Query: "anchor", Sort: "best"},
			{Query: "anchor", State: "lost"},
			{Query: "anchor", Limit: -1},
			{Query: "anchor", Limit: store.ListLimitMax + 1},
			{Query: "anchor", Labels: []string{""}},
			{Query: "anchor", Tags: []string{" "}},
			{Query: "anchor", CreatedFrom: now, CreatedBefore: now},
			{Query: "anchor", UpdatedFrom: now, UpdatedBefore: now.Add(-time.Second)},
		} {
			_, err := b.st.Search(ctx, &p)
			require.Error(t, err, "%+v", p)
			require.True(t, errors.Is(err, store.ErrInvalid), "%+v: %v", p, err)
		}
		// The cursor works with the search that gave it.
		next := search(t, b.st, store.SearchParams{Query: "anchor", Limit: 1, Cursor: first.Next})
		require.Len(t, next.Hits, 1)
		require.NotEqual(t, first.Hits[0].Document.ID, next.Hits[0].Document.ID)
	})
}
