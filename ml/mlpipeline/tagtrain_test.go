package mlpipeline_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/extract"
	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/sqlitedriver"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/mlpipeline"
	"github.com/quirehq/quire/pipeline"
	"github.com/quirehq/quire/store"
)

// mailTags are the tags a person gives the committed messages, by class:
// every ham is "ham", hard ham is also "hard", spam is "spam".
var mailTags = map[string][]string{"easy_ham": {"ham"}, "hard_ham": {"ham", "hard"}, "spam": {"spam"}}

func (b *trainBundle) createTag(t *testing.T, name string, match store.MatchKind) {
	t.Helper()
	p := &store.CreateTagParams{Name: name, Match: match}
	if match.HasText() {
		p.MatchText = name
	}
	_, err := b.st.CreateTag(context.Background(), p)
	require.NoError(t, err)
}

func (b *trainBundle) tag(t *testing.T, id, setBy string, tags ...string) {
	t.Helper()
	_, err := b.st.TagDocuments(context.Background(), &store.TagDocumentsParams{DocumentIDs: []string{id}, Tags: tags, SetBy: setBy})
	require.NoError(t, err)
}

func (b *trainBundle) tagVersions(t *testing.T) []store.ModelVersion {
	t.Helper()
	vs, err := b.st.ListModelVersions(context.Background(), &store.ListModelVersionsParams{Kind: mlpipeline.ModelKindTagger, Name: ml.TagsModelName})
	require.NoError(t, err)
	return vs
}

// TestTrainerTags tags real emails as people do, runs the train job's
// trainer, and checks that it trains, registers and activates a tag model
// with its F1 on the held-out documents; learns only from people's tags,
// and only the tags whose rule is "auto"; skips a run whose tags did not
// change; does not activate a version that does worse; and that the
// suggester serves the active version, under its ID.
func TestTrainerTags(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, b *trainBundle) {
		ctx := context.Background()
		tr, err := mlpipeline.NewTrainer(&mlpipeline.TrainerConfig{Store: b.st, Blobs: b.blobs, HoldOut: 0.3,
			Tags: &ml.MultiLabelTrainOpts{MinDF: 1}, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		sugg := mlpipeline.NewTagSuggester(b.st, b.blobs)
		require.NoError(t, sugg.Refresh(ctx))
		tags, setBy, err := sugg.SuggestTags(ctx, "anything")
		require.NoError(t, err)
		require.Empty(t, tags, "no suggestion before a tag model is active")
		require.Empty(t, setBy)

		for _, name := range []string{"ham", "hard", "spam"} {
			b.createTag(t, name, store.MatchAuto)
		}
		// A tag set by hand only, and one of a rule: never learnt.
		b.createTag(t, "reviewed", store.MatchNone)
		b.createTag(t, "mentions-money", store.MatchAny)
		for id, class := range b.docs {
			b.tag(t, id, "user:alice@example.com", mailTags[class]...)
			b.tag(t, id, "user:alice@example.com", "reviewed")
			b.tag(t, id, store.SetByRule, "mentions-money")
		}
		res, err := tr.Run(ctx)
		require.NoError(t, err)
		require.Len(t, res, 1)
		first := res[0]
		require.Equal(t, mlpipeline.ModelKindTagger, first.Kind)
		require.Equal(t, ml.TagsModelName, first.Name)
		require.Empty(t, first.Skipped)
		require.True(t, first.Activated, "the first version is activated: there is none to compare with")
		require.Equal(t, len(b.docs), first.Documents)
		require.Positive(t, first.HeldOut)
		require.Greater(t, first.MicroF1, 0.7)

		vs := b.tagVersions(t)
		require.Len(t, vs, 1)
		require.Equal(t, first.VersionID, vs[0].ID)
		require.True(t, vs[0].Active)
		require.Equal(t, first.LabelDigest, vs[0].LabelDigest)
		var figures struct {
			MicroF1 float64 `json:"micro_f1"`
			MacroF1 float64 `json:"macro_f1"`
			HeldOut int     `json:"held_out"`
		}
		require.NoError(t, json.Unmarshal(vs[0].Metrics, &figures))
		require.Equal(t, first.MicroF1, figures.MicroF1, "the registry keeps the held-out F1")
		require.Positive(t, figures.MacroF1)
		require.Equal(t, first.HeldOut, figures.HeldOut)
		m, err := mlpipeline.OpenTagModel(ctx, b.blobs, &vs[0])
		require.NoError(t, err)
		require.Equal(t, []string{"ham", "hard", "spam"}, m.Labels, "only the auto tags")
		classifiers, err := b.st.ListModelVersions(ctx, &store.ListModelVersionsParams{Kind: mlpipeline.ModelKindClassifier})
		require.NoError(t, err)
		require.Empty(t, classifiers, "the tag model is not a classifier the analyzer would load")

		// The suggester serves the active version under its ID.
		require.NoError(t, sugg.Refresh(ctx))
		require.Equal(t, first.VersionID, sugg.ModelVersionID())
		// Most held-out messages get their class's tag, under the
		// version's ID.
		right, held := 0, 0
		for id, class := range b.docs {
			if !ml.HeldOut(id, 0.3, 1) {
				continue
			}
			text, err := b.st.GetText(ctx, id)
			require.NoError(t, err)
			tags, setBy, err = sugg.SuggestTags(ctx, text)
			require.NoError(t, err)
			held++
			if slices.Contains(tags, mailTags[class][0]) {
				right++
			}
			if len(tags) > 0 {
				require.Equal(t, store.SetByClassifierPrefix+first.VersionID, setBy)
			}
		}
		t.Logf("%d of %d held-out messages get their class's tag; micro-F1 %.3f", right, held, first.MicroF1)
		require.Greater(t, float64(right), 0.7*float64(held))
		setBy = store.SetByClassifierPrefix + first.VersionID

		// The pipeline's own assignments change nothing: still skipped.
		for id := range b.docs {
			b.tag(t, id, setBy, "hard")
		}
		res, err = tr.Run(ctx)
		require.NoError(t, err)
		require.Equal(t, mlpipeline.SkippedUnchanged, res[0].Skipped)
		require.Equal(t, first.LabelDigest, res[0].LabelDigest)
		require.Len(t, b.tagVersions(t), 1)

		// Tags that teach the wrong thing: every training document (not
		// held out) of spam is tagged ham and the other way round. The
		// new version does worse on the held-out documents, whose tags are
		// right, so the active version stays.
		for id, class := range b.docs {
			if ml.HeldOut(id, 0.3, 1) || class == "hard_ham" {
				continue
			}
			_, err := b.st.UntagDocuments(ctx, &store.UntagDocumentsParams{DocumentIDs: []string{id}, Tags: mailTags[class]})
			require.NoError(t, err)
			wrong := "spam"
			if class == "spam" {
				wrong = "ham"
			}
			b.tag(t, id, "user:alice@example.com", wrong)
		}
		res, err = tr.Run(ctx)
		require.NoError(t, err)
		second := res[0]
		require.Empty(t, second.Skipped)
		require.NotEqual(t, first.LabelDigest, second.LabelDigest)
		require.Equal(t, first.VersionID, second.ActiveID)
		require.Less(t, second.MicroF1, second.ActiveMicroF1)
		require.False(t, second.Activated)
		vs = b.tagVersions(t)
		require.Len(t, vs, 2)
		for _, v := range vs {
			require.Equal(t, v.ID == first.VersionID, v.Active, v.Version)
		}
		require.NoError(t, sugg.Refresh(ctx))
		require.Equal(t, first.VersionID, sugg.ModelVersionID(), "the suggester keeps the active version")
	})
}

// TestTrainerTagsWithoutAutoTags trains no tag model while no tag's rule
// is "auto", whatever people tagged.
func TestTrainerTagsWithoutAutoTags(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, b *trainBundle) {
		ctx := context.Background()
		b.createTag(t, "ham", store.MatchNone)
		for id, class := range b.docs {
			if class != "spam" {
				b.tag(t, id, "user:alice@example.com", "ham")
			}
		}
		tr, err := mlpipeline.NewTrainer(&mlpipeline.TrainerConfig{Store: b.st, Blobs: b.blobs, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		res, err := tr.Run(ctx)
		require.NoError(t, err)
		require.Empty(t, res)
		require.Empty(t, b.tagVersions(t))
	})
}

// TestTagSuggesterInPipeline trains the tag model on people's tags, then
// runs a new message through the real pipeline (SQLite job driver, the
// bundle's store) with the suggester the worker wires in: the document
// is tagged with the classifier's tag, under the active version's ID, and
// a tag whose rule is not "auto" is never set by the classifier.
func TestTagSuggesterInPipeline(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, b *trainBundle) {
		ctx := context.Background()
		b.createTag(t, "spam", store.MatchAuto)
		b.createTag(t, "ham", store.MatchNone) // set by hand only
		var spam []string
		for id, class := range b.docs {
			if class == "spam" {
				b.tag(t, id, "user:alice@example.com", "spam")
				spam = append(spam, id)
			} else {
				b.tag(t, id, "user:alice@example.com", "ham")
			}
		}
		tr, err := mlpipeline.NewTrainer(&mlpipeline.TrainerConfig{Store: b.st, Blobs: b.blobs,
			Tags: &ml.MultiLabelTrainOpts{MinDF: 1}, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		res, err := tr.Run(ctx)
		require.NoError(t, err)
		require.Len(t, res, 1)
		require.True(t, res[0].Activated)
		sugg := mlpipeline.NewTagSuggester(b.st, b.blobs)
		require.NoError(t, sugg.Refresh(ctx))

		jd, err := sqlitedriver.Open(filepath.Join(t.TempDir(), "jobs.db"), nil)
		require.NoError(t, err)
		t.Cleanup(func() { jd.Close() })
		client, err := jobs.NewClient(jd, nil)
		require.NoError(t, err)
		x := extract.New(extract.Config{})
		t.Cleanup(func() { x.Close() })
		finished := make(chan *store.Document, 10)
		p, err := pipeline.New(pipeline.Config{Store: b.st, Blobs: b.blobs, Jobs: client, Extractor: x,
			TagSuggester: sugg, Finished: func(d *store.Document) { finished <- d }})
		require.NoError(t, err)
		hs := jobs.NewHandlers()
		p.Register(hs)
		srv, err := jobs.NewServer(jd, &jobs.Config{Queues: pipeline.Queues(), Concurrency: 2, Handlers: hs})
		require.NoError(t, err)
		require.NoError(t, srv.Start(ctx))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			require.NoError(t, srv.Stop(ctx))
		})

		// A new message: the text of the spam messages the model was
		// trained on, run together, so that the test says whether the
		// pipeline sets what the model suggests, not how good the model
		// is.
		var body strings.Builder
		body.WriteString("From: offers@example.com\nSubject: new offer\n\n")
		for _, id := range spam[:5] {
			text, err := b.st.GetText(ctx, id)
			require.NoError(t, err)
			body.WriteString(text)
			body.WriteString("\n")
		}
		want, setBy, err := sugg.SuggestTags(ctx, body.String())
		require.NoError(t, err)
		require.Contains(t, want, "spam")
		doc, created, err := p.Ingest(ctx, &pipeline.IngestParams{Name: "offer.txt", Type: "text/plain",
			Body: strings.NewReader(body.String()), Source: store.SourceSubmit})
		require.NoError(t, err)
		require.True(t, created)
		var done *store.Document
		select {
		case done = <-finished:
		case <-time.After(2 * time.Minute):
			t.Fatal("the document was not processed")
		}
		require.Equal(t, doc.ID, done.ID)
		require.Equal(t, store.StateDone, done.State)
		got, err := b.st.ListDocumentTags(ctx, &store.ListDocumentTagsParams{DocumentID: doc.ID})
		require.NoError(t, err)
		require.Len(t, got, 1, "only the auto tag, not ham: %v", got)
		require.Equal(t, "spam", got[0].Tag)
		require.Equal(t, store.SetByClassifierPrefix+res[0].VersionID, got[0].SetBy)
		require.Equal(t, setBy, got[0].SetBy)
	})
}
