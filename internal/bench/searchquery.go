package bench

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/quirehq/quire/store"
)

// searchQueryKinds are the kinds of queries the search bench runs, with
// their shares of the mix and the ranks (in the English vocabulary, most
// frequent first) their words are drawn from. Common words are in most of
// the documents, which is what makes a search engine work hardest: ranking
// and counting every match. The mix is never only rare words.
var searchQueryKinds = []struct {
	name  string
	share float64
}{
	{"common", 0.25},   // one word of the 300 most frequent
	{"rare", 0.15},     // one word past the 3,000 most frequent, or a number
	{"multi", 0.20},    // two or three words of the 2,000 most frequent
	{"phrase", 0.10},   // a quoted phrase of two of the 60 most frequent words
	{"prefix", 0.10},   // the first four letters of a frequent word, then *
	{"filtered", 0.20}, // one word of the 1,000 most frequent, in a state, type or language
}

// searchQuery is one query of the mix.
type searchQuery struct {
	kind   string
	params store.SearchParams
	// ranks are the query's vocabulary words whose documents are counted;
	// empty for a query whose matches no one word bounds (numbers,
	// prefixes).
	ranks []int
}

// makeSearchQueries draws n queries of the mix from words (the English
// vocabulary), each asking for limit hits.
func makeSearchQueries(rng *rand.Rand, words []string, n, limit int) []searchQuery {
	rank := func(lo, hi int) int {
		hi = min(hi, len(words))
		return lo + rng.IntN(hi-lo)
	}
	qs := make([]searchQuery, n)
	for i := range qs {
		kind := searchQueryKinds[pick(rng.Float64(), func(k int) float64 { return searchQueryKinds[k].share }, len(searchQueryKinds))].name
		q := searchQuery{kind: kind, params: store.SearchParams{Limit: limit, Facets: true}}
		switch kind {
		case "common":
			r := rank(0, 300)
			q.params.Query, q.ranks = words[r], []int{r}
		case "rare":
			if rng.IntN(3) == 0 {
				q.params.Query = strconv.Itoa(rng.IntN(1_000_000))
				break
			}
			r := rank(3000, len(words))
			q.params.Query, q.ranks = words[r], []int{r}
		case "multi":
			terms := make([]string, 2+rng.IntN(2))
			for k := range terms {
				r := rank(0, 2000)
				terms[k] = words[r]
				q.ranks = append(q.ranks, r)
			}
			q.params.Query = strings.Join(terms, " ")
		case "phrase":
			a, b := rank(0, 60), rank(0, 60)
			q.params.Query, q.ranks = `"`+words[a]+" "+words[b]+`"`, []int{a, b}
		case "prefix":
			w := words[rank(50, 3000)]
			for len([]rune(w)) < 6 {
				w = words[rank(50, 3000)]
			}
			q.params.Query = string([]rune(w)[:4]) + "*"
		case "filtered":
			r := rank(0, 1000)
			q.params.Query, q.ranks = words[r], []int{r}
			// Filters that keep most documents and filters that keep few.
			switch rng.IntN(5) {
			case 0:
				q.params.State = store.StateDone
			case 1:
				q.params.State = store.StateIndexed
			case 2:
				q.params.MIMEType = "application/pdf"
			case 3:
				q.params.MIMEType = "text/plain"
			default:
				q.params.Language = "en"
			}
		}
		qs[i] = q
	}
	return qs
}

// trackWords maps every rank the queries count documents for to a slot:
// the generator's track table (-1 for ranks not counted), and the number
// of slots.
func trackWords(vocab int, queries []searchQuery) ([]int32, int) {
	track := make([]int32, vocab)
	for i := range track {
		track[i] = -1
	}
	n := 0
	for _, q := range queries {
		for _, r := range q.ranks {
			if track[r] < 0 {
				track[r] = int32(n)
				n++
			}
		}
	}
	return track, n
}

// rarestShare returns the share of the docs documents that hold the
// query's rarest counted word, or -1 when it counts none.
func (q *searchQuery) rarestShare(track []int32, df []int64, docs int) float64 {
	share := -1.0
	for _, r := range q.ranks {
		s := float64(df[track[r]]) / float64(docs)
		if share < 0 || s < share {
			share = s
		}
	}
	return share
}
