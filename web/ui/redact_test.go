package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/web/auth"
)

// TestJobErrorsRedacted: a webhook's failure names its receiver, which only
// admins may see (the webhooks routes are theirs). Readers and writers see
// the errors of dead and retrying jobs, on the jobs page and in the API's
// job listing, with the URL, the host and the addresses cut out.
func TestJobErrorsRedacted(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	_, err := b.jobs.Enqueue(ctx, "test.webhook", nil, &jobs.EnqueueOpts{MaxRetries: jobs.NoRetries})
	require.NoError(t, err)
	// Its retry is an hour away: it waits in the retry set.
	_, err = b.jobs.Enqueue(ctx, "test.webhook", nil, &jobs.EnqueueOpts{MaxRetries: 3, Backoff: &jobs.Backoff{Base: time.Hour, Max: time.Hour}})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := b.insp.Stats(ctx, 1)
		return err == nil && st.Dead == 1 && st.Retry == 1
	}, time.Minute, 20*time.Millisecond)

	for _, s := range auth.Scopes {
		c, _ := b.login(t, s)
		for _, state := range []string{"dead", "retry"} {
			code, page := b.get(t, c, "/jobs?tab="+state)
			require.Equal(t, http.StatusOK, code)
			resp, list := b.do(t, http.DefaultClient, http.MethodGet, "/api/v1/jobs?state="+state, map[string]string{"Authorization": "Bearer " + b.token[s]}, "")
			require.Equal(t, http.StatusOK, resp.StatusCode, list)
			for where, body := range map[string]string{"page": page, "API": list} {
				require.Contains(t, body, "no such host", "%s, %s, %s", s, state, where)
				if s == auth.ScopeAdmin {
					require.Contains(t, body, "hooks.example.com", "%s, %s, %s", s, state, where)
					continue
				}
				for _, secret := range []string{"hooks.example.com", "203.0.113.7", "key=k"} {
					require.False(t, strings.Contains(body, secret), "%s sees %q in the %s of %s jobs", s, secret, where, state)
				}
				require.Contains(t, body, "[url]", "%s, %s, %s", s, state, where)
				require.Contains(t, body, "lookup [host]", "%s, %s, %s", s, state, where)
			}
		}
	}
}
