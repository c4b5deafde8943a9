package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
)

// docResults is what GET /api/v1/documents/{id}/results answers.
type docResults struct {
	State           string `json:"state"`
	Language        string `json:"language"`
	Summary         string `json:"summary"`
	Classifications []struct {
		Label        string  `json:"label"`
		Confidence   float64 `json:"confidence"`
		ModelVersion string  `json:"model_version"`
	} `json:"classifications"`
	Entities []struct {
		Kind, Value string
	} `json:"entities"`
}

// uploadFile posts a file to the REST API of s and returns the document's
// ID.
func uploadFile(t *testing.T, s *serveBundle, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	resp, err := authPost(s.token, "http://"+s.addr+"/api/v1/documents?name="+filepath.Base(path), "application/octet-stream", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	var doc struct{ ID string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	return doc.ID
}

// doneResults waits until the document is done and returns its results.
func doneResults(t *testing.T, s *serveBundle, id string) docResults {
	t.Helper()
	var res docResults
	waitFor(t, "document "+id+" done", func() bool {
		code, body := s.get(t, "/api/v1/documents/"+id+"/results")
		require.Equal(t, http.StatusOK, code, body)
		res = docResults{}
		require.NoError(t, json.Unmarshal([]byte(body), &res))
		require.NotEqual(t, "failed", res.State, body)
		return res.State == "done"
	})
	return res
}

// classifiedBy returns the label a model version gave, or "".
func (r docResults) classifiedBy(version string) string {
	for _, c := range r.Classifications {
		if c.ModelVersion == version {
			return c.Label
		}
	}
	return ""
}

// TestUpAnalyzesWithML runs a document through quire up with machine
// learning on (the default): it gets its language, entities, keywords, a
// summary, and the type the active classifier gives; a version activated
// while up runs classifies the next run of the document, with no restart.
// With --ml=false only the document's kind is recorded.
func TestUpAnalyzesWithML(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupEmbedded(t)
	dir := t.TempDir()
	for _, v := range []string{"v1", "v2"} {
		r := runCLI(ctx, t, nil, "ml", "train", "--data", mlTestData, "--out", filepath.Join(dir, v+".qml"), "--version", v, "--min-df", "1")
		require.Equal(t, 0, r.code, r.stderr)
	}
	id1 := strings.Split(b.runOK(t, "ml", "publish", "--model", filepath.Join(dir, "v1.qml"), "--activate").lastLine(), "\t")[0]
	id2 := strings.Split(b.runOK(t, "ml", "publish", "--model", filepath.Join(dir, "v2.qml")).lastLine(), "\t")[0]

	s := startProcess(t, b, "up", "--shutdown-timeout", "300ms", "--ml-reload-interval", "50ms")
	s.token = apiToken(t, b)
	mails, err := filepath.Glob(filepath.Join(mlTestData, "easy_ham", "*.eml"))
	require.NoError(t, err)
	doc := uploadFile(t, s, mails[0])
	res := doneResults(t, s, doc)

	require.Equal(t, "en", res.Language)
	require.NotEmpty(t, res.Summary)
	kinds := map[string]int{}
	for _, e := range res.Entities {
		kinds[e.Kind]++
	}
	require.Positive(t, kinds["keyword"], res.Entities)
	require.Positive(t, kinds["email"]+kinds["url"]+kinds["date"], res.Entities)
	require.Equal(t, "kind:email", res.classifiedBy("quire-basic@1"))
	label := res.classifiedBy(id1)
	require.True(t, strings.HasPrefix(label, "doctype:"), res.Classifications)
	require.Contains(t, []string{"doctype:easy_ham", "doctype:hard_ham", "doctype:spam", "doctype:unsure"}, label)

	// Activate v2 while up runs: the reloader swaps it in, and the next
	// run of the document is classified by it.
	b.runOK(t, "ml", "activate", id2)
	waitFor(t, "v2 classifying the document", func() bool {
		resp, err := authPost(s.token, "http://"+s.addr+"/api/v1/documents/"+doc+"/reprocess", "", nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
		res = doneResults(t, s, doc)
		return res.classifiedBy(id2) != ""
	})
	s.stop(t)

	// Machine learning off: the kind only.
	s = startProcess(t, b, "up", "--shutdown-timeout", "300ms", "--ml=false")
	s.token = apiToken(t, b)
	other := uploadFile(t, s, mails[1])
	res = doneResults(t, s, other)
	require.Empty(t, res.Language)
	require.Empty(t, res.Entities)
	versions := []string{}
	for _, c := range res.Classifications {
		versions = append(versions, c.ModelVersion)
	}
	require.Equal(t, []string{"quire-basic@1"}, slices.Compact(versions))
}

// TestMLRetrainFromLabels labels documents that quire up processed through
// the REST API, as users do, and retrains with quire ml retrain, on SQLite
// and on PostgreSQL: the first run trains and activates a version, which the
// running up then classifies with; a second run with the same labels is
// skipped; a changed label trains again.
func TestMLRetrainFromLabels(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"SQLite", "Postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setupEmbedded(t)
			if backend == "Postgres" {
				b.args = append(b.args, "--postgres-url", testenv.NewPostgresDatabase(t))
			}
			s := startProcess(t, b, "up", "--shutdown-timeout", "300ms", "--ml-reload-interval", "50ms")
			s.token = apiToken(t, b)
			docs := map[string]string{} // ID -> class
			for _, class := range []string{"easy_ham", "hard_ham", "spam"} {
				files, err := filepath.Glob(filepath.Join(mlTestData, class, "*.eml"))
				require.NoError(t, err)
				for _, f := range files[:12] {
					docs[uploadFile(t, s, f)] = class
				}
			}
			var some string
			for id, class := range docs {
				doneResults(t, s, id)
				postLabel(t, s, id, "doctype:"+class)
				some = id
			}

			retrain := func() []map[string]any {
				t.Helper()
				var res []map[string]any
				require.NoError(t, json.Unmarshal([]byte(b.runOK(t, "ml", "retrain", "--min-df", "1", "--json").lastLine()), &res))
				require.Len(t, res, 1)
				return res
			}
			res := retrain()
			require.Equal(t, "doctype", res[0]["name"])
			require.Equal(t, true, res[0]["activated"], res)
			id1 := res[0]["version_id"].(string)
			require.NotEmpty(t, id1)
			require.Equal(t, "unchanged", retrain()[0]["skipped"])

			// The running up loads the new version and classifies with it.
			waitFor(t, "the trained version classifying", func() bool {
				resp, err := authPost(s.token, "http://"+s.addr+"/api/v1/documents/"+some+"/reprocess", "", nil)
				require.NoError(t, err)
				resp.Body.Close()
				return doneResults(t, s, some).classifiedBy(id1) != ""
			})

			postLabel(t, s, some, "doctype:other")
			res = retrain()
			require.Empty(t, res[0]["skipped"])
			require.NotEqual(t, id1, res[0]["version_id"])
			require.Equal(t, id1, res[0]["active_id"])
		})
	}
}

func postLabel(t *testing.T, s *serveBundle, id, label string) {
	t.Helper()
	body, err := json.Marshal(map[string]string{"label": label})
	require.NoError(t, err)
	resp, err := authPost(s.token, "http://"+s.addr+"/api/v1/documents/"+id+"/labels", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Less(t, resp.StatusCode, 300, resp.Status)
}

// TestServeMLRole serves the active classifier of one deployment with
// quire serve --role ml, and has quire up of another call it over KServe v2
// (--ml-remote-url): each document gets the remote model's label too.
func TestServeMLRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	models := setupEmbedded(t)
	file := filepath.Join(t.TempDir(), "mail.qml")
	r := runCLI(ctx, t, nil, "ml", "train", "--data", mlTestData, "--out", file, "--version", "v1", "--min-df", "1")
	require.Equal(t, 0, r.code, r.stderr)
	id := strings.Split(models.runOK(t, "ml", "publish", "--model", file, "--activate").lastLine(), "\t")[0]

	ms := startProcess(t, models, "serve", "--role", "ml", "--http-addr", "127.0.0.1:0", "--shutdown-timeout", "300ms")
	require.NotEmpty(t, ms.httpAddr)
	base := "http://" + ms.httpAddr
	waitFor(t, "the ml role ready", func() bool {
		code, _ := ms.get(t, "/readyz")
		return code == http.StatusOK
	})
	resp, err := http.Get(base + "/v2/health/ready")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Get(base + "/v2/models/doctype")
	require.NoError(t, err)
	var md struct{ Versions []string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&md))
	resp.Body.Close()
	require.Equal(t, []string{id}, md.Versions)

	b := setupEmbedded(t)
	s := startProcess(t, b, "up", "--shutdown-timeout", "300ms", "--ml-remote-url", base, "--ml-remote-model", "doctype")
	s.token = apiToken(t, b)
	mails, err := filepath.Glob(filepath.Join(mlTestData, "spam", "*.eml"))
	require.NoError(t, err)
	res := doneResults(t, s, uploadFile(t, s, mails[0]))
	label := res.classifiedBy("doctype@" + id)
	require.Contains(t, []string{"doctype:easy_ham", "doctype:hard_ham", "doctype:spam", "doctype:unsure"}, label, res.Classifications)

	r = runCLI(ctx, t, nil, "--data-dir", t.TempDir(), "up", "--ml-remote-url", "models:8080")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "--ml-remote-url")
}
