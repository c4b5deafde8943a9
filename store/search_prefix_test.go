package store

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A prefix is looked for by the words it begins up to prefixWordsMax of
// them, and by FTS5 itself beyond: the matches are the same either way.
func TestSQLitePrefixWords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTestSQLite(t)
	require.NoError(t, s.Migrate(ctx))

	// One document says "kvmany0000" to "kvmany0256", one word past the
	// most a prefix is expanded to; two say a few words of "kvfew".
	many := make([]string, prefixWordsMax+1)
	for i := range many {
		many[i] = fmt.Sprintf("kvmany%04d", i)
	}
	texts := map[string]string{
		"many": strings.Join(many, " "),
		"few1": "kvfewer kvfewest and Kvfew",
		"few2": "the KVFEWEST once",
		"none": "unrelated words kv few",
	}
	ids := map[string]string{}
	for name, text := range texts {
		ids[addTestText(t, s, name, "text/plain", text)] = name
	}
	require.NoError(t, s.fts.flush(ctx))

	words, err := s.sqlitePrefixWords(ctx, queryTerm{text: "KVfew", prefix: true})
	require.NoError(t, err)
	require.Equal(t, []string{"kvfew", "kvfewer", "kvfewest"}, words)
	words, err = s.sqlitePrefixWords(ctx, queryTerm{text: "kvmany", prefix: true})
	require.NoError(t, err)
	require.Nil(t, words, "more words than prefixWordsMax: left to FTS5")
	words, err = s.sqlitePrefixWords(ctx, queryTerm{text: "kvmany000", prefix: true})
	require.NoError(t, err)
	require.Len(t, words, 10)

	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"kvfew*", []string{"few1", "few2"}},
		{"kvfewes*", []string{"few1", "few2"}},
		{"kvfewe* OR kvmany0001", []string{"few1", "few2", "many"}},
		{"kvmany*", []string{"many"}},
		{"kvmany02* kvmany0256", []string{"many"}},
		{"kvfew* -kvfewer", []string{"few2"}},
		{"kvnone*", nil},
	} {
		res, err := s.Search(ctx, &SearchParams{Query: tt.q, Facets: true})
		require.NoError(t, err, tt.q)
		var got []string
		for _, h := range res.Hits {
			got = append(got, ids[h.Document.ID])
			require.NotEmpty(t, h.Snippet, tt.q)
		}
		require.ElementsMatch(t, tt.want, got, tt.q)
		require.Equal(t, len(tt.want), res.Facets.Counted, tt.q)
	}
	// The words a prefix stands for are what the snippets mark.
	res, err := s.Search(ctx, &SearchParams{Query: "kvfewe*"})
	require.NoError(t, err)
	for _, h := range res.Hits {
		for _, part := range h.Snippet {
			if part.Match {
				require.True(t, strings.HasPrefix(strings.ToLower(part.Text), "kvfewe"), part.Text)
			}
		}
	}
	// Its words are ranked as any word is.
	res, err = s.Search(ctx, &SearchParams{Query: "kvfewes*"})
	require.NoError(t, err)
	require.Len(t, res.Hits, 2)
	require.Positive(t, res.Hits[1].Score)
}
