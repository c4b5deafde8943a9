package extract

import (
	"bytes"
	"compress/flate"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testdocs"
)

// TestHWP reads the HWP 5 documents of testdata/formats/hwp (gen.go writes
// them): the body in order, with what its controls anchor (a header, a
// table's cells, a footnote) after their paragraph and nothing of the
// controls' own code units; both sections; the summary; and with the
// office converter off, which only HWP 3 needs.
func TestHWP(t *testing.T) {
	t.Parallel()
	data := testdataFile(t, "formats/hwp/udhr-korean.hwp")
	require.Equal(t, typeHWP, Detect("", data), "detected by content")
	res, err := New(Config{OfficeConverter: ConverterOff}).Extract(context.Background(), &Input{Data: data})
	require.NoError(t, err)
	require.Equal(t, typeHWP, res.Type)
	require.Equal(t, "세계인권선언", res.Title)
	require.Equal(t, "Quire testdata", res.Author)
	require.Equal(t, "1948-12-10", res.Created.Format("2006-01-02"))
	require.Equal(t, "2", res.Meta["sections"])
	require.Equal(t, "5.0.3.0", res.Meta["hwp_version"])
	rest := res.Text
	for _, p := range []string{
		"세계인권선언\nHeader: Quire HWP test document\n",
		"모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다.",
		"제1조\tArticle 1\n",
		"Field result ends here.\n",
		"The table follows.\nCell one: 1948\nCell two: Paris\n",
		"In accord with my constitutional\nFootnote: the 1932 address.\n",
		"state of the Union together with recommendation of\nmeasures for its consideration.",
		"Our national defense has been maintained at a high state",
		"Second section: ",
	} {
		i := strings.Index(rest, p)
		require.GreaterOrEqual(t, i, 0, "%q not found (in order) in %q", p, res.Text)
		rest = rest[i+len(p):]
	}
	for _, leak := range []string{"\x00", "lbt", "daeh", "klc%"} {
		require.NotContains(t, res.Text, leak, "a control's code units in the text")
	}

	res = mustExtract(t, "formats/hwp/plain.hwp")
	require.Equal(t, "Uncompressed", res.Title)
	require.Contains(t, res.Text, "모든 인간은 태어날 때부터")
	require.Contains(t, res.Text, "Our country is at peace.")
}

func TestHWPRefused(t *testing.T) {
	t.Parallel()
	for file, says := range map[string]string{
		"encrypted.hwp":    "a password-protected HWP document",
		"distribution.hwp": "an HWP distribution document",
	} {
		_, err := extractTestdata(t, Limits{}, "formats/hwp/"+file)
		require.ErrorIs(t, err, ErrEncrypted, file)
		require.ErrorContains(t, err, says, file)
	}
	// HWP 3 is LibreOffice's: without it, the reason names the format.
	x := New(Config{OfficeConverter: ConverterOff})
	_, err := x.Extract(context.Background(), &Input{Data: []byte("HWP Document File V3.00 \x1a\x01\x02\x03\x04\x05" + strings.Repeat("\x00", 200))})
	require.ErrorIs(t, err, ErrUnsupported)
	require.ErrorContains(t, err, "Hangul (HWP) document")
}

// TestHWPHostile: a section that inflates past the limit stops there, a
// record that claims more than its section holds is corrupt, a text
// longer than the budget is cut; damaged copies of the test files end in
// an error of a known kind, never a panic.
func TestHWPHostile(t *testing.T) {
	t.Parallel()
	doc := func(compressed bool, sections ...[]byte) []byte {
		return testdocs.HWP(testdocs.HWPDoc{Compressed: compressed, Sections: sections})
	}
	// A bomb: 16 MiB of one paragraph's text, deflated to a few KiB.
	bomb := testdocs.HWPPara(0, strings.Repeat("a", 8<<20))
	_, err := New(Config{Limits: Limits{MaxDecompressed: 4 << 20}}).Extract(context.Background(), &Input{Data: doc(true, bomb)})
	requireLimit(t, err, "decompressed size")

	cut := testdocs.HWPPara(0, "a paragraph cut short")
	_, err = New(Config{}).Extract(context.Background(), &Input{Data: doc(false, cut[:len(cut)-3])})
	require.ErrorIs(t, err, ErrCorrupt)

	res, err := New(Config{Limits: Limits{MaxText: 1000}}).Extract(context.Background(), &Input{Data: doc(false,
		bytes.Repeat(testdocs.HWPPara(0, strings.Repeat("long text ", 50)), 10))})
	require.NoError(t, err)
	require.True(t, res.Truncated)
	require.LessOrEqual(t, len(res.Text), 1000)

	var garbage bytes.Buffer
	zw, _ := flate.NewWriter(&garbage, flate.BestSpeed)
	zw.Write([]byte{0xFF, 0xFF, 0xFF})
	zw.Close()
	for _, data := range [][]byte{doc(false), doc(false, garbage.Bytes())} {
		_, err := New(Config{}).Extract(context.Background(), &Input{Data: data, Type: typeHWP})
		require.ErrorIs(t, err, ErrCorrupt)
	}

	x := New(Config{Limits: fuzzLimits})
	for _, file := range []string{"udhr-korean.hwp", "plain.hwp"} {
		seed := testdataFile(t, "formats/hwp/"+file)
		for n := 0; n < len(seed); n += 97 {
			res, err := x.Extract(context.Background(), &Input{Data: seed[:n], Type: typeHWP})
			checkOutcome(t, seed[:n], res, err)
		}
		for i := 512; i < len(seed); i += 61 {
			data := bytes.Clone(seed)
			data[i] ^= 0xA5
			res, err := x.Extract(context.Background(), &Input{Data: data, Type: typeHWP})
			checkOutcome(t, data, res, err)
		}
	}
}

func FuzzHWP(f *testing.F) {
	addSeeds(f, "formats/hwp/udhr-korean.hwp", "formats/hwp/plain.hwp", "formats/hwp/encrypted.hwp")
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, typeHWP, data) })
}

// TestHWPDetect names HWP 5 by its streams, with or without its summary.
func TestHWPDetect(t *testing.T) {
	t.Parallel()
	for _, root := range []*testdocs.CFBNode{
		testdocs.CFBStorage("Root Entry", testdocs.CFBStream("FileHeader", []byte(hwpSignature)), testdocs.CFBStorage("BodyText")),
		testdocs.CFBStorage("Root Entry", testdocs.CFBStream("FileHeader", []byte(hwpSignature)), testdocs.CFBStorage("ViewText")),
		testdocs.CFBStorage("Root Entry", testdocs.CFBStream("FileHeader", []byte(hwpSignature)), testdocs.CFBStream("\x05HwpSummaryInformation", nil)),
	} {
		require.Equal(t, typeHWP, Detect("", testdocs.CFB(root)))
	}
	require.Equal(t, typeOLE, cfbKind(testdocs.CFB(testdocs.CFBStorage("Root Entry", testdocs.CFBStream("FileHeader", nil)))))
}
