package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

// TestBrowserTagsAndViews drives Chromium at a desktop and a phone size:
// tag a document on its page, select documents in the list and tag them in
// bulk, then every result of the query, save the list as a view and find
// it on the dashboard and in the navigation, and make a tag with a rule.
func TestBrowserTagsAndViews(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	forEachScreen(t, b.srv.URL, func(t *testing.T, br *browser, screen string) {
		b.tagsAndViews(t, br, screen)
		require.Empty(t, br.problems(), "console errors")
	})
}

func (b *testBundle) tagsAndViews(t *testing.T, br *browser, name string) {
	ctx := context.Background()
	admin := b.email[auth.ScopeAdmin]
	// A word of this run's own, so that the two sizes' documents differ.
	word := "zebra" + name
	paid := "paid-" + name
	_, err := b.st.CreateTag(ctx, &store.CreateTagParams{Name: paid})
	require.NoError(t, err)
	var ids []string
	for i := range 3 {
		doc, _, err := b.p.Ingest(ctx, &pipeline.IngestParams{Name: fmt.Sprintf("%s-%d.txt", name, i),
			Body: strings.NewReader(fmt.Sprintf("Bill %d of the %s herd.", i, word)), Source: store.SourceUpload})
		require.NoError(t, err)
		ids = append(ids, doc.ID)
	}
	require.Eventually(t, func() bool {
		l, err := b.st.ListDocuments(ctx, &store.ListDocumentsParams{Query: word, State: store.StateDone})
		require.NoError(t, err)
		return len(l.Documents) == 3
	}, time.Minute, 50*time.Millisecond, "the documents done")

	br.open(t, "/login")
	br.do(t, chromedp.SendKeys(chromedp.ID("email"), admin), chromedp.SendKeys(chromedp.ID("password"), password+"\r"))
	br.waitJS(t, "signed in", `location.pathname === "/"`)

	// A tag set on a document's page.
	br.open(t, "/documents/"+ids[0])
	br.fitsWidth(t, "the document page")
	br.do(t, chromedp.SendKeys(chromedp.ID("tag"), paid), chromedp.Click(chromedp.ID("add-tag-submit")))
	br.waitJS(t, "the tag listed", `document.querySelector("#doc-tags") && document.querySelector("#doc-tags").textContent.includes("`+paid+`")`)
	require.Equal(t, map[string][]string{ids[0]: {paid}}, tagNames(t, b, ids))

	// Two documents of the list tagged in bulk: the first one is tagged
	// already, so one assignment is new.
	br.open(t, "/documents?q="+word)
	br.fitsWidth(t, "the documents page")
	require.Equal(t, 3, eval[int](t, br, `document.querySelectorAll("#documents input[name=ids]").length`))
	require.Contains(t, eval[string](t, br, `document.querySelector('#documents input[value="`+ids[0]+`"]').closest("tr").querySelector("td.tags").textContent`), paid)
	br.do(t, chromedp.Click(chromedp.CSS(`#documents input[value="`+ids[0]+`"]`)), chromedp.Click(chromedp.CSS(`#documents input[value="`+ids[1]+`"]`)),
		chromedp.SetValue(chromedp.ID("bulk-action"), "tag"), chromedp.SendKeys(chromedp.ID("bulk-tags"), paid),
		chromedp.Click(chromedp.ID("bulk-apply")))
	br.waitJS(t, "the bulk action's message", `document.querySelector(".flash") && document.querySelector(".flash").textContent.includes("2 documents, 1 changed")`)
	require.Equal(t, map[string][]string{ids[0]: {paid}, ids[1]: {paid}}, tagNames(t, b, ids))
	events, err := b.st.ListEvents(ctx, ids[1])
	require.NoError(t, err)
	require.Equal(t, `tagged "`+paid+`" by user:`+admin+` (bulk)`, events[len(events)-1].Message, "audited, naming the user")

	// Every result of the query, not only the page's rows.
	br.do(t, chromedp.Click(chromedp.ID("bulk-all")), chromedp.SetValue(chromedp.ID("bulk-action"), "tag"),
		chromedp.SendKeys(chromedp.ID("bulk-tags"), paid), chromedp.Click(chromedp.ID("bulk-apply")))
	br.waitJS(t, "the second bulk action's message", `document.querySelector(".flash") && document.querySelector(".flash").textContent.includes("3 documents, 1 changed")`)
	require.Len(t, tagNames(t, b, ids), 3)

	// The list of the tag saved as a view for the dashboard.
	br.open(t, "/documents?tag="+paid)
	require.Equal(t, 3, eval[int](t, br, `document.querySelectorAll("#documents tbody tr").length`))
	view := "Paid on " + name
	br.do(t, chromedp.Click(chromedp.CSS(".save-view summary")), chromedp.SendKeys(chromedp.ID("view-name"), view),
		chromedp.Click(chromedp.ID("view-dashboard")), chromedp.Click(chromedp.ID("view-save")))
	br.waitJS(t, "the view saved", `document.querySelector(".flash") && document.querySelector(".flash").textContent.includes("Saved the view")`)
	require.Equal(t, "?tag="+paid+"&msg=", eval[string](t, br, `location.search.replace(/msg=.*/, "msg=")`))
	br.open(t, "/")
	br.fitsWidth(t, "the dashboard")
	require.Contains(t, eval[string](t, br, `document.querySelector("#dashboard-views").textContent`), view)
	require.Contains(t, eval[string](t, br, `document.querySelector("nav.saved-views").textContent`), view)
	br.do(t, chromedp.Click(chromedp.CSS(`#dashboard-views a`)))
	br.waitJS(t, "the view's documents", `location.pathname === "/documents" && document.querySelectorAll("#documents tbody tr").length === 3`)

	// A tag with a rule, made on the tags page.
	br.open(t, "/tags")
	br.fitsWidth(t, "the tags page")
	require.Contains(t, eval[string](t, br, `document.querySelector('#tags tr[data-tag="`+paid+`"]').textContent`), "3")
	br.do(t, chromedp.SendKeys(chromedp.ID("tag-name"), "herd-"+name), chromedp.SetValue(chromedp.ID("tag-match"), "any"),
		chromedp.SendKeys(chromedp.ID("tag-match-text"), word), chromedp.Click(chromedp.ID("tag-create")))
	br.waitJS(t, "the tag created", `document.querySelector('#tags tr[data-tag="herd-`+name+`"]')`)
	tag, err := b.st.GetTag(ctx, "herd-"+name)
	require.NoError(t, err)
	require.Equal(t, store.MatchAny, tag.Match)
	require.Equal(t, word, tag.MatchText)
}

// tagNames returns the tags of the documents that have any.
func tagNames(t *testing.T, b *testBundle, ids []string) map[string][]string {
	t.Helper()
	names, err := b.st.DocumentTagNames(context.Background(), ids)
	require.NoError(t, err)
	return names
}
