package store

import (
	"strings"
	"unicode"
)

// Page is the text of one page of a document.
type Page struct {
	// Number counts pages from 1.
	Number int
	// Text is the page's text.
	Text string
	// OCR reports that the text was recognised from an image.
	OCR bool
}

// SaveTextParams are the inputs of SaveText.
type SaveTextParams struct {
	// DocumentID is the document's ID.
	DocumentID string
	// Text is the whole document's text. It replaces any text saved before,
	// and the document's word count is counted from it.
	Text string
	// Title and Author come from the document's own metadata; empty clears
	// them.
	Title, Author string
	// Truncated reports that Text is the document's first bytes only:
	// extraction stopped at the text limit. It is saved with the text, so
	// text saved again without it is no longer marked truncated.
	Truncated bool
	// Metadata is what else the document says of itself (Document's
	// Metadata); it replaces what was saved before, nil clears it.
	Metadata map[string]string
}

// SearchHit is one document found by Search.
type SearchHit struct {
	Document Document
	// Score orders hits by relevance: higher is better. It compares hits of
	// one query on one backend only (BM25 on SQLite, ts_rank_cd with length
	// normalisation on PostgreSQL).
	Score float64
	// Snippet is a short passage of the text around the best match, in
	// parts, the matched words marked, so a UI can highlight them without
	// parsing markup.
	Snippet []SnippetPart
}

// SnippetPart is a piece of a snippet.
type SnippetPart struct {
	// Text is the piece's text, as in the document.
	Text string
	// Match reports that the piece is a matched word or phrase.
	Match bool
}

// SnippetText returns the snippet as plain text.
func (h SearchHit) SnippetText() string {
	var b strings.Builder
	for _, p := range h.Snippet {
		b.WriteString(p.Text)
	}
	return b.String()
}

// SQLite's snippet() marks matches with these two characters from
// Unicode's private use area, which extracted text does not use, so the
// marks can be parsed without escaping the text. (PostgreSQL's snippets
// are made in parts already: makeSnippet.)
const (
	markStart = "\uE000"
	markEnd   = "\uE001"
)

// parseSnippet splits a marked snippet into parts.
func parseSnippet(s string) []SnippetPart {
	var parts []SnippetPart
	add := func(text string, match bool) {
		if text == "" {
			return
		}
		if n := len(parts); n > 0 && parts[n-1].Match == match {
			parts[n-1].Text += text
			return
		}
		parts = append(parts, SnippetPart{Text: text, Match: match})
	}
	for s != "" {
		before, rest, found := strings.Cut(s, markStart)
		add(strings.ReplaceAll(before, markEnd, ""), false)
		if !found {
			break
		}
		match, after, _ := strings.Cut(rest, markEnd)
		add(match, true)
		s = after
	}
	return parts
}

// countWords counts words the way the search index splits them: runs of
// letters, digits and marks.
func countWords(s string) int {
	n, in := 0, false
	for _, r := range s {
		w := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
		if w && !in {
			n++
		}
		in = w
	}
	return n
}
