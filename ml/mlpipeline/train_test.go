package mlpipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/mlpipeline"
	"github.com/quirehq/quire/store"
)

// mailDir is the committed sample of SpamAssassin messages, one folder per
// label.
var mailDir = filepath.Join("..", "..", "testdata", "ml", "spamassassin")

type trainBundle struct {
	st    store.Store
	blobs *blob.Store
	// docs maps a document ID to its true class.
	docs map[string]string
}

// forEachStore runs test on SQLite and on PostgreSQL (skipped without it,
// unless QUIRE_TEST_REQUIRE_SERVICES=1).
func forEachStore(t *testing.T, test func(t *testing.T, b *trainBundle)) {
	for _, backend := range []string{"SQLite", "Postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			u := filepath.Join(dir, "quire.db")
			if backend == "Postgres" {
				u = testenv.NewPostgresDatabase(t)
			}
			st, err := store.Open(ctx, u)
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			require.NoError(t, st.Migrate(ctx))
			blobs, err := blob.Open(ctx, (&url.URL{Scheme: "file", Path: filepath.Join(dir, "blobs")}).String())
			require.NoError(t, err)
			t.Cleanup(func() { _ = blobs.Close() })
			test(t, &trainBundle{st: st, blobs: blobs, docs: addMails(t, st, blobs)})
		})
	}
}

// addMails stores every committed message as a document with its text, as
// the pipeline would have, and labels none.
func addMails(t *testing.T, st store.Store, blobs *blob.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	docs := map[string]string{}
	for _, class := range []string{"easy_ham", "hard_ham", "spam"} {
		files, err := filepath.Glob(filepath.Join(mailDir, class, "*.eml"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			put, err := blobs.Put(ctx, bytes.NewReader(b), nil)
			require.NoError(t, err)
			doc, _, err := st.CreateDocument(ctx, &store.CreateDocumentParams{SHA256: put.SHA256, BlobKey: put.Key,
				Name: filepath.Base(f), MIMEType: "message/rfc822", Size: put.Size, Source: store.SourceSubmit})
			require.NoError(t, err)
			require.NoError(t, st.SaveText(ctx, &store.SaveTextParams{DocumentID: doc.ID, Text: string(b)}))
			docs[doc.ID] = class
		}
	}
	return docs
}

func (b *trainBundle) label(t *testing.T, id, label string) {
	t.Helper()
	_, err := b.st.AddLabel(context.Background(), &store.AddLabelParams{DocumentID: id, Label: label, SetBy: "test"})
	require.NoError(t, err)
}

func (b *trainBundle) versions(t *testing.T) []store.ModelVersion {
	t.Helper()
	vs, err := b.st.ListModelVersions(context.Background(), &store.ListModelVersionsParams{Kind: mlpipeline.ModelKindClassifier, Name: "doctype"})
	require.NoError(t, err)
	return vs
}

// TestTrainerRetrainsOnLabelChange labels real emails, runs the train job's
// trainer, and checks that it trains and activates a first version, skips a
// run whose labels did not change, trains again when they changed, and does
// not activate a version that does worse on the held-out documents than the
// active one.
func TestTrainerRetrainsOnLabelChange(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, b *trainBundle) {
		ctx := context.Background()
		tr, err := mlpipeline.NewTrainer(&mlpipeline.TrainerConfig{Store: b.st, Blobs: b.blobs, HoldOut: 0.3,
			Train: &ml.TrainOpts{MinDF: 1}, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)

		// No labels, nothing to train.
		res, err := tr.Run(ctx)
		require.NoError(t, err)
		require.Empty(t, res)

		for id, class := range b.docs {
			b.label(t, id, "doctype:"+class)
		}
		res, err = tr.Run(ctx)
		require.NoError(t, err)
		require.Len(t, res, 1)
		first := res[0]
		require.Equal(t, "doctype", first.Name)
		require.Empty(t, first.Skipped)
		require.True(t, first.Activated, "the first version is activated: there is none to compare with")
		require.Equal(t, len(b.docs), first.Documents)
		require.Positive(t, first.HeldOut)
		require.Greater(t, first.Accuracy, 0.5)
		vs := b.versions(t)
		require.Len(t, vs, 1)
		require.Equal(t, first.VersionID, vs[0].ID)
		require.True(t, vs[0].Active)
		require.Equal(t, first.LabelDigest, vs[0].LabelDigest)
		require.NotEmpty(t, vs[0].ArtifactKey)
		var figures struct {
			Labels    []string `json:"labels"`
			Confusion [][]int  `json:"confusion"`
		}
		require.NoError(t, json.Unmarshal(vs[0].Metrics, &figures))
		require.Len(t, figures.Confusion, len(figures.Labels), "the held-out confusion matrix is kept for the models page")
		require.NotEmpty(t, figures.Labels)
		m, err := mlpipeline.OpenModel(ctx, b.blobs, &vs[0])
		require.NoError(t, err)
		require.Equal(t, []string{"easy_ham", "hard_ham", "spam"}, m.Labels)

		// Unchanged labels: skipped, no new version.
		res, err = tr.Run(ctx)
		require.NoError(t, err)
		require.Equal(t, mlpipeline.SkippedUnchanged, res[0].Skipped)
		require.Equal(t, first.LabelDigest, res[0].LabelDigest)
		require.Len(t, b.versions(t), 1)

		// A new label changes the digest: a new version is trained and
		// compared with the active one on the same held-out documents.
		var unlabelled string
		for id := range b.docs {
			unlabelled = id
			break
		}
		require.NoError(t, b.st.DeleteLabel(ctx, unlabelled, "doctype:"+b.docs[unlabelled]))
		res, err = tr.Run(ctx)
		require.NoError(t, err)
		second := res[0]
		require.Empty(t, second.Skipped)
		require.NotEqual(t, first.LabelDigest, second.LabelDigest)
		require.Equal(t, first.VersionID, second.ActiveID)
		require.Equal(t, second.Accuracy >= second.ActiveAccuracy, second.Activated)
		require.Len(t, b.versions(t), 2)
		active := first.VersionID
		if second.Activated {
			active = second.VersionID
		}

		// Labels that teach the wrong classes: every training document
		// (not held out) of easy ham is called spam and the other way
		// round. The new version does worse on the held-out documents,
		// whose labels are right, so the active version stays.
		swap := map[string]string{"easy_ham": "spam", "spam": "easy_ham", "hard_ham": "hard_ham"}
		for id, class := range b.docs {
			if id == unlabelled || ml.HeldOut(id, 0.3, 1) || swap[class] == class {
				continue
			}
			require.NoError(t, b.st.DeleteLabel(ctx, id, "doctype:"+class))
			b.label(t, id, "doctype:"+swap[class])
		}
		res, err = tr.Run(ctx)
		require.NoError(t, err)
		third := res[0]
		require.Empty(t, third.Skipped)
		require.Equal(t, active, third.ActiveID)
		require.Less(t, third.Accuracy, third.ActiveAccuracy)
		require.False(t, third.Activated)
		vs = b.versions(t)
		require.Len(t, vs, 3)
		for _, v := range vs {
			require.Equal(t, v.ID == active, v.Active, v.Version)
		}
	})
}

// TestTrainerModelsByLabelPrefix trains one model per label prefix; a
// label without one teaches doctype, and a model with a single class is
// reported as having too few examples.
func TestTrainerModelsByLabelPrefix(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, b *trainBundle) {
		ctx := context.Background()
		for id, class := range b.docs {
			b.label(t, id, class) // doctype
			if class == "spam" {
				b.label(t, id, "junk:yes")
			}
		}
		tr, err := mlpipeline.NewTrainer(&mlpipeline.TrainerConfig{Store: b.st, Blobs: b.blobs,
			Train: &ml.TrainOpts{MinDF: 1}, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		res, err := tr.Run(ctx)
		require.NoError(t, err)
		require.Len(t, res, 2)
		require.Equal(t, "doctype", res[0].Name)
		require.True(t, res[0].Activated)
		require.Equal(t, "junk", res[1].Name)
		require.Contains(t, res[1].Skipped, "too few examples")
		require.Empty(t, res[1].VersionID)
	})
}

func TestNewTrainerErrors(t *testing.T) {
	t.Parallel()
	_, err := mlpipeline.NewTrainer(&mlpipeline.TrainerConfig{})
	require.ErrorContains(t, err, "Store and Blobs are required")
	_, err = mlpipeline.NewTrainer(&mlpipeline.TrainerConfig{HoldOut: 1})
	require.ErrorContains(t, err, "HoldOut 1 is not in [0, 1)")
}
