package cli

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quirehq/quire/internal/app"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
	"github.com/quirehq/quire/ml"
	"github.com/quirehq/quire/ml/mlpipeline"
	"github.com/quirehq/quire/store"
)

// mlTestData is the committed sample of SpamAssassin messages, one folder
// per label.
var mlTestData = filepath.Join("..", "..", "..", "..", "testdata", "ml", "spamassassin")

// mlFigures reads the JSON object on the last line of a train or eval run.
func mlFigures(t *testing.T, r result) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.lastLine()), &m), r.stdout)
	return m
}

// TestMLTrainEvalPredict trains on real emails through the command line,
// evaluates the model on the messages training held out, and classifies
// files with it.
func TestMLTrainEvalPredict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	model := filepath.Join(t.TempDir(), "mail.qml")

	r := runCLI(ctx, t, nil, "ml", "train", "--data", mlTestData, "--out", model, "--holdout", "0.3",
		"--min-df", "1", "--version", "v1", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "model doctype@v1: logistic_regression, 3 labels")
	trained := mlFigures(t, r)
	acc := trained["accuracy"].(float64)
	require.Greater(t, acc, 0.0)
	require.LessOrEqual(t, acc, 1.0)
	require.Contains(t, trained, "macro_f1")

	fi, err := os.Stat(model)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())

	// eval with the same split sees the same messages, so the same
	// figures; its report has the confusion matrix.
	r = runCLI(ctx, t, nil, "ml", "eval", "--model", model, "--data", mlTestData, "--holdout", "0.3", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	evaluated := mlFigures(t, r)
	require.Equal(t, trained["accuracy"], evaluated["accuracy"])
	require.Equal(t, trained["macro_f1"], evaluated["macro_f1"])
	require.Contains(t, r.stdout, "confusion (rows: true, columns: predicted)")
	require.Contains(t, r.stdout, "macro-F1")
	for _, l := range []string{"easy_ham", "hard_ham", "spam"} {
		require.Contains(t, r.stdout, l)
	}
	// The figures match what the Go API measures on the same messages.
	m, err := readModel(model)
	require.NoError(t, err)
	a := newCLI(&deps{stdout: &syncBuffer{}, stderr: &syncBuffer{}})
	a.Log = slog.New(slog.DiscardHandler)
	all, err := a.loadExamples(ctx, mlTestData)
	require.NoError(t, err)
	var held []ml.Example
	for _, e := range all {
		if ml.HeldOut(e.Key, 0.3, 1) {
			held = append(held, e)
		}
	}
	require.InDelta(t, m.Evaluate(held).Accuracy, evaluated["accuracy"].(float64), 1e-12)

	// Without --holdout, eval reads every message; most were trained on.
	r = runCLI(ctx, t, nil, "ml", "eval", "--model", model, "--data", mlTestData, "--json")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, float64(len(all)), mlFigures(t, r)["documents"])

	spam := filepath.Join(mlTestData, "spam")
	files, err := filepath.Glob(filepath.Join(spam, "*.eml"))
	require.NoError(t, err)
	r = runCLI(ctx, t, nil, "ml", "predict", "--model", model, files[0], files[1])
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 2)
	for i, l := range lines {
		f := strings.Split(l, "\t")
		require.Len(t, f, 3, l)
		require.Equal(t, files[i], f[0])
		require.Contains(t, []string{"easy_ham", "hard_ham", "spam", "easy_ham (unsure)", "hard_ham (unsure)", "spam (unsure)"}, f[1])
	}

	r = runCLI(ctx, t, nil, "ml", "predict", "--model", model, "--json", files[0])
	require.Equal(t, 0, r.code, r.stderr)
	p := mlFigures(t, r)
	require.Equal(t, "doctype@v1", p["model_version"])
	require.Equal(t, m.Predict(all[indexOfKey(all, "spam/"+filepath.Base(files[0]))].Text).Label, p["label"])
}

func indexOfKey(es []ml.Example, key string) int {
	for i, e := range es {
		if e.Key == key {
			return i
		}
	}
	return -1
}

func TestMLTrainNaiveBayes(t *testing.T) {
	t.Parallel()
	model := filepath.Join(t.TempDir(), "nb.qml")
	r := runCLI(context.Background(), t, nil, "ml", "train", "--data", mlTestData, "--out", model, "--algorithm", "naive_bayes")
	require.Equal(t, 0, r.code, r.stderr)
	m, err := readModel(model)
	require.NoError(t, err)
	require.Equal(t, ml.AlgorithmNaiveBayes, m.Algorithm)
	require.Equal(t, []string{"easy_ham", "hard_ham", "spam"}, m.Labels)
}

func TestMLErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	notModel := filepath.Join(dir, "not.qml")
	require.NoError(t, os.WriteFile(notModel, []byte("hello"), 0o644))
	future := filepath.Join(dir, "future.qml")
	m, err := ml.Train(ctx, []ml.Example{{Text: "a b", Label: "x"}, {Text: "a c", Label: "x"}, {Text: "d e", Label: "y"}, {Text: "d f", Label: "y"}},
		&ml.TrainOpts{MinDF: 1, CalibrationFraction: -1})
	require.NoError(t, err)
	b, err := ml.MarshalModel(m)
	require.NoError(t, err)
	binary.BigEndian.PutUint16(b[len(ml.ArtifactMagic):], 99)
	require.NoError(t, os.WriteFile(future, b, 0o644))

	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"train without data", []string{"ml", "train", "--out", filepath.Join(dir, "m")}, exitUsage, "--data and --out are required"},
		{"unknown algorithm", []string{"ml", "train", "--data", mlTestData, "--out", filepath.Join(dir, "m"), "--algorithm", "svm"}, exitUsage, `--algorithm "svm"`},
		{"unknown class weights", []string{"ml", "train", "--data", mlTestData, "--out", filepath.Join(dir, "m"), "--class-weights", "heavy"}, exitUsage, `--class-weights "heavy"`},
		{"holdout out of range", []string{"ml", "train", "--data", mlTestData, "--out", filepath.Join(dir, "m"), "--holdout", "1"}, exitUsage, "--holdout"},
		{"data folder without labels", []string{"ml", "train", "--data", dir, "--out", filepath.Join(dir, "m")}, exitUsage, "holds no label folder"},
		{"model that is not one", []string{"ml", "eval", "--model", notModel, "--data", mlTestData}, exitError, "not a Quire model artifact"},
		{"model of a future format", []string{"ml", "predict", "--model", future, notModel}, exitError, "format version 99 is not supported"},
		{"missing model file", []string{"ml", "predict", "--model", filepath.Join(dir, "none"), notModel}, exitUsage, "no such file"},
		{"predict without files", []string{"ml", "predict", "--model", notModel}, exitUsage, "give at least one file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(ctx, t, nil, tt.args...)
			require.Equal(t, tt.code, r.code, r.stderr)
			require.Contains(t, r.stderr, tt.msg)
		})
	}
}

// TestMLPublishActivateVersions registers trained models in the store of a
// data directory, switches the active version, and checks that an analyzer
// refreshing from that store and blob storage loads the active one.
func TestMLPublishActivateVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	models := map[string]string{}
	for _, v := range []string{"v1", "v2"} {
		models[v] = filepath.Join(dir, v+".qml")
		r := runCLI(ctx, t, nil, "ml", "train", "--data", mlTestData, "--out", models[v], "--version", v, "--holdout", "0.3")
		require.Equal(t, 0, r.code, r.stderr)
	}

	r := runCLI(ctx, t, nil, "--data-dir", dataDir, "ml", "publish", "--model", models["v1"], "--activate")
	require.Equal(t, 0, r.code, r.stderr)
	f := strings.Split(r.lastLine(), "\t")
	require.Len(t, f, 5, r.stdout)
	id1 := f[0]
	require.Equal(t, []string{"doctype@v1", "active"}, f[1:3])
	require.NotEqual(t, "-", f[4], "the held-out accuracy is recorded")

	r = runCLI(ctx, t, nil, "--data-dir", dataDir, "ml", "publish", "--model", models["v2"])
	require.Equal(t, 0, r.code, r.stderr)
	id2 := strings.Split(r.lastLine(), "\t")[0]

	versions := func() map[string]string { // ID -> state
		t.Helper()
		r := runCLI(ctx, t, nil, "--data-dir", dataDir, "ml", "versions")
		require.Equal(t, 0, r.code, r.stderr)
		out := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			f := strings.Split(l, "\t")
			out[f[0]] = f[2]
		}
		return out
	}
	require.Equal(t, map[string]string{id1: "active", id2: "inactive"}, versions())

	refreshed := func() string { // the ID of the model an analyzer loads
		t.Helper()
		st, err := store.Open(ctx, filepath.Join(dataDir, "quire.db"))
		require.NoError(t, err)
		defer st.Close()
		g := app.Config{DataDir: dataDir}
		bu, err := g.BlobURLOrDefault()
		require.NoError(t, err)
		blobs, err := blob.Open(ctx, bu)
		require.NoError(t, err)
		defer blobs.Close()
		lang, err := ml.NewLanguageIdentifier(&ml.LanguageOpts{Languages: []string{"en", "de"}})
		require.NoError(t, err)
		an, err := ml.NewAnalyzer(&ml.AnalyzerConfig{Language: lang, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		require.NoError(t, mlpipeline.Refresh(ctx, an, st, blobs))
		require.Len(t, an.Models(), 1)
		return an.Models()[0].ID
	}
	require.Equal(t, id1, refreshed())

	r = runCLI(ctx, t, nil, "--data-dir", dataDir, "ml", "activate", id2)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, map[string]string{id1: "inactive", id2: "active"}, versions())
	require.Equal(t, id2, refreshed())

	r = runCLI(ctx, t, nil, "--data-dir", dataDir, "ml", "activate", "01NOSUCHVERSION0000000000")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "not found")
}
