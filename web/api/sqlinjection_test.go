package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quirehq/quire/internal/testenv"
	"github.com/quirehq/quire/store"
)

// sqlPayloads are classic SQL injection attempts, with a few aimed at the
// full-text syntaxes (FTS5, tsquery) the search parameter reaches.
var sqlPayloads = []string{
	`' OR '1'='1`,
	`' OR 1=1 --`,
	`" OR ""="`,
	`'; DROP TABLE documents; --`,
	`"; DROP TABLE documents; --`,
	`'); DELETE FROM labels; --`,
	`1; DELETE FROM documents`,
	`' UNION SELECT name, sql FROM sqlite_master --`,
	`' UNION SELECT table_name, NULL FROM information_schema.tables --`,
	`admin'--`,
	`%' OR '%'='`,
	`\' OR 1=1 #`,
	`' AND 1=CAST((SELECT version()) AS int) --`,
	`'||pg_sleep(0)||'`,
	`1' ORDER BY 99 --`,
	`$1`,
	`?`,
	`' OR ''='`,
	`*`,
	`x" OR "y`,
	`NEAR(a b) OR col:* AND -`,
	`a & b | !c <-> d:*`,
	"'\x00' OR 1=1",
	`%00' OR 1=1`,
	`{"$gt": ""}`,
}

// TestSQLInjection sends every payload through every query parameter and
// path parameter of every route of the API, and through the string fields
// of every JSON body, on PostgreSQL and SQLite. Every answer is a success or
// a client's error (never a server error); the document list, with each
// filter and the search set to a payload, matches nothing or answers 400;
// and afterwards the seeded rows are all still there and searchable.
func TestSQLInjection(t *testing.T) {
	t.Parallel()
	backends := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"postgres", func(t *testing.T) string { return testenv.NewPostgresDatabase(t) }},
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "quire.db") }},
	}
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			b := newInputBundle(t, be.url(t))
			ctx := context.Background()
			for _, payload := range sqlPayloads {
				// The document list's filters, one at a time: nothing
				// matches a payload, or the payload is refused.
				for _, param := range []string{"q", "state", "mime_type", "parent", "cursor"} {
					target := "/api/v1/documents?" + url.Values{param: {payload}}.Encode()
					w := b.do("GET", target, "", nil)
					checkAnswer(t, target, w)
					if w.Code == http.StatusOK {
						var l List
						if err := json.Unmarshal(w.Body.Bytes(), &l); err != nil {
							t.Fatalf("%s: %v", target, err)
						}
						if len(l.Documents) != 0 {
							t.Errorf("%s matched %d documents", target, len(l.Documents))
						}
					} else if w.Code != http.StatusBadRequest {
						t.Errorf("%s answered %d, want 200 or 400", target, w.Code)
					}
				}
				for _, rt := range routes() {
					q := url.Values{}
					for _, p := range rt.Query {
						q.Set(p.Name, payload)
					}
					// Path parameters as the payload, and as the seeded
					// document with the payload in the query.
					var targets []string
					if rt.Method != "DELETE" || !strings.Contains(rt.Path, "{") {
						targets = append(targets, fill(rt.Path, b.doc.ID)+"?"+q.Encode())
					}
					if strings.Contains(rt.Path, "{") {
						targets = append(targets, fill(rt.Path, url.PathEscape(payload)))
					}
					for _, target := range targets {
						var body *strings.Reader
						ctype := ""
						switch rt.Body.(type) {
						case nil:
						case rawBody:
							// The payload goes in the name (a query parameter);
							// the content holds none of its words, so the
							// searches above still match nothing.
							ctype, body = "text/plain", strings.NewReader("Uploaded by the injection test.")
						default:
							ctype, body = "application/json", strings.NewReader(jsonWithStrings(rt.Body, payload))
						}
						var w = b.do(rt.Method, target, ctype, readerOrNil(body))
						checkAnswer(t, rt.Method+" "+target, w)
					}
				}
			}

			// The seeded rows are intact, and the index still finds them.
			doc, err := b.st.GetDocument(ctx, b.doc.ID)
			if err != nil {
				t.Fatalf("the seeded document is gone: %v", err)
			}
			if doc.Name != "note.txt" {
				t.Fatalf("the seeded document changed: %+v", doc)
			}
			labels, err := b.st.ListLabels(ctx, &store.ListLabelsParams{DocumentID: b.doc.ID})
			if err != nil || len(labels) == 0 || labels[0].Label != "letters" {
				t.Fatalf("the seeded label is gone: %v %v", labels, err)
			}
			hooks, err := b.st.ListWebhooks(ctx)
			if err != nil || len(hooks) == 0 || hooks[0].URL != "https://93.184.215.14/hook" {
				t.Fatalf("the seeded webhook is gone: %v %v", hooks, err)
			}
			w := b.do("GET", "/api/v1/documents?q=harvest", "", nil)
			var l List
			if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &l) != nil {
				t.Fatalf("search after the payloads: %d %s", w.Code, w.Body.String())
			}
			found := false
			for _, d := range l.Documents {
				found = found || d.ID == b.doc.ID
			}
			if !found {
				t.Fatalf("the search no longer finds the seeded document: %s", w.Body.String())
			}
		})
	}
}

// jsonWithStrings returns v's JSON with every string field set to s (lists
// of strings hold s once).
func jsonWithStrings(v any, s string) string {
	data, _ := json.Marshal(v)
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return "{}"
	}
	for k, val := range m {
		switch val.(type) {
		case string, nil:
			m[k] = s
		case []any:
			m[k] = []string{s}
		}
	}
	out, _ := json.Marshal(m)
	return string(out)
}

func readerOrNil(r *strings.Reader) interface {
	Read([]byte) (int, error)
} {
	if r == nil {
		return nil
	}
	return r
}
