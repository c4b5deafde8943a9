package ui_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/web/auth"
)

// TestBrowserJobsLimiters opens the limiters tab in a real browser at a
// desktop and a phone size: a limiter whose slot a job holds shows it, the
// page fits the screen, and nothing is logged to the console.
func TestBrowserJobsLimiters(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	l, err := jobs.NewConcurrencyLimiter(b.driver, "remote-model:ml.internal", 4, nil)
	require.NoError(t, err)
	held := make(chan struct{})
	release := make(chan struct{})
	go func() {
		_ = l.Middleware()(func(context.Context, *jobs.Job) error {
			close(held)
			<-release
			return nil
		})(ctx, &jobs.Job{ID: "01JOBHOLDINGASLOT"})
	}()
	<-held
	t.Cleanup(func() { close(release) })

	forEachScreen(t, b.srv.URL, func(t *testing.T, br *browser, screen string) {
		br.open(t, "/login")
		br.do(t, chromedp.KeyEvent(b.email[auth.ScopeRead]+"\t"+password+"\r"))
		br.waitJS(t, "the dashboard", `document.querySelector("#doc-cards")`)
		br.open(t, "/jobs?tab=limiters")
		br.waitJS(t, "the limiters", `document.querySelector("#limiters")`)
		br.fitsWidth(t, "the limiters tab")
		row := `document.querySelector('#limiters tr[data-limiter="remote-model:ml.internal"]')`
		require.Equal(t, "concurrency", eval[string](t, br, row+`.cells[1].textContent`))
		require.Equal(t, "1", eval[string](t, br, row+`.cells[2].textContent`), "held")
		require.Equal(t, "4", eval[string](t, br, row+`.cells[3].textContent`), "limit")
		require.Contains(t, eval[string](t, br, row+`.querySelector(".holder").textContent`), "job 01JOBHOLDINGASLOT on ")
		require.Empty(t, br.problems(), "console errors")
	})
}
