package extract

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestXPSFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, typ     string
		title, author string
		pages         [][]string // passages of each page, in order
	}{
		{file: "udhr.xps", typ: typeXPS, title: "Universal Declaration of Human Rights", author: "United Nations",
			pages: [][]string{
				// Two runs on one baseline make one line.
				{"Universal Declaration of Human Rights\nArticle 1\nAll human beings are born free and equal in dignity and rights."},
				{"Article 2\nEveryone is entitled to all the rights", "\n{braces} are escaped"},
			}},
		{file: "udhr-fra.oxps", typ: typeOXPS, title: "Déclaration universelle", author: "Nations unies",
			pages: [][]string{{"Déclaration universelle des droits de l’homme\nArticle premier\nTous les êtres humains naissent libres"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			name := "formats/xps/" + tt.file
			require.Equal(t, tt.typ, Detect("", testdataFile(t, name)), "detected by content")
			res := mustExtract(t, name)
			require.Equal(t, tt.typ, res.Type)
			require.Equal(t, tt.title, res.Title)
			require.Equal(t, tt.author, res.Author)
			require.Equal(t, "1948-12-10", res.Created.Format("2006-01-02"))
			require.Len(t, res.Pages, len(tt.pages))
			for i, want := range tt.pages {
				rest := res.Pages[i].Text
				for _, p := range want {
					j := strings.Index(rest, p)
					require.GreaterOrEqual(t, j, 0, "page %d: %q not found (in order) in %q", i+1, p, res.Pages[i].Text)
					rest = rest[j+len(p):]
				}
			}
			require.Equal(t, len(tt.pages)-1, strings.Count(res.Text, "\f"), "pages are separated by form feeds")
		})
	}
}

// TestXPSDetectAmongZips: XPS is told apart from the other ZIP containers,
// which are still told apart from each other.
func TestXPSDetectAmongZips(t *testing.T) {
	t.Parallel()
	for file, want := range map[string]string{
		"formats/xps/udhr.xps":      typeXPS,
		"formats/xps/udhr-fra.oxps": typeOXPS,
		"formats/epub/udhr.epub":    typeEPUB,
		"office/udhr.docx":          typeDOCX,
		"office/udhr.pptx":          typePPTX,
		"office/sotu.xlsx":          typeXLSX,
		"office/udhr-fra.odt":       typeODT,
		"formats/archive/docs.zip":  typeZip,
	} {
		require.Equal(t, want, Detect("", testdataFile(t, file)), file)
		require.Equal(t, want, Detect("upload.bin", testdataFile(t, file)), file)
	}
}

func TestXPSHostile(t *testing.T) {
	t.Parallel()
	xps := testdataFile(t, "formats/xps/udhr.xps")
	manyPages := strings.Repeat(`<PageContent Source="Pages/1.fpage"/>`, 100)
	tests := []struct {
		name  string
		data  []byte
		lim   Limits
		err   error
		limit string
	}{
		{name: "no sequence", data: withEntry(t, withEntry(t, xps, "_rels/.rels", "<Relationships/>"), "FixedDocSeq.fdseq", "x")},
		{name: "DTD in a page", data: withEntry(t, xps, "Documents/1/Pages/1.fpage", `<!DOCTYPE x [<!ENTITY a "b">]><FixedPage/>`), err: ErrCorrupt},
		{name: "pages over the limit", data: withEntry(t, xps, "Documents/1/FixedDoc.fdoc", "<FixedDocument>"+manyPages+"</FixedDocument>"),
			lim: Limits{MaxPages: 10}, limit: "pages"},
		{name: "a sequence that refers to itself", data: withEntry(t, xps, "FixedDocSeq.fdseq", `<FixedDocumentSequence><DocumentReference Source="/FixedDocSeq.fdseq"/></FixedDocumentSequence>`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := New(Config{Limits: tt.lim})
			res, err := x.Extract(context.Background(), &Input{Data: tt.data, Type: typeXPS})
			switch {
			case tt.limit != "":
				requireLimit(t, err, tt.limit)
			case tt.err != nil:
				require.ErrorIs(t, err, tt.err)
			default:
				if err != nil {
					require.ErrorIs(t, err, ErrCorrupt)
				} else {
					require.NotNil(t, res)
				}
			}
		})
	}
}

// TestXPSTextBudget: a page past the text limit is cut there.
func TestXPSTextBudget(t *testing.T) {
	t.Parallel()
	var page strings.Builder
	page.WriteString(`<FixedPage>`)
	for i := range 2000 {
		fmt.Fprintf(&page, `<Glyphs OriginX="0" OriginY="%d" FontRenderingEmSize="10" UnicodeString="line %d of a long page"/>`, i*12, i)
	}
	page.WriteString(`</FixedPage>`)
	data := withEntry(t, testdataFile(t, "formats/xps/udhr.xps"), "Documents/1/Pages/2.fpage", page.String())
	x := New(Config{Limits: Limits{MaxText: 2000}})
	res, err := x.Extract(context.Background(), &Input{Data: data})
	require.NoError(t, err)
	require.True(t, res.Truncated)
	require.LessOrEqual(t, len(res.Text), 2000+len(res.Pages))
}

func FuzzXPS(f *testing.F) {
	addSeeds(f, "formats/xps/udhr.xps", "formats/xps/udhr-fra.oxps")
	f.Add(withPieces(f, testdataFile(f, "formats/xps/udhr.xps"), "Documents/1/Pages/1.fpage", 200))
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, typeXPS, data) })
}

// withPieces rewrites a package with its part name stored interleaved, in
// pieces of about size bytes (ECMA-376 Part 2, 10.2.4), minus the pieces
// numbered in drop.
func withPieces(t testing.TB, data []byte, name string, size int, drop ...int) []byte {
	t.Helper()
	return editZip(t, data, func(n string, part []byte) ([]zipEntry, bool) {
		if n != name {
			return nil, true
		}
		var pieces []zipEntry
		for i := 0; len(part) > 0; i++ {
			piece := part[:min(size, len(part))]
			part = part[len(piece):]
			pname := fmt.Sprintf("%s/[%d].piece", name, i)
			if len(part) == 0 {
				pname = fmt.Sprintf("%s/[%d].last.piece", name, i)
			}
			if !slices.Contains(drop, i) {
				pieces = append(pieces, zipEntry{pname, piece})
			}
		}
		return pieces, false
	})
}

// TestXPSPieces reads a page stored in pieces as the page itself; a page
// missing a piece is missing, with a warning.
func TestXPSPieces(t *testing.T) {
	t.Parallel()
	xps := testdataFile(t, "formats/xps/udhr.xps")
	whole := mustExtract(t, "formats/xps/udhr.xps")
	x := New(Config{})

	res, err := x.Extract(context.Background(), &Input{Data: withPieces(t, xps, "Documents/1/Pages/1.fpage", 100)})
	require.NoError(t, err)
	require.Equal(t, typeXPS, res.Type)
	require.Equal(t, whole.Text, res.Text)
	require.Contains(t, res.Pages[0].Text, "All human beings are born free")
	require.Empty(t, res.Warnings)

	res, err = x.Extract(context.Background(), &Input{Data: withPieces(t, xps, "Documents/1/Pages/1.fpage", 100, 1), Type: typeXPS})
	require.NoError(t, err)
	require.Empty(t, res.Pages[0].Text)
	require.Contains(t, strings.Join(res.Warnings, "\n"), "Documents/1/Pages/1.fpage: listed in the document but missing")
	require.Contains(t, res.Pages[1].Text, "Everyone is entitled")
}
