package blob_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/blob"
)

// TestGCS runs the behaviour tests on the gs:// driver against fakeGCS, a
// server of the part of Cloud Storage's JSON API the driver calls, on
// loopback: the requests are the ones Google's servers get.
func TestGCS(t *testing.T) {
	t.Parallel()
	exercise(t, func(t *testing.T) *blob.Store {
		srv := httptest.NewServer(newFakeGCS("quire-test"))
		t.Cleanup(srv.Close)
		return open(t, "gs://quire-test?anonymous=true&endpoint="+url.QueryEscape(srv.URL))
	})
}

func TestGCSMissingBucket(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newFakeGCS("quire-test"))
	t.Cleanup(srv.Close)
	s := open(t, "gs://other?anonymous=true&endpoint="+url.QueryEscape(srv.URL))
	require.ErrorContains(t, s.Ping(context.Background()), "does not exist")
}

// fakeGCS keeps the objects of one bucket in memory and answers the JSON
// API's object get, media download (with ranges), list, delete and
// multipart upload, checking an upload's md5Hash as the service does.
type fakeGCS struct {
	bucket string
	mu     sync.Mutex
	objs   map[string]fakeObject
	gen    int64
}

type fakeObject struct {
	data        []byte
	contentType string
	gen         int64
	updated     time.Time
}

func newFakeGCS(bucket string) *fakeGCS {
	return &fakeGCS{bucket: bucket, objs: map[string]fakeObject{}}
}

func (f *fakeGCS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg}})
	}
	path := r.URL.EscapedPath()
	var rest string
	var upload bool
	switch {
	case strings.HasPrefix(path, "/storage/v1/b/"):
		rest = strings.TrimPrefix(path, "/storage/v1/b/")
	case strings.HasPrefix(path, "/upload/storage/v1/b/"):
		rest, upload = strings.TrimPrefix(path, "/upload/storage/v1/b/"), true
	default:
		fail(http.StatusNotFound, "no such API")
		return
	}
	bucket, objPath, _ := strings.Cut(rest, "/")
	if bucket != f.bucket {
		fail(http.StatusNotFound, "bucket not found")
		return
	}
	name, _ := url.PathUnescape(strings.TrimPrefix(objPath, "o/"))
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case upload && r.Method == http.MethodPost:
		f.upload(w, r, fail)
	case objPath == "o" && r.Method == http.MethodGet:
		f.list(w, r)
	case r.Method == http.MethodGet:
		obj, ok := f.objs[name]
		if !ok {
			fail(http.StatusNotFound, "object not found")
			return
		}
		if r.URL.Query().Get("alt") == "media" {
			w.Header().Set("Content-Type", obj.contentType)
			w.Header().Set("X-Goog-Generation", strconv.FormatInt(obj.gen, 10))
			http.ServeContent(w, r, "", obj.updated, bytes.NewReader(obj.data))
			return
		}
		writeJSON(w, f.resource(name, obj))
	case r.Method == http.MethodDelete:
		if _, ok := f.objs[name]; !ok {
			fail(http.StatusNotFound, "object not found")
			return
		}
		delete(f.objs, name)
		w.WriteHeader(http.StatusNoContent)
	default:
		fail(http.StatusMethodNotAllowed, r.Method)
	}
}

func (f *fakeGCS) upload(w http.ResponseWriter, r *http.Request, fail func(int, string)) {
	if t := r.URL.Query().Get("uploadType"); t != "multipart" {
		fail(http.StatusNotImplemented, "uploadType "+t)
		return
	}
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var parts [][]byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(http.StatusBadRequest, err.Error())
			return
		}
		b, err := io.ReadAll(p)
		if err != nil {
			fail(http.StatusBadRequest, err.Error())
			return
		}
		parts = append(parts, b)
	}
	if len(parts) != 2 {
		fail(http.StatusBadRequest, "want metadata and media")
		return
	}
	var meta struct {
		Name        string `json:"name"`
		ContentType string `json:"contentType"`
		MD5Hash     string `json:"md5Hash"`
	}
	if err := json.Unmarshal(parts[0], &meta); err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	if meta.MD5Hash != "" {
		sum := md5.Sum(parts[1])
		if meta.MD5Hash != base64.StdEncoding.EncodeToString(sum[:]) {
			fail(http.StatusBadRequest, "Provided MD5 hash does not match")
			return
		}
	}
	if r.URL.Query().Get("ifGenerationMatch") == "0" {
		if _, ok := f.objs[meta.Name]; ok {
			fail(http.StatusPreconditionFailed, "precondition failed")
			return
		}
	}
	f.gen++
	obj := fakeObject{data: parts[1], contentType: meta.ContentType, gen: f.gen, updated: time.Now().UTC().Truncate(time.Second)}
	f.objs[meta.Name] = obj
	writeJSON(w, f.resource(meta.Name, obj))
}

func (f *fakeGCS) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	max, _ := strconv.Atoi(q.Get("maxResults"))
	names := make([]string, 0, len(f.objs))
	for n := range f.objs {
		names = append(names, n)
	}
	slices.Sort(names)
	items := []any{}
	prefixes := []string{}
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) || n <= q.Get("pageToken") {
			continue
		}
		if max > 0 && len(items)+len(prefixes) == max {
			break
		}
		if delim != "" {
			if i := strings.Index(n[len(prefix):], delim); i >= 0 {
				p := n[:len(prefix)+i+len(delim)]
				if !slices.Contains(prefixes, p) {
					prefixes = append(prefixes, p)
				}
				continue
			}
		}
		items = append(items, f.resource(n, f.objs[n]))
	}
	writeJSON(w, map[string]any{"kind": "storage#objects", "items": items, "prefixes": prefixes})
}

func (f *fakeGCS) resource(name string, obj fakeObject) map[string]any {
	sum := md5.Sum(obj.data)
	return map[string]any{
		"kind":        "storage#object",
		"bucket":      f.bucket,
		"name":        name,
		"size":        strconv.Itoa(len(obj.data)),
		"contentType": obj.contentType,
		"md5Hash":     base64.StdEncoding.EncodeToString(sum[:]),
		"generation":  strconv.FormatInt(obj.gen, 10),
		"updated":     obj.updated.Format(time.RFC3339),
		"timeCreated": obj.updated.Format(time.RFC3339),
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
