package store

import "math"

// A window on PostgreSQL can be read three ways, and which is fastest
// depends on how many texts the words are in and how many documents the
// filters keep, which the statistics estimate (pgEstimate):
//
//   - walk: the texts' primary key backwards, newest first, testing each
//     text's tsvector (read from TOAST) until the window is full. It reads
//     SearchWindow/share texts: a word in half the texts stops early, a
//     rare one would read the table.
//   - index: the GIN index's matches of the words, ANDed with a range of the
//     newest texts' IDs, each match in the range visited for its ID. The
//     index reads every word's whole list, in proportion to the table; the
//     visits are the matches in the range.
//   - filter: the newest documents the filter on an indexed column (state or
//     type) keeps, ANDed with the GIN index's matches: a state's documents
//     looked up by ID in the texts' primary key, a type's texts read as a
//     range of their own index (the text's row holds its type). For a
//     filter that keeps few documents, the index plan would visit every
//     match of the words among the many documents the filter rejects.
//
// The costs below, in microseconds, were measured at a million documents
// (EXPLAIN (ANALYZE, BUFFERS), 2026-12-06, docs/benchmarks.md); only their
// proportions matter.
const (
	// pgCostPosting is reading one entry of a word's list in the GIN
	// index: 13 ms for a word in 113,000 texts.
	pgCostPosting = 0.12
	// pgCostPrefixPosting is how many times an entry of a prefix's lists
	// costs what one of a word's list does: the index merges the lists of
	// every word the prefix begins into one bitmap, where a word's list
	// is read as it is stored (0.5-0.7 us a text matched for 'incl:*',
	// 'issu:*', 'ment:*', against 0.2 for 'nation', 'issue'); and the
	// prefix's share, summed from the most common words only, leaves out
	// its rarer words.
	pgCostPrefixPosting = 5
	// pgCostVisit is visiting a match in the heap for its ID: 16,529
	// blocks in 70 ms.
	pgCostVisit = 4.5
	// pgCostRange is reading one ID of the range of newest texts in the
	// primary key: 256,000 in 24 ms.
	pgCostRange = 0.1
	// pgCostTest is testing a text's tsvector in the walk: 3,655 texts in
	// 21 ms.
	pgCostTest = 6
	// pgCostLookup is looking up one document or text by ID: 25,000 in
	// 39 ms.
	pgCostLookup = 1.6
)

// pgPlanMargin is how many windows of matches a range or a set of filtered
// documents is sized to hold by the estimate: a range that holds less than
// one window is read again, wider.
const pgPlanMargin = 1.5

// pgWindowPlan is how pgWindow reads a window.
type pgWindowPlan struct {
	// kind is "walk", "index" or "filter", as above.
	kind string
	// texts is, for walk and index, how many of the newest texts are looked
	// in; 0 for all of them.
	texts int
	// docs is, for filter, how many of the newest documents the filter
	// (pgEstimate.col) keeps are looked in; -1 for all of them.
	docs int
	// cost is the estimate, in microseconds.
	cost float64
}

// planPGWindow returns the cheapest plan for the estimated matches. joined
// tells whether a statement joins each match's document for its filters,
// joinedOthers whether it does for the filters but the one on e.col, which
// the filter plan's documents meet.
func planPGWindow(e *pgEstimate, joined, joinedOthers bool) pgWindowPlan {
	window := float64(SearchWindow)
	share := max(e.share(), 1/max(e.texts, 1))
	visit, test := float64(pgCostVisit), float64(pgCostTest)
	if joined {
		visit += pgCostLookup
		test += pgCostLookup
	}
	postings := pgCostPosting * e.postings * e.texts
	// A range of more than half the texts costs more to find the start of
	// than it saves: all texts, then.
	rangeOf := func(n float64) int {
		if n >= e.texts/2 {
			return 0
		}
		return int(math.Ceil(n))
	}
	walk := pgWindowPlan{kind: "walk", texts: rangeOf(2 * pgPlanMargin * window / share),
		cost: window / share * test}
	// The GIN index over all texts visits every match; within the range of
	// the newest n texts it visits those in the range, but reads n IDs of
	// the primary key to find the range's start and again to AND the range
	// with the matches: for a rare word, more than visiting all of them
	// (a range of 450,000 texts cost 50 ms to start, where its 3,000
	// matches in all texts are visited in 15).
	n := pgPlanMargin * window / share
	best := pgWindowPlan{kind: "index", cost: postings + visit*e.words*e.texts}
	if r := postings + visit*e.words*n + 2*pgCostRange*n; rangeOf(n) > 0 && r < best.cost {
		best = pgWindowPlan{kind: "index", texts: rangeOf(n), cost: r}
	}
	if walk.cost < best.cost {
		best = walk
	}
	if e.col != "" {
		// The filter's documents, of which the words and the other filters
		// keep words*filters/colShare.
		keep := e.share() / e.colShare
		all := e.colShare * e.texts
		docs := min(pgPlanMargin*window/keep, all)
		visit := float64(pgCostVisit)
		if joinedOthers {
			visit += pgCostLookup
		}
		// A state's documents are looked up one by one; a type's texts
		// are a range of an index, read for its start and then in full.
		find := float64(pgCostLookup)
		if e.col == "mime_type" {
			find = 2 * pgCostRange
		}
		filter := pgWindowPlan{kind: "filter", docs: int(math.Ceil(docs)),
			cost: postings + find*docs + visit*e.words*docs}
		if docs > all*0.8 {
			// Near all of them by the estimate: all of them, which
			// holds every match whatever the estimate's error.
			filter.docs = -1
		}
		if filter.cost < best.cost {
			best = filter
		}
	}
	return best
}
