package pipeline_test

import (
	"context"
	"encoding/json"
	"io"
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

// suggester is the tag classifier's stand-in: it suggests what it is told.
type suggester struct{ tags atomic.Pointer[[]string] }

func (s *suggester) SuggestTags(_ context.Context, text string) ([]string, string, error) {
	if !strings.Contains(text, "quarterly") {
		return nil, "", nil
	}
	return *s.tags.Load(), "classifier:01TAGMODEL", nil
}

func TestTagRules(t *testing.T) {
	t.Parallel()
	withSuggester := func(s *suggester) option {
		return func(c *pipeline.Config, _ *jobs.Config) { c.TagSuggester = s }
	}
	t.Run("OneJob", func(t *testing.T) {
		t.Parallel()
		s := &suggester{}
		testTagRules(t, embedded(t, allowPrivateWebhooks, withSuggester(s)), s)
	})
	t.Run("JobPerStage", func(t *testing.T) {
		t.Parallel()
		s := &suggester{}
		testTagRules(t, embedded(t, allowPrivateWebhooks, jobPerStage, withSuggester(s)), s)
	})
}

// testTagRules checks that rules and the classifier tag a document as it
// is analysed, each assignment in its audit trail and in the webhook's
// payload, and that processing it again sets the pipeline's tags again and
// leaves people's alone.
func testTagRules(t *testing.T, e *env, s *suggester) {
	ctx := context.Background()
	s.tags.Store(&[]string{"Finance", "unknown", "rule-only"})
	for _, p := range []store.CreateTagParams{
		{Name: "invoice", Match: store.MatchAny, MatchText: "invoice rechnung"},
		{Name: "acme", Match: store.MatchFuzzy, MatchText: "ACME Corporation"},
		{Name: "report-file", Match: store.MatchRegex, MatchText: `^q\d-report`},
		{Name: "never", Match: store.MatchAll, MatchText: "quarterly nonexistent"},
		{Name: "finance", Match: store.MatchAuto},
		{Name: "rule-only", Match: store.MatchExact, MatchText: "no such phrase"},
		{Name: "kept"},
	} {
		_, err := e.store.CreateTag(ctx, &p)
		require.NoError(t, err)
	}
	bodies := make(chan []byte, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	t.Cleanup(hook.Close)
	_, err := e.store.CreateWebhook(ctx, &store.CreateWebhookParams{URL: hook.URL, Events: []string{pipeline.EventDocumentDone}})
	require.NoError(t, err)

	doc, _, err := e.p.Ingest(ctx, &pipeline.IngestParams{Name: "q3-report.txt", Source: store.SourceSubmit,
		Body: strings.NewReader("The quarterly Rechnung of ACME Corporatoin, paid.")})
	require.NoError(t, err)
	want := map[string]string{"invoice": "rule", "acme": "rule", "report-file": "rule", "finance": "classifier:01TAGMODEL"}
	require.Equal(t, want, waitTags(t, e, doc.ID, 1))

	var payload pipeline.WebhookPayload
	select {
	case b := <-bodies:
		require.NoError(t, json.Unmarshal(b, &payload))
	case <-time.After(30 * time.Second):
		t.Fatal("no webhook came")
	}
	require.Equal(t, []string{"acme", "finance", "invoice", "report-file"}, payload.Document.Tags)

	events, err := e.store.ListEvents(ctx, doc.ID)
	require.NoError(t, err)
	var tagged []string
	for _, ev := range events {
		if ev.Stage == "tag" {
			tagged = append(tagged, ev.Message)
		}
	}
	require.Len(t, tagged, 4)
	require.Contains(t, tagged, `tagged "invoice": its rule (any "invoice rechnung") matched`)
	require.Contains(t, tagged, `tagged "finance": the classifier suggested it (classifier:01TAGMODEL)`)

	// A person tags it, and removes a rule's tag; the classifier changes
	// its mind. Processed again, the rules tag it again, the classifier's
	// old tag goes, and the person's tag stays.
	_, err = e.store.TagDocuments(ctx, &store.TagDocumentsParams{DocumentIDs: []string{doc.ID}, Tags: []string{"kept"}, SetBy: "user:a@example.com"})
	require.NoError(t, err)
	_, err = e.store.UntagDocuments(ctx, &store.UntagDocumentsParams{DocumentIDs: []string{doc.ID}, Tags: []string{"invoice"}})
	require.NoError(t, err)
	s.tags.Store(&[]string{})
	_, err = e.p.Reprocess(ctx, doc.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"invoice": "rule", "acme": "rule", "report-file": "rule", "kept": "user:a@example.com"},
		waitTags(t, e, doc.ID, 2))
}

// waitTags waits until the document is done for the nth time and returns
// its tags with who set each.
func waitTags(t *testing.T, e *env, id string, nth int) map[string]string {
	t.Helper()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		doc, err := e.store.GetDocument(ctx, id)
		require.NoError(t, err)
		if doc.State != store.StateDone {
			return false
		}
		events, err := e.store.ListEvents(ctx, id)
		require.NoError(t, err)
		analysed := 0
		for _, ev := range events {
			if ev.Stage == "analyze" && ev.Type == store.EventDone {
				analysed++
			}
		}
		return analysed == nth
	}, time.Minute, 10*time.Millisecond)
	list, err := e.store.ListDocumentTags(ctx, &store.ListDocumentTagsParams{DocumentID: id})
	require.NoError(t, err)
	got := map[string]string{}
	for _, dt := range list {
		got[dt.Tag] = dt.SetBy
	}
	return got
}
