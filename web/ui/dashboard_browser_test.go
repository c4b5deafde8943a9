package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

// TestBrowserDashboard: on a fresh store, six documents of which one fails
// (an encrypted PDF) are on the dashboard as six documents, five done and
// one failed, counted apart from their jobs; the chart has the minutes of
// their jobs, run before the page was opened. At a desktop and a phone
// size.
func TestBrowserDashboard(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	encrypted, err := os.ReadFile("../../testdata/pdf/encrypted.pdf")
	require.NoError(t, err)
	files := map[string][]byte{"encrypted.pdf": encrypted}
	for i := range 5 {
		files[fmt.Sprintf("note-%d.txt", i)] = fmt.Appendf(nil, "Note %d: the harbour master counted %d boats this morning.", i, i*7)
	}
	for name, data := range files {
		_, _, err := b.p.Ingest(ctx, &pipeline.IngestParams{Name: name, Body: bytes.NewReader(data), Source: store.SourceUpload})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		st, err := b.st.Stats(ctx)
		require.NoError(t, err)
		return st.ByState[store.StateDone]+st.ByState[store.StateFailed] == 6
	}, time.Minute, 50*time.Millisecond, "the six documents done or failed")

	forEachScreen(t, b.srv.URL, func(t *testing.T, br *browser, screen string) {
		br.open(t, "/login")
		br.do(t, chromedp.KeyEvent(b.email[auth.ScopeRead]+"\t"+password+"\r"))
		br.waitJS(t, "the dashboard", `document.querySelector("#doc-cards")`)
		br.fitsWidth(t, "the dashboard")
		card := func(k string) string {
			return eval[string](t, br, `document.querySelector('#doc-cards [data-docstate="`+k+`"]').textContent`)
		}
		require.Equal(t, "6", card("total"))
		require.Equal(t, "0", card("in_progress"))
		require.Equal(t, "5", card("done"))
		require.Equal(t, "1", card("failed"))
		br.waitJS(t, "the chart drawn", `document.querySelectorAll("#chart polyline").length === 2`)
		require.Equal(t, 60, eval[int](t, br, `document.querySelectorAll("#chart circle.processed").length`))
		// The documents' jobs ran before the page was opened: the
		// chart has them.
		require.GreaterOrEqual(t, eval[int](t, br, `Number(document.querySelector("#chart").dataset.processed)`), 6)
	})
}
