package testdocs

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Expected is what one file of the formats corpus holds, as
// testdata/formats/expected.json states it: the one table that the
// extractor's tests and the end-to-end tests (quire process, the API, on
// both setups) check every file against.
type Expected struct {
	// Path is the file's path under testdata/, with slashes.
	Path string `json:"-"`
	// Type is the detected media type.
	Type string `json:"type"`
	// Text are passages the text must contain, compared with every run of
	// white space made one space.
	Text []string `json:"text"`
	// Title and Author, when set, are the metadata's, exactly.
	Title  string `json:"title"`
	Author string `json:"author"`
	// Meta maps a metadata field to a substring of its value.
	Meta map[string]string `json:"meta"`
	// Children are the names of the documents inside (archive members,
	// attachments, embedded objects), in any order.
	Children []string `json:"children"`
	// Fails, when set, is a substring of the reason the document fails
	// with; the other fields are then unused.
	Fails string `json:"fails"`
	// Needs names a tool the file or a document inside it needs to be
	// read ("tesseract", "soffice"); see Unavailable.
	Needs string `json:"needs"`
}

// corpusDirs are the folders of testdata whose every file must have an
// entry: a file added without its expectations fails the tests.
var corpusDirs = []string{"formats"}

// Corpus reads formats/expected.json from the testdata folder dir, and
// checks that it has an entry for every file of the corpus folders (but
// READMEs, generators and their folders) and a file for every entry. It
// returns the entries sorted by path.
func Corpus(dir string) ([]Expected, error) {
	b, err := os.ReadFile(filepath.Join(dir, "formats", "expected.json"))
	if err != nil {
		return nil, fmt.Errorf("read the corpus table: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("decode the corpus table: %w", err)
	}
	var out []Expected
	for p, m := range raw {
		if strings.HasPrefix(p, "_") {
			continue // a comment
		}
		var e Expected
		dec := json.NewDecoder(strings.NewReader(string(m)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, fmt.Errorf("corpus table, %s: %w", p, err)
		}
		e.Path = p
		if e.Fails == "" && e.Type == "" {
			return nil, fmt.Errorf("corpus table, %s: neither a type nor a failure", p)
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			return nil, fmt.Errorf("corpus table, %s: %w", p, err)
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	for _, d := range corpusDirs {
		err := filepath.WalkDir(filepath.Join(dir, d), func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if de.IsDir() {
				if de.Name() == "gen" || strings.HasPrefix(de.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			name := de.Name()
			if name == "README.md" || name == "expected.json" || path.Ext(name) == ".go" || strings.HasPrefix(name, ".") ||
				strings.HasSuffix(name, ".sh") && strings.HasPrefix(name, "gen") {
				return nil
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if !slices.ContainsFunc(out, func(e Expected) bool { return e.Path == rel }) {
				return fmt.Errorf("corpus table: no entry for %s", rel)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Unavailable says why the tool the file needs is not installed, nil when
// it is or the file needs none. Tests leave such a file out, unless
// QUIRE_TEST_REQUIRE_SERVICES=1 (as in CI) makes that a failure: a machine
// with only Go runs the rest.
func (e *Expected) Unavailable() error {
	var cmds []string
	switch e.Needs {
	case "":
		return nil
	case "soffice":
		cmds = []string{"soffice", "libreoffice"}
	default:
		cmds = []string{e.Needs}
	}
	var err error
	for _, c := range cmds {
		if _, err = exec.LookPath(c); err == nil {
			return nil
		}
	}
	return fmt.Errorf("%s needs %s: %w", e.Path, e.Needs, err)
}

// Squeeze makes every run of white space in s one space, as the corpus's
// passages are compared.
func Squeeze(s string) string { return strings.Join(strings.Fields(s), " ") }

// Missing returns the passages of e.Text that text lacks.
func (e *Expected) Missing(text string) []string {
	text = Squeeze(text)
	var out []string
	for _, p := range e.Text {
		if !strings.Contains(text, Squeeze(p)) {
			out = append(out, p)
		}
	}
	return out
}

// MetaMismatch returns the fields of e.Meta that meta lacks or whose value
// does not hold the expected substring, each as "field: want …, got …".
func (e *Expected) MetaMismatch(meta map[string]string) []string {
	var out []string
	for k, want := range e.Meta {
		if got, ok := meta[k]; !ok || !strings.Contains(got, want) {
			out = append(out, fmt.Sprintf("%s: want %q in %q", k, want, got))
		}
	}
	sort.Strings(out)
	return out
}
