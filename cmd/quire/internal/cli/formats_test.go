package cli

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testdocs"
)

// TestFormatsCorpus takes every file of testdata/formats through the whole
// pipeline, as a user would, and checks each against its line of
// testdata/formats/expected.json (extract's TestCorpus checks the same table
// against the extractor alone): by quire process and by uploads to the REST
// API, on the embedded setup and on Redis and PostgreSQL. Every document
// must end in the final state the table says, with its passages, metadata
// and type; the documents inside (archive members, attachments) done.
func TestFormatsCorpus(t *testing.T) {
	t.Parallel()
	all, err := testdocs.Corpus(testdataDir)
	require.NoError(t, err)
	// A file that needs a tool this machine lacks (LibreOffice, tesseract)
	// is left out, unless CI requires every tool.
	var corpus []testdocs.Expected
	for _, e := range all {
		if err := e.Unavailable(); err != nil {
			if os.Getenv("QUIRE_TEST_REQUIRE_SERVICES") == "1" {
				t.Fatalf("%v (QUIRE_TEST_REQUIRE_SERVICES=1)", err)
			}
			t.Logf("left out: %v", err)
			continue
		}
		corpus = append(corpus, e)
	}
	for _, setup := range []struct {
		name  string
		setup func(*testing.T) *testBundle
	}{{"Embedded", setupEmbedded}, {"Servers", setupServers}} {
		t.Run(setup.name, func(t *testing.T) {
			t.Parallel()
			t.Run("Process", func(t *testing.T) {
				t.Parallel()
				b := setup.setup(t)
				in := filepath.Join(t.TempDir(), "in")
				for _, e := range corpus {
					copyTestdata(t, filepath.Join(in, filepath.Dir(e.Path)), e.Path)
				}
				r := b.run(t, "process", in, "--json", "--log-level", "error")
				sum := decodeLastLine[processResult](t, r)
				failing := 0
				for _, e := range corpus {
					if e.Fails != "" {
						failing++
					}
				}
				require.Equal(t, len(corpus), sum.Files, "%+v", sum)
				require.Equal(t, failing, sum.Failed, "%+v\n%s", sum, r.stderr)
				require.Equal(t, sum.Total-failing, sum.Done, "%+v", sum)
				require.Positive(t, sum.Attachments, "archive members and attachments are documents")

				api := startAPI(t, b, setup.name == "Servers")
				byName := map[string]string{}
				for _, d := range api.list(t, "") {
					byName[d.Name] = d.ID
				}
				for _, e := range corpus {
					id := byName[filepath.Base(e.Path)]
					require.NotEmpty(t, id, "%s: no document", e.Path)
					api.check(t, e, id)
				}
			})
			t.Run("API", func(t *testing.T) {
				t.Parallel()
				api := startAPI(t, setup.setup(t), setup.name == "Servers")
				ids := map[string]string{}
				for _, e := range corpus {
					data, err := os.ReadFile(filepath.Join(testdataDir, filepath.FromSlash(e.Path)))
					require.NoError(t, err)
					ids[e.Path] = uploadDocument(t, api.addr, api.token, filepath.Base(e.Path), data)
				}
				for _, e := range corpus {
					api.check(t, e, ids[e.Path])
				}
			})
		})
	}
}

// corpusAPI is the REST API of a running Quire, for TestFormatsCorpus.
type corpusAPI struct {
	addr, token string
}

// startAPI runs Quire on b's setup as a user would: quire up on the
// embedded one; a web role and a pipeline worker on servers.
func startAPI(t *testing.T, b *testBundle, servers bool) *corpusAPI {
	t.Helper()
	token := apiToken(t, b)
	if !servers {
		s := startProcess(t, b, "up", "--shutdown-timeout", "300ms")
		return &corpusAPI{addr: s.addr, token: token}
	}
	web := startProcess(t, b, "serve", "--role", "web", "--http-addr", "127.0.0.1:0")
	startServe(t, b, "--queues", "extract=3,ocr=1,analyze=4,notify=5,maintenance=1")
	return &corpusAPI{addr: web.httpAddr, token: token}
}

type corpusDocument struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	MIMEType      string            `json:"mime_type"`
	State         string            `json:"state"`
	FailureReason string            `json:"failure_reason"`
	Title         string            `json:"title"`
	Author        string            `json:"author"`
	Metadata      map[string]string `json:"metadata"`
	ParentID      string            `json:"parent_id"`
}

func (a *corpusAPI) get(t *testing.T, path string) string {
	t.Helper()
	code, body := (&serveBundle{addr: a.addr, token: a.token}).get(t, path)
	require.Equal(t, http.StatusOK, code, "GET %s: %s", path, body)
	return body
}

// list returns the documents received on their own, or the children of
// parent.
func (a *corpusAPI) list(t *testing.T, parent string) []corpusDocument {
	t.Helper()
	var page struct{ Documents []corpusDocument }
	require.NoError(t, json.Unmarshal([]byte(a.get(t, "/api/v1/documents?limit=1000&parent="+url.QueryEscape(parent))), &page))
	if parent != "" {
		return page.Documents
	}
	return slices.DeleteFunc(page.Documents, func(d corpusDocument) bool { return d.ParentID != "" })
}

// check waits for the document to end, then checks it against e.
func (a *corpusAPI) check(t *testing.T, e testdocs.Expected, id string) {
	t.Helper()
	var d corpusDocument
	require.Eventually(t, func() bool {
		require.NoError(t, json.Unmarshal([]byte(a.get(t, "/api/v1/documents/"+id)), &d))
		return d.State == "done" || d.State == "failed"
	}, 2*time.Minute, 20*time.Millisecond, "%s: a final state", e.Path)
	if e.Fails != "" {
		require.Equal(t, "failed", d.State, e.Path)
		require.Contains(t, d.FailureReason, e.Fails, e.Path)
		return
	}
	require.Equal(t, "done", d.State, "%s: %s", e.Path, d.FailureReason)
	assert.Equal(t, e.Type, d.MIMEType, "%s: the type, from the whole content", e.Path)
	text := a.get(t, "/api/v1/documents/"+id+"/text")
	assert.Empty(t, e.Missing(text), "%s: passages missing from the text:\n%s", e.Path, text)
	if e.Title != "" {
		assert.Equal(t, e.Title, d.Title, e.Path)
	}
	if e.Author != "" {
		assert.Equal(t, e.Author, d.Author, e.Path)
	}
	assert.Empty(t, e.MetaMismatch(d.Metadata), "%s: metadata %v", e.Path, d.Metadata)
	// A member whose content came in before, in another archive of the
	// corpus, is that document: it keeps its first parent. So the children
	// are at most those expected, and every one of them done.
	kids := a.list(t, id)
	assert.LessOrEqual(t, len(kids), len(e.Children), "%s", e.Path)
	for _, k := range kids {
		require.Eventually(t, func() bool {
			require.NoError(t, json.Unmarshal([]byte(a.get(t, "/api/v1/documents/"+k.ID)), &k))
			return k.State == "done" || k.State == "failed"
		}, 2*time.Minute, 20*time.Millisecond)
		assert.Equal(t, "done", k.State, "%s in %s: %s", k.Name, e.Path, k.FailureReason)
		assert.True(t, slices.ContainsFunc(e.Children, func(c string) bool { return filepath.Base(c) == k.Name || strings.HasSuffix(c, k.Name) }),
			"%s in %s: not expected", k.Name, e.Path)
	}
}
