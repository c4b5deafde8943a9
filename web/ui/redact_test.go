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
// admins may see (the webhooks routes are theirs). Readers of the jobs
// page and of the API's job listing see the error with its URL and
// address cut out.
func TestJobErrorsRedacted(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, err := b.jobs.Enqueue(context.Background(), "test.webhook", nil, &jobs.EnqueueOpts{MaxRetries: jobs.NoRetries})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := b.insp.Stats(context.Background(), 1)
		return err == nil && st.Dead == 1
	}, time.Minute, 20*time.Millisecond)

	for _, s := range auth.Scopes {
		c, _ := b.login(t, s)
		code, page := b.get(t, c, "/jobs?tab=dead")
		require.Equal(t, http.StatusOK, code)
		resp, list := b.do(t, http.DefaultClient, http.MethodGet, "/api/v1/jobs?state=dead", map[string]string{"Authorization": "Bearer " + b.token[s]}, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, list)
		for where, body := range map[string]string{"page": page, "API": list} {
			require.Contains(t, body, "connection refused", "%s, %s", s, where)
			if s == auth.ScopeAdmin {
				require.Contains(t, body, "hooks.example.com", "%s, %s", s, where)
				continue
			}
			for _, secret := range []string{"hooks.example.com", "203.0.113.7", "key=k"} {
				require.False(t, strings.Contains(body, secret), "%s sees %q in the %s", s, secret, where)
			}
			require.Contains(t, body, "[url]", "%s, %s", s, where)
		}
	}
}
