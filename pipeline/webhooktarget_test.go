package pipeline_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

func TestCheckWebhookURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	refusing := embedded(t).p
	allowing := embedded(t, allowPrivateWebhooks).p
	tests := []struct {
		name    string
		url     string
		refused bool // by default; every URL here is allowed with WebhookAllowPrivate
	}{
		{name: "IPv4 loopback", url: "http://127.0.0.1:8080/hook", refused: true},
		{name: "other loopback", url: "http://127.9.9.9/", refused: true},
		{name: "IPv6 loopback", url: "http://[::1]:9000/", refused: true},
		{name: "IPv4-mapped loopback", url: "http://[::ffff:127.0.0.1]/", refused: true},
		{name: "localhost", url: "http://localhost:8080/", refused: true},
		{name: "a name under localhost", url: "http://api.localhost./", refused: true},
		{name: "private 10/8", url: "https://10.1.2.3/hook", refused: true},
		{name: "private 172.16/12", url: "http://172.16.0.1/", refused: true},
		{name: "private 192.168/16", url: "http://192.168.1.1/", refused: true},
		{name: "unique local IPv6", url: "http://[fd00::1]/", refused: true},
		{name: "cloud metadata (link-local)", url: "http://169.254.169.254/latest/meta-data/", refused: true},
		{name: "link-local IPv6", url: "http://[fe80::1]/", refused: true},
		{name: "unspecified", url: "http://0.0.0.0:8080/", refused: true},
		{name: "unspecified IPv6", url: "http://[::]/", refused: true},
		{name: "multicast", url: "http://224.0.0.1/", refused: true},
		{name: "carrier-grade NAT", url: "http://100.100.100.200/", refused: true},
		{name: "NAT64 of loopback", url: "http://[64:ff9b::7f00:1]/", refused: true},
		{name: "IPv4-compatible loopback", url: "http://[::7f00:1]/", refused: true},
		{name: "public IPv4", url: "https://93.184.215.14/hook"},
		{name: "public IPv6", url: "https://[2606:4700::1111]/hook"},
		{name: "a name that does not resolve (yet)", url: "https://hooks.example.invalid/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := refusing.CheckWebhookURL(ctx, tt.url)
			if tt.refused {
				require.ErrorIs(t, err, pipeline.ErrWebhookTarget)
				require.Contains(t, err.Error(), "--webhook-allow-private", "the error names the setting")
			} else {
				require.NoError(t, err)
			}
			require.NoError(t, allowing.CheckWebhookURL(ctx, tt.url))
		})
	}
	for _, bad := range []string{"ftp://example.com/", "gopher://x", "http://", "not a url", "file:///etc/passwd"} {
		require.Error(t, refusing.CheckWebhookURL(ctx, bad), bad)
		require.Error(t, allowing.CheckWebhookURL(ctx, bad), bad)
	}
}

// TestWebhookToLoopback registers webhooks straight in the store, as a
// registration made before the check existed (or under another setting)
// would be, and delivers to a real receiver on 127.0.0.1: refused by
// default, with the job dead at once and the receiver never called;
// delivered when allowed.
func TestWebhookToLoopback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var calls atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
	}))
	t.Cleanup(hook.Close)

	t.Run("refused by default", func(t *testing.T) {
		t.Parallel()
		e := embedded(t)
		h, err := e.store.CreateWebhook(ctx, &store.CreateWebhookParams{URL: hook.URL + "/refused", Secret: "s"})
		require.NoError(t, err)
		doc, _, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: "a.txt", Body: strings.NewReader("refused hook"), Source: store.SourceSubmit})
		require.NoError(t, err)
		in := jobs.NewInspector(e.jobs, nil)
		var dead []*jobs.Job
		require.Eventually(t, func() bool {
			dead, err = in.Jobs(ctx, &jobs.ListParams{Queue: pipeline.QueueNotify, State: jobs.StateDead})
			require.NoError(t, err)
			return len(dead) == 1
		}, 30*time.Second, 20*time.Millisecond)
		require.Equal(t, pipeline.JobWebhook, dead[0].Type)
		require.Contains(t, dead[0].Error, "webhook target refused")
		require.Contains(t, dead[0].Error, h.ID)
		require.Equal(t, 1, dead[0].Attempt, "refused at once, not retried")
		got, err := e.store.GetDocument(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, store.StateDone, got.State, "a refused webhook does not fail the document")
	})
	t.Run("delivered when allowed", func(t *testing.T) {
		t.Parallel()
		e := embedded(t, allowPrivateWebhooks)
		delivered := make(chan struct{}, 1)
		ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			delivered <- struct{}{}
		}))
		t.Cleanup(ok.Close)
		_, err := e.store.CreateWebhook(ctx, &store.CreateWebhookParams{URL: ok.URL, Secret: "s"})
		require.NoError(t, err)
		_, _, err = e.p.Ingest(ctx, &pipeline.IngestParams{Name: "b.txt", Body: strings.NewReader("allowed hook"), Source: store.SourceSubmit})
		require.NoError(t, err)
		select {
		case <-delivered:
		case <-time.After(30 * time.Second):
			t.Fatal("the allowed webhook was not delivered")
		}
	})
	t.Run("errors show only the receiver's origin", func(t *testing.T) {
		t.Parallel()
		e := embedded(t, allowPrivateWebhooks)
		failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		}))
		t.Cleanup(failing.Close)
		// Receivers put secrets in the path and the query (chat services
		// do): they must not reach the job's error or the logs.
		_, err := e.store.CreateWebhook(ctx, &store.CreateWebhookParams{URL: failing.URL + "/T0/pathSecret123?token=querySecret456", Secret: "s"})
		require.NoError(t, err)
		_, _, err = e.p.Ingest(ctx, &pipeline.IngestParams{Name: "c.txt", Body: strings.NewReader("failing hook"), Source: store.SourceSubmit})
		require.NoError(t, err)
		in := jobs.NewInspector(e.jobs, nil)
		var retried []*jobs.Job
		require.Eventually(t, func() bool {
			retried, err = in.Jobs(ctx, &jobs.ListParams{Queue: pipeline.QueueNotify, State: jobs.StateRetry})
			require.NoError(t, err)
			return len(retried) == 1
		}, 30*time.Second, 20*time.Millisecond)
		require.Contains(t, retried[0].Error, "answered 500")
		require.Contains(t, retried[0].Error, failing.URL)
		require.NotContains(t, retried[0].Error, "pathSecret123")
		require.NotContains(t, retried[0].Error, "querySecret456")
	})
	t.Cleanup(func() { require.Zero(t, calls.Load(), "the refused receiver was called") })
}
