package ui_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

// TestBrowserSearch searches from the header's box in a real Chromium at a
// desktop and a phone size: a highlighted passage, a facet that filters, a
// second page, another order, and the document opened with the query
// marked in its text.
func TestBrowserSearch(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	add := func(name, mime, text string) {
		sum := sha256.Sum256([]byte(text))
		d, _, err := b.st.CreateDocument(ctx, &store.CreateDocumentParams{SHA256: hex.EncodeToString(sum[:]), Name: name,
			MIMEType: mime, Source: store.SourceSubmit, BlobKey: "k/" + name})
		require.NoError(t, err)
		require.NoError(t, b.st.SaveText(ctx, &store.SaveTextParams{DocumentID: d.ID, Text: text}))
	}
	// 24 notes and 3 web pages (no previews: their blobs are not stored) about the cormorant: more than a page of 20.
	for i := range 24 {
		add(fmt.Sprintf("bird-%02d.md", i), "text/markdown", fmt.Sprintf("Field note %d: a cormorant dried its wings on the pier. <b>bold</b>", i))
	}
	for i := range 3 {
		add(fmt.Sprintf("page-%d.html", i), "text/html", fmt.Sprintf("Web page %d on the great cormorant of the coast.", i))
	}
	add("other.txt", "text/plain", "Nothing about birds at all.")

	forEachScreen(t, b.srv.URL, func(t *testing.T, br *browser, screen string) {
		br.open(t, "/login")
		br.do(t, chromedp.KeyEvent(b.email[auth.ScopeRead]+"\t"+password+"\r"))
		br.waitJS(t, "the dashboard", `document.querySelector("#topq")`)

		// The header's box on any page.
		br.do(t, chromedp.SendKeys(chromedp.ID("topq"), "cormorant"), chromedp.Submit(chromedp.ID("topq")))
		br.waitJS(t, "the results", `document.querySelectorAll("#hits .hit").length > 0`)
		require.Contains(t, br.location(t), "/search?q=cormorant")
		br.fitsWidth(t, "the search page")
		if screen == "desktop" && os.Getenv("QUIRE_UPDATE_SCREENSHOTS") == "1" {
			b.screenshot(t, br, "search.png")
		}
		require.Equal(t, 20, eval[int](t, br, `document.querySelectorAll("#hits .hit").length`))
		require.Equal(t, "cormorant", strings.ToLower(eval[string](t, br, `document.querySelector("#hits .snippet mark").textContent`)))
		// The text is shown as text: markup in it is not markup.
		require.Zero(t, eval[int](t, br, `document.querySelectorAll("#hits .snippet b").length`))
		require.Equal(t, "cormorant", eval[string](t, br, `document.querySelector("#topq").value`), "the box keeps the query")

		// A second page, then back to the first.
		first := eval[[]string](t, br, `[...document.querySelectorAll("#hits .hit-title")].map(a => a.textContent)`)
		br.do(t, chromedp.Click(chromedp.ID("next-page")))
		br.waitJS(t, "the second page", `document.querySelector("#first-page")`)
		second := eval[[]string](t, br, `[...document.querySelectorAll("#hits .hit-title")].map(a => a.textContent)`)
		require.Len(t, second, 7)
		require.Len(t, dedupe(append(first, second...)), 27, "every hit once")
		require.Zero(t, eval[int](t, br, `document.querySelectorAll("#next-page").length`))

		// A facet filters, and its filter can be removed.
		br.do(t, chromedp.Click(chromedp.CSS(`ul[data-facet="Type"] a[href*="text%2Fhtml"]`)))
		br.waitJS(t, "the filtered results", `document.querySelector("#active-filters")`)
		require.Equal(t, 3, eval[int](t, br, `document.querySelectorAll("#hits .hit").length`))
		require.Contains(t, eval[string](t, br, `document.querySelector("#active-filters").textContent`), "type: text/html")
		br.fitsWidth(t, "the filtered search page")

		// Another order keeps the filter.
		br.do(t, chromedp.Click(chromedp.CSS(`#sorts a[href*="sort=oldest"]`)))
		br.waitJS(t, "oldest first", `document.readyState === "complete" && document.querySelector('#sorts a[aria-current][href*="sort=oldest"]')`)
		require.Equal(t, []string{"page-0.html", "page-1.html", "page-2.html"},
			eval[[]string](t, br, `[...document.querySelectorAll("#hits .hit-title")].map(a => a.textContent)`))

		br.do(t, chromedp.Click(chromedp.CSS("#active-filters a")))
		br.waitJS(t, "the filter removed", `document.readyState === "complete" && document.querySelector("#hits") && !document.querySelector("#active-filters")`)
		require.Equal(t, 20, eval[int](t, br, `document.querySelectorAll("#hits .hit").length`))

		// The document opens with the query marked in its text.
		br.do(t, chromedp.Click(chromedp.CSS("#hits .hit-title")))
		br.waitJS(t, "the document page", `document.querySelector("#doc-text")`)
		require.Equal(t, "cormorant", eval[string](t, br, `document.querySelector("#doc-text mark.query").textContent`))
		br.fitsWidth(t, "the document page")
		require.Empty(t, br.problems(), "console errors")
	})
}

func dedupe(s []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
}
