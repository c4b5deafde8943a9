package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/store"
	"github.com/quirehq/quire/web/auth"
)

func TestWebhooks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, out := b.do(t, auth.ScopeAdmin, "POST", "/api/v1/webhooks", "application/json",
		strings.NewReader(`{"url":"https://example.com/hook","events":["document.done"]}`))
	require.Equal(t, http.StatusCreated, resp.StatusCode, out)
	h := decode[Webhook](t, out)
	require.Len(t, h.Secret, 64, "a random secret is made and shown once")
	require.True(t, h.Active)
	require.Equal(t, "/api/v1/webhooks/"+h.ID, resp.Header.Get("Location"))

	// Never again: not in the list, not in a get, not after a change.
	_, out = b.do(t, auth.ScopeAdmin, "GET", "/api/v1/webhooks", "", nil)
	require.NotContains(t, out, h.Secret)
	require.NotContains(t, out, `"secret"`)
	list := decode[WebhookList](t, out).Webhooks
	require.Len(t, list, 1)
	require.Equal(t, []string{"document.done"}, list[0].Events)
	_, out = b.do(t, auth.ScopeAdmin, "GET", "/api/v1/webhooks/"+h.ID, "", nil)
	require.NotContains(t, out, h.Secret)
	resp, out = b.do(t, auth.ScopeAdmin, "PATCH", "/api/v1/webhooks/"+h.ID, "application/json", strings.NewReader(`{"active":false}`))
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.NotContains(t, out, h.Secret)
	changed := decode[Webhook](t, out)
	require.False(t, changed.Active)
	require.Equal(t, "https://example.com/hook", changed.URL, "fields left out stay")
	stored, err := b.store.GetWebhook(t.Context(), h.ID)
	require.NoError(t, err)
	require.Equal(t, h.Secret, stored.Secret, "the secret stays unless changed")

	resp, out = b.do(t, auth.ScopeAdmin, "PATCH", "/api/v1/webhooks/"+h.ID, "application/json", strings.NewReader(`{"url":"gopher://x"}`))
	requireProblem(t, resp, out, http.StatusBadRequest, "/api/v1/webhooks/"+h.ID)

	resp, _ = b.do(t, auth.ScopeAdmin, "DELETE", "/api/v1/webhooks/"+h.ID, "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, out = b.do(t, auth.ScopeAdmin, "GET", "/api/v1/webhooks/"+h.ID, "", nil)
	requireProblem(t, resp, out, http.StatusNotFound, "/api/v1/webhooks/"+h.ID)
}

func TestTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, out := b.do(t, auth.ScopeAdmin, "POST", "/api/v1/tokens", "application/json", strings.NewReader(`{"name":"ci","scope":"write"}`))
	require.Equal(t, http.StatusCreated, resp.StatusCode, out)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	tok := decode[Token](t, out)
	require.True(t, strings.HasPrefix(tok.Token, "quire_"))

	use := func(token, method, path string) int {
		req, err := http.NewRequest(method, b.srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, use(tok.Token, "GET", "/api/v1/stats"))
	require.Equal(t, http.StatusForbidden, use(tok.Token, "GET", "/api/v1/tokens"))

	// Listed without the token or its hash.
	_, out = b.do(t, auth.ScopeAdmin, "GET", "/api/v1/tokens", "", nil)
	require.NotContains(t, out, tok.Token)
	require.NotContains(t, out, `"token"`)
	require.NotContains(t, out, "hash")
	require.Len(t, decode[TokenList](t, out).Tokens, 1+len(auth.Scopes))

	// Revoked, it stops working at once.
	resp, _ = b.do(t, auth.ScopeAdmin, "DELETE", "/api/v1/tokens/"+tok.ID, "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, http.StatusUnauthorized, use(tok.Token, "GET", "/api/v1/stats"))
}

func TestJobsRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.upload(t, "a.txt", "some text for the queues")

	resp, out := b.do(t, auth.ScopeRead, "GET", "/api/v1/queues", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	var names []string
	for _, q := range decode[QueueList](t, out).Queues {
		names = append(names, q.Name)
	}
	require.Contains(t, names, "extract")

	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/processes", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Len(t, decode[ProcessList](t, out).Processes, 1, "the test's jobs server")

	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/jobs/stats?days=7", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Len(t, decode[JobStats](t, out).Daily, 7)
	require.Nil(t, decode[JobStats](t, out).Minutely, "no minutes unless asked for")

	// The last hour per minute, the current minute first.
	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/jobs/stats?minutes=60", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	minutes := decode[JobStats](t, out).Minutely
	require.Len(t, minutes, 60)
	require.Equal(t, time.Minute, minutes[0].Minute.Sub(minutes[1].Minute))
	for _, m := range []string{"0", "2881", "x"} {
		resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/jobs/stats?minutes="+m, "", nil)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, out)
		require.Contains(t, out, "minutes")
	}

	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/jobs?state=dead", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Empty(t, decode[JobList](t, out).Jobs)

	resp, out = b.do(t, auth.ScopeAdmin, "POST", "/api/v1/queues/extract/pause", "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, out)
	_, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/queues", "", nil)
	for _, q := range decode[QueueList](t, out).Queues {
		require.Equal(t, q.Name == "extract", q.Paused, q.Name)
	}
	resp, _ = b.do(t, auth.ScopeAdmin, "POST", "/api/v1/queues/extract/resume", "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	_, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/queues", "", nil)
	for _, q := range decode[QueueList](t, out).Queues {
		require.False(t, q.Paused, q.Name)
	}

	// A job no handler runs goes dead at once; retried, it runs again
	// (and dies again); deleted, it is gone.
	j, err := b.jobs.Enqueue(t.Context(), "test.nohandler", map[string]string{"k": "v"},
		&jobs.EnqueueOpts{Queue: "maintenance", MaxRetries: jobs.NoRetries})
	require.NoError(t, err)
	dead := func() []Job {
		_, out := b.do(t, auth.ScopeRead, "GET", "/api/v1/jobs?state=dead&queue=maintenance", "", nil)
		return decode[JobList](t, out).Jobs
	}
	require.Eventually(t, func() bool { return len(dead()) == 1 }, time.Minute, 20*time.Millisecond)
	got := dead()[0]
	require.Equal(t, j.ID, got.ID)
	require.Equal(t, "dead", got.State)
	require.JSONEq(t, `{"k":"v"}`, string(got.Args))
	require.Contains(t, got.Error, "no handler")
	resp, out = b.do(t, auth.ScopeAdmin, "POST", "/api/v1/jobs/"+j.ID+"/retry?state=dead", "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, out)
	require.Eventually(t, func() bool { d := dead(); return len(d) == 1 && d[0].Attempt == 2 }, time.Minute, 20*time.Millisecond)
	resp, out = b.do(t, auth.ScopeAdmin, "DELETE", "/api/v1/jobs/"+j.ID+"?state=dead", "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, out)
	require.Empty(t, dead())

	resp, out = b.do(t, auth.ScopeAdmin, "DELETE", "/api/v1/jobs/nope", "", nil)
	requireProblem(t, resp, out, http.StatusNotFound, "/api/v1/jobs/nope")
	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/jobs?state=lost", "", nil)
	requireProblem(t, resp, out, http.StatusBadRequest, "/api/v1/jobs")
}

func TestModels(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	v1, err := b.store.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "classifier", Name: "doctype", Version: "1",
		Metrics: json.RawMessage(`{"accuracy":0.96}`), Active: true})
	require.NoError(t, err)
	v2, err := b.store.CreateModelVersion(ctx, &store.CreateModelVersionParams{Kind: "classifier", Name: "doctype", Version: "2"})
	require.NoError(t, err)

	resp, out := b.do(t, auth.ScopeRead, "GET", "/api/v1/models?kind=classifier", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	ms := decode[ModelVersionList](t, out).Models
	require.Len(t, ms, 2)
	resp, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/models/"+v1.ID, "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	m := decode[ModelVersion](t, out)
	require.True(t, m.Active)
	require.JSONEq(t, `{"accuracy":0.96}`, string(m.Metrics))

	resp, out = b.do(t, auth.ScopeAdmin, "POST", "/api/v1/models/"+v2.ID+"/activate", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.True(t, decode[ModelVersion](t, out).Active)
	_, out = b.do(t, auth.ScopeRead, "GET", "/api/v1/models?active=true", "", nil)
	ms = decode[ModelVersionList](t, out).Models
	require.Len(t, ms, 1)
	require.Equal(t, v2.ID, ms[0].ID)

	resp, out = b.do(t, auth.ScopeAdmin, "POST", "/api/v1/models/nope/activate", "", nil)
	requireProblem(t, resp, out, http.StatusNotFound, "/api/v1/models/nope/activate")
}
