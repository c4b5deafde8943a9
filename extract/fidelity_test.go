package extract

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fidelity documents (testdata/office/gen-fidelity) hold, besides
// their body, the parts a reader must not drop; every passage is labelled
// with the part it is in.

// childText extracts the child named name of res.
func childText(t *testing.T, res *Result, name string) string {
	t.Helper()
	for _, c := range res.Children {
		if c.Name == name {
			cr, err := New(Config{}).Extract(context.Background(), &Input{Name: c.Name, Data: c.Data, Type: c.Type})
			require.NoError(t, err, name)
			return cr.Text
		}
	}
	names := make([]string, len(res.Children))
	for i, c := range res.Children {
		names[i] = c.Name
	}
	t.Fatalf("no child %q among %q", name, names)
	return ""
}

func TestDOCXFidelity(t *testing.T) {
	t.Parallel()
	res := mustExtract(t, "office/fidelity.docx")
	for _, want := range []string{
		"Article 1. All human beings are born free and equal in dignity and rights.",
		"Footnote: adopted on 10 December 1948.",
		"Endnote: proclaimed in Paris.",
		"Comment: check the French translation.",
		"Footer: resolution 217 A (III)",
		"Chart title: Translations by region",
		"Axis title: Region",
		"Series: Translations",
		"Asia",
	} {
		assert.Contains(t, res.Text, want)
	}
	// Written twice by Word (the shape and its VML fallback), read once;
	// two sections' identical headers, once.
	assert.Equal(t, 1, strings.Count(res.Text, "Text box: Everyone has the right to life"))
	assert.Equal(t, 1, strings.Count(res.Text, "Header: United Nations General Assembly"))
	assert.True(t, strings.HasPrefix(res.Text, "Universal Declaration of Human Rights\n"))

	// The embedded workbook and the packaged file are children; the
	// picture in word/media is not.
	require.Len(t, res.Children, 2)
	assert.Equal(t, typeXLSX, res.Children[0].Type)
	assert.Contains(t, childText(t, res, "Microsoft_Excel_Worksheet.xlsx"), "Embedded workbook: Article 4\t1948")
	assert.Contains(t, childText(t, res, "article5.txt"), "Packaged text file: Article 5\nNo one shall be subjected to torture")
}

func TestPPTXFidelity(t *testing.T) {
	t.Parallel()
	res := mustExtract(t, "office/fidelity.pptx")
	require.Len(t, res.Pages, 2)
	first, second := res.Pages[0].Text, res.Pages[1].Text
	assert.True(t, strings.HasPrefix(first, "Article 1\nAll human beings are born free"), first)
	for _, want := range []string{"Chart title: Languages of the Declaration", "Axis title: Continent", "Series: Languages", "Oceania"} {
		assert.Contains(t, first, want)
	}
	// The master's footer and the layout's text box, once, with the first
	// slide that shows them; neither the prompts nor the date and number
	// fields.
	assert.Contains(t, first, "Master footer: United Nations")
	assert.Contains(t, first, "Layout text box: Paris, 1948")
	assert.NotContains(t, second, "Master footer")
	assert.NotContains(t, res.Text, "Click to edit")
	assert.NotContains(t, res.Text, "Second level")
	assert.NotContains(t, res.Text, "‹#›")
	// SmartArt, from its data (not also from its drawing).
	assert.Equal(t, 1, strings.Count(second, "SmartArt: Dignity"))
	assert.Contains(t, childText(t, res, "Microsoft_Word_Document.docx"), "Embedded document: No one shall be held in slavery")
}

func TestXLSXFidelity(t *testing.T) {
	t.Parallel()
	res := mustExtract(t, "office/fidelity.xlsx")
	require.Len(t, res.Pages, 1)
	lines := strings.Split(res.Pages[0].Text, "\n")
	// Numbers in the General format as they are, dates as dates.
	assert.Equal(t, []string{
		"Big integer\t123456789012345",
		"Decimal\t1234567.891",
		"Tenth\t0.1",
		"Sixteen digits\t1234567890123460",
		"Adopted\t12-10-48",
		"Unstyled\t98765432109876",
	}, lines[:6])
	assert.NotContains(t, res.Text, "E+")
	for _, want := range []string{"Chart title: Votes in the General Assembly", "Axis title: Vote", "Series: States", "Abstaining"} {
		assert.Contains(t, lines, want)
	}
	assert.Contains(t, childText(t, res, "Microsoft_Word_Document.docx"), "Embedded document: Everyone has the right to recognition")
}

func TestExactNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"1.23456789012346E+15":  "1234567890123460",
		"-1.23456789012346E+15": "-1234567890123460",
		"1.23456789012346E-05":  "0.0000123456789012346",
		"1.23E+15":              "1.23E+15", // a scientific number format
		"12345":                 "12345",
		"Article E+1":           "Article E+1",
		"1.23456789012346E+25":  "1.23456789012346E+25",
	} {
		assert.Equal(t, want, exactNumber(in), in)
	}
}

func TestODTFidelity(t *testing.T) {
	t.Parallel()
	res := mustExtract(t, "office/fidelity.odt")
	// The chart object's text is the document's; the spreadsheet object is
	// a child, packed as a document of its own.
	assert.Contains(t, res.Text, "Chart title: Member States in 1948")
	assert.Contains(t, res.Text, "Chart category: Founding members")
	require.Len(t, res.Children, 1)
	assert.Equal(t, typeODS, res.Children[0].Type)
	assert.Contains(t, childText(t, res, "Object 2.ods"), "Embedded spreadsheet: 48 in favour")
}

func TestEmbeddedLimits(t *testing.T) {
	t.Parallel()
	res, err := extractTestdata(t, Limits{MaxChildren: 1}, "office/fidelity.docx")
	require.NoError(t, err)
	require.Len(t, res.Children, 1)
	assert.Equal(t, "1", res.Meta["embedded_left_out"])
	require.Len(t, res.Warnings, 1)
	assert.Contains(t, res.Warnings[0], "oleObject1.bin")

}

func TestParseOle10Native(t *testing.T) {
	t.Parallel()
	name, data, ok := parseOle10Native([]byte{1, 0, 0, 0, 'x'})
	assert.True(t, ok)
	assert.Equal(t, "", name)
	assert.Equal(t, []byte("x"), data)
	_, _, ok = parseOle10Native(nil)
	assert.False(t, ok)
}
