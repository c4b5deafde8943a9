package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/store"
)

// TestSearch holds GET /api/v1/search to its promises on both backends:
// ranking, highlighting, facets, paging and clear errors for bad input.
func TestSearch(t *testing.T) {
	t.Parallel()
	for _, be := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"postgres", func(t *testing.T) string { return testenv.NewPostgresDatabase(t) }},
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "quire.db") }},
	} {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			b := newInputBundle(t, be.url(t))
			ctx := context.Background()
			add := func(name, mime, text string) *store.Document {
				sum := sha256.Sum256([]byte(text))
				d, _, err := b.st.CreateDocument(ctx, &store.CreateDocumentParams{SHA256: hex.EncodeToString(sum[:]), Name: name,
					MIMEType: mime, Source: store.SourceSubmit, BlobKey: "k/" + name})
				require.NoError(t, err)
				require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: d.ID, Text: text}))
				return d
			}
			filler := strings.Repeat("harvest weather market river ", 10)
			often := add("often.txt", "text/plain", strings.Repeat("quinoa ", 10)+filler)
			_, err := b.st.CreateTag(ctx, &store.CreateTagParams{Name: "Grain"})
			require.NoError(t, err)
			_, err = b.st.TagDocuments(ctx, &store.TagDocumentsParams{DocumentIDs: []string{often.ID}, Tags: []string{"grain"}, SetBy: "user:test"})
			require.NoError(t, err)
			add("once.pdf", "application/pdf", "quinoa "+filler+"more words here")
			for i := range 5 {
				add("page"+string(rune('a'+i))+".pdf", "application/pdf", "a note on quinoa bread, number "+string(rune('a'+i)))
			}

			get := func(query string) SearchResults {
				t.Helper()
				w := b.do("GET", "/api/v1/search?"+query, "", nil)
				require.Equal(t, http.StatusOK, w.Code, w.Body.String())
				require.Equal(t, "application/json", w.Header().Get("Content-Type"))
				var out SearchResults
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
				return out
			}

			// Ranking and highlighting.
			res := get("q=quinoa&limit=2")
			require.Len(t, res.Hits, 2)
			require.Equal(t, "often.txt", res.Hits[0].Name)
			require.Greater(t, res.Hits[0].Score, res.Hits[1].Score)
			var marked []string
			for _, p := range res.Hits[0].Snippet {
				if p.Match {
					marked = append(marked, strings.ToLower(p.Text))
				}
			}
			require.NotEmpty(t, marked)
			for _, m := range marked {
				require.Equal(t, "quinoa", strings.TrimSpace(strings.ReplaceAll(m, "quinoa quinoa", "quinoa")), "only the query is marked")
			}
			require.NotEmpty(t, res.Next)
			require.False(t, res.Approximate)

			// Facets, and facets under a filter.
			require.NotNil(t, res.Facets)
			require.Equal(t, 7, res.Facets.Counted)
			require.Equal(t, []FacetCount{{"application/pdf", 6}, {"text/plain", 1}}, res.Facets.Type)
			require.Equal(t, []FacetCount{{"received", 7}}, res.Facets.State)
			require.Equal(t, []FacetCount{{"Grain", 1}}, res.Facets.Tag)
			tagged := get("q=quinoa&tag=GRAIN")
			require.Len(t, tagged.Hits, 1)
			require.Equal(t, "often.txt", tagged.Hits[0].Name)
			pdf := get("q=quinoa&type=" + url.QueryEscape("application/pdf"))
			require.Len(t, pdf.Hits, 6)
			require.Equal(t, []FacetCount{{"application/pdf", 6}}, pdf.Facets.Type)
			require.Nil(t, get("q=quinoa&facets=false").Facets)
			require.Len(t, get("q=quin*+-bread").Hits, 2, "prefix and exclusion")
			require.Len(t, get(`q="quinoa+bread"`).Hits, 5, "phrase")

			// Paging: every hit once, by relevance and by date.
			for _, sort := range []string{"relevance", "newest", "oldest"} {
				seen := map[string]bool{}
				cursor := ""
				for range 10 {
					page := get("q=quinoa&limit=3&facets=false&sort=" + sort + "&cursor=" + url.QueryEscape(cursor))
					for _, h := range page.Hits {
						require.False(t, seen[h.ID], "%s: %s twice", sort, h.Name)
						seen[h.ID] = true
					}
					if cursor = page.Next; cursor == "" {
						break
					}
				}
				require.Len(t, seen, 7, sort)
			}

			// Bad input: 400 problem+json that says what is wrong.
			for query, says := range map[string]string{
				"":                                  "q is required",
				"q=quinoa&sort=best":                "sort",
				"q=quinoa&state=lost":               "state",
				"q=quinoa&limit=0":                  "limit",
				"q=quinoa&facets=maybe":             "facets",
				"q=quinoa&created_from=yesterday":   "created_from",
				"q=quinoa&cursor=garbage":           "cursor",
				"q=quinoa&cursor=" + res.Next + "x": "cursor",
				"q=bread&cursor=" + res.Next:        "another query",
				"q=quinoa&created_from=2026-01-02&created_before=2026-01-01": "range is empty",
			} {
				w := b.do("GET", "/api/v1/search?"+query, "", nil)
				require.Equal(t, http.StatusBadRequest, w.Code, query)
				checkAnswer(t, query, w)
				require.Contains(t, w.Body.String(), says, query)
			}
		})
	}
}
