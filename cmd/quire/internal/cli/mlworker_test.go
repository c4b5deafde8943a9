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
	resp, err := http.Post("http://"+s.addr+"/api/v1/documents?name="+filepath.Base(path), "application/octet-stream", bytes.NewReader(b))
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
		resp, err := http.Post("http://"+s.addr+"/api/v1/documents/"+doc+"/reprocess", "", nil)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusAccepted, resp.StatusCode)
		res = doneResults(t, s, doc)
		return res.classifiedBy(id2) != ""
	})
	s.stop(t)

	// Machine learning off: the kind only.
	s = startProcess(t, b, "up", "--shutdown-timeout", "300ms", "--ml=false")
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
