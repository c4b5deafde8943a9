package extract

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Legacy documents are named by their streams, whatever their name says,
// and read whether detection named them or only as a CFB container.
func TestCFBDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, want string
	}{
		{"udhr.doc", typeDOC},
		{"features.doc", typeDOC},
		{"encrypted.doc", typeDOC},
		{"sotu.xls", typeXLS},
		{"dates1904.xls", typeXLS},
		{"encrypted.xls", typeXLS},
		{"udhr.ppt", typePPT},
		{"slides.ppt", typePPT},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data := legacyFile(t, tt.file)
			for _, name := range []string{tt.file, "", "misnamed.txt", "misnamed.docx"} {
				assert.Equal(t, tt.want, Detect(name, data), name)
			}
			// Declared as a bare CFB container, it is read all the same.
			res, err := New(Config{}).Extract(context.Background(), &Input{Name: tt.file, Data: data, Type: typeOLE})
			if tt.file == "encrypted.doc" || tt.file == "encrypted.xls" {
				require.ErrorIs(t, err, ErrEncrypted)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.Type)
			assert.NotEmpty(t, res.Text)
		})
	}
}

// The kinds of containers Quire does not read are named by their streams.
func TestCFBKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		streams []string
		want    string
	}{
		{[]string{"WordDocument", "1Table"}, typeDOC},
		{[]string{"Book"}, typeXLS},
		{[]string{"PowerPoint Document", "Current User"}, typePPT},
		{[]string{"__substg1.0_0037001F", "__properties_version1.0"}, typeOutlookMSG},
		{[]string{"__substg1.0_1000001F"}, typeOutlookMSG},
		{[]string{"Quill", "Contents"}, typePublisher},
		{[]string{"VisioDocument"}, typeVisio},
		{[]string{"MN0"}, typeWorks},
		{[]string{"EncryptedPackage", "EncryptionInfo"}, cfbEncryptedOOXML},
		{[]string{"Something else"}, typeOLE},
	}
	for _, tt := range tests {
		r := &cfbReader{entries: []cfbEntry{{name: "Root Entry", storage: true, parent: -1}}}
		for _, s := range tt.streams {
			r.entries = append(r.entries, cfbEntry{name: s, parent: 0})
		}
		assert.Equal(t, tt.want, r.kind(), tt.streams)
		assert.NotEmpty(t, cfbKindNames[tt.want]+tt.want)
	}
}

// A damaged container is corrupt, never a panic: every truncation and a
// few overwritten header fields of a real one.
func TestCFBDamaged(t *testing.T) {
	t.Parallel()
	data := legacyFile(t, "udhr.ppt")
	for n := 0; n < len(data); n += 509 {
		_, err := openCFB(data[:n])
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt, n)
		}
	}
	for _, off := range []int{30, 44, 48, 60, 64, 68, 72, 76} {
		bad := append([]byte{}, data...)
		for i := 0; i < 4; i++ {
			bad[off+i] = 0xFF
		}
		r, err := openCFB(bad)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt, off)
			continue
		}
		for i := range r.entries {
			if _, err := r.read(i); err != nil {
				require.ErrorIs(t, err, ErrCorrupt, off)
			}
		}
	}
}

func TestPropertySet(t *testing.T) {
	t.Parallel()
	r, err := openCFB(legacyFile(t, "features.doc"))
	require.NoError(t, err)
	s := r.summary()
	assert.Equal(t, "Quire legacy Word fixture", s.title)
	assert.Equal(t, "Quire testdata", s.author)
	assert.Equal(t, "2024-03-05T10:20:30Z", s.created.Format("2006-01-02T15:04:05Z07:00"))
	// Damaged property sets give what they can, never a panic.
	b, _, err := r.stream("\x05SummaryInformation")
	require.NoError(t, err)
	for n := 0; n <= len(b); n += 7 {
		readPropertySet(b[:n])
	}
}

// Mutations of every legacy file: no panic, no slow input, and an error
// of a known kind. The fuzz targets (FuzzDOC, FuzzXLS, FuzzPPT) search
// further; this runs the same checks on every test run.
func TestLegacyMutations(t *testing.T) {
	t.Parallel()
	x := New(Config{Limits: fuzzLimits})
	rng := rand.New(rand.NewPCG(3, 4))
	files := []struct{ file, typ string }{
		{"features.doc", typeDOC}, {"udhr.doc", typeDOC},
		{"dates1904.xls", typeXLS}, {"sotu.xls", typeXLS},
		{"slides.ppt", typePPT}, {"udhr.ppt", typePPT},
	}
	for _, f := range files {
		seed := legacyFile(t, f.file)
		for i := range 1000 {
			data := bytes.Clone(seed)
			for range 1 + rng.IntN(8) {
				j := rng.IntN(len(data))
				data[j] = []byte{byte(rng.IntN(256)), 0xFF, 0}[rng.IntN(3)]
			}
			start := time.Now()
			res, err := x.Extract(context.Background(), &Input{Name: f.file, Data: data, Type: f.typ})
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s mutation %d took %v", f.file, i, d)
			}
			checkOutcome(t, data, res, err)
		}
	}
}
