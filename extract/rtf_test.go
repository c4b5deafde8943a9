package extract

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRTF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		file    string
		title   string
		author  string
		created time.Time
		meta    map[string]string
		want    []string // passages, each on a line of the text or within one
		wantNot []string
	}{
		{
			name:    "LibreOffice",
			file:    "udhr-libreoffice.rtf",
			title:   "Universal Declaration of Human Rights",
			author:  "United Nations General Assembly",
			created: time.Date(1948, 12, 10, 0, 0, 0, 0, time.UTC),
			want: []string{
				"Universal Declaration of Human Rights\nPreamble\nWhereas recognition of the inherent dignity",
				"Article 30\nNothing in this Declaration may be interpreted",
				"French\tDéclaration universelle des droits de l’homme\tArticle premier",
				"Russian\tВсеобщая декларация прав человека\tСтатья 1",
				"Chinese, Mandarin (Simplified)\t世界人权宣言\t第一条",
				"Japanese\t『世界人権宣言』\t第１条",
				// The footnote, after the body.
				"Source: the udhr package\tMIT licence\n\nAdopted and proclaimed by General Assembly resolution 217 A (III) of 10 December 1948.",
			},
			wantNot: []string{"draft wording withdrawn", "Quire testdata generator", "Times New Roman", "Heading 1"},
		},
		{
			name:    "Word features",
			file:    "word-features.rtf",
			title:   "Quire RTF features",
			author:  "Ada Lovelace",
			created: time.Date(2024, 3, 15, 9, 30, 5, 0, time.UTC),
			meta: map[string]string{"subject": "A hand-written test document", "keywords": "rtf, quire, test",
				"company": "Quire", "comments": "Exercises the RTF reader", "modified": "2024-04-01T10:00:00Z"},
			want: []string{
				"Features of the RTF reader\nCafé crème brûlée naïve façade\n",
				"Russian: Привет, мир!\nPolish: Zażółć gęślą jaźń\nGreek: αλφα βήτα\n",
				"Punctuation: A—B–C • ‘single’ “double” non\u00a0breaking, optional and non-breaking\n",
				"Name\tValue\nSecond line of the paragraph\n",
				"\nVisible after hidden text.\nKept revision.\n",
				"\nQuire home page is a link.\n7 is a page number field.\n",
				"Here is a footnote mark.\n·\tFirst bullet item\nFruit\tPrice\nApple\t1.20\nPear\t0.95\n",
				"A picture: and the text goes on.\nBinary object: done.\nText inside a text box\n",
				"Escapes: {braces} and \\backslash\nThe end.\n\nThe footnote text of the features document.\n\nRunning header of every page\n\nConfidential footer line",
			},
			wantNot: []string{"hidden text must not", "removed by", "HYPERLINK", "PAGE", "Calibri", "Normal", "Charles Babbage",
				"0123456789", "504b03", "shapeType", "wordml", "Riched20", "Text inside a text box\nText inside"},
		},
		{
			name: "Unicode escapes",
			file: "unicode-escapes.rtf",
			want: []string{
				"Euro sign: €\nGreek: αβγ\nKorean with negative escapes: 한국어\n",
				"No fallback: 中文done\nTwo-byte fallback: 日本\n",
				"Scoped count: inner € outer € end\n",
				"Fallback as a control word: —and more\n",
				"Surrogate pair: 😀\n",
				"kept",
			},
			wantNot: []string{"?", "\uFFFD", "swallowed"},
		},
		{
			name:   "CJK code pages",
			file:   "cjk-codepages.rtf",
			title:  "世界人権宣言",
			author: "山田太郎",
			want: []string{
				"世界人権宣言\n第１条　すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。\n",
				"Katakana with a literal trail byte: アイウ\n日本語の既定フォント\n",
				"世界人权宣言\n세계 인권 선언\n世界人權宣言\nLatin: café\nВсеобщая декларация",
			},
			wantNot: []string{"\uFFFD"},
		},
		{
			name:  "Encapsulated HTML",
			file:  "outlook-html.rtf",
			title: "Quarterly numbers",
			want: []string{
				"Dear team,\nThe numbers for the third quarter are in: revenue grew by 12% and costs fell <3% at the café.\n",
				"Region\tSales\nNorth\t€1,200\n",
				"Kind regards,\nGrace",
			},
			wantNot: []string{"must not appear", "margin", "htmltag", "Arial", "<p>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustExtract(t, "formats/rtf/"+tt.file)
			assert.Equal(t, typeRTF, res.Type)
			assert.Equal(t, tt.title, res.Title)
			assert.Equal(t, tt.author, res.Author)
			assert.True(t, tt.created.Equal(res.Created), "created %v", res.Created)
			for k, v := range tt.meta {
				assert.Equal(t, v, res.Meta[k], k)
			}
			for _, w := range tt.want {
				assert.Contains(t, res.Text, w)
			}
			for _, w := range tt.wantNot {
				assert.NotContains(t, res.Text, w)
			}
			assert.False(t, res.Truncated)
		})
	}
}

func TestRTFDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
	}{
		{"plain", `{\rtf1\ansi hello}`},
		{"BOM and white space", "\xEF\xBB\xBF\r\n {\\rtf1 hello}"},
		{"raw 8-bit bytes", "{\\rtf1\\ansi caf\xe9 \x00\x01\x02\x03}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, typeRTF, Detect("", []byte(tt.data)))
			assert.Equal(t, typeRTF, Detect("letter.doc", []byte(tt.data)), "RTF saved as .doc, as Word lets users do")
		})
	}
	assert.NotEqual(t, typeRTF, Detect("a.rtf", []byte("no signature")))
}

// extractRTFString extracts an RTF document held in a string.
func extractRTFString(t testing.TB, lim Limits, s string) (*Result, error) {
	t.Helper()
	return New(Config{Limits: lim}).Extract(context.Background(), &Input{Name: "a.rtf", Data: []byte(s), Type: typeRTF})
}

func TestRTFSmall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, rtf, want string
	}{
		{"a parameter belongs to its word", `{\rtf1 a\par1 b}`, "a\nb"},
		{"backslash newline is a paragraph", "{\\rtf1 a\\\nb}", "a\nb"},
		{"source line breaks are not text", "{\\rtf1 a\r\nb\nc}", "abc"},
		{"text after the document is ignored", `{\rtf1 a}b`, "a"},
		{"unclosed groups end at the end", `{\rtf1 a{\b b{\i c`, "abc"},
		{"stray closing braces", `{\rtf1 a}}}}`, "a"},
		{"unknown starred destination", `{\rtf1 a{\*\unknown b{c}d}e}`, "ae"},
		{"known word starred", `{\rtf1 a{\*\par b}c}`, "ac"},
		{"bad hex escape", `{\rtf1 a\'zzb}`, "azzb"},
		{"truncated hex escape", `{\rtf1 a\'4`, "a4"},
		{"hex escape in UTF-8 code page", `{\rtf1\ansicpg65001 \'e2\'82\'ac}`, "€"},
		{"unknown code page is windows-1252", `{\rtf1\ansicpg77777 \'80}`, "€"},
		{"mac charset", `{\rtf1\mac \'8e}`, "é"},
		{"lone high surrogate", `{\rtf1\uc0 \u55357 a}`, "\uFFFDa"},
		{"lone low surrogate", `{\rtf1\uc0 \u56832 a}`, "\uFFFDa"},
		{"out of range unicode", `{\rtf1\uc0 \u99999999999999 a}`, "a"},
		{"plain resets hidden", `{\rtf1 {\v a\plain b}}`, "b"},
		{"hidden off", `{\rtf1 {\v a\v0 b}}`, "b"},
		{"title outside info is not metadata", `{\rtf1 {\title t}a}`, "a"},
		{"table rows", `{\rtf1 \trowd a\cell b\cell\row \trowd c\cell d\cell\row}`, "a\tb\nc\td"},
		{"blank paragraphs collapse", `{\rtf1 a\par\par\par\par b\par\par}`, "a\n\nb"},
		{"spaces before a break dropped", `{\rtf1 a   \par    b}`, "a\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := extractRTFString(t, Limits{}, tt.rtf)
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.Text)
		})
	}
}

func TestRTFTruncated(t *testing.T) {
	t.Parallel()
	lim := Limits{MaxText: 1000}
	for _, file := range []string{"udhr-libreoffice.rtf", "outlook-html.rtf", "word-features.rtf"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			lim := lim
			if file != "udhr-libreoffice.rtf" {
				lim.MaxText = 100
			}
			res, err := extractTestdata(t, lim, "formats/rtf/"+file)
			require.NoError(t, err)
			assert.True(t, res.Truncated)
			assert.LessOrEqual(t, int64(len(res.Text)), lim.MaxText)
			assert.NotEmpty(t, res.Text)
		})
	}
	res, err := extractTestdata(t, lim, "formats/rtf/udhr-libreoffice.rtf")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(res.Text, "Universal Declaration of Human Rights\nPreamble\nWhereas"))
}

// TestRTFHostile feeds inputs built to make a parser recurse, allocate or
// loop: each ends quickly, within the limits.
func TestRTFHostile(t *testing.T) {
	t.Parallel()
	big := func(prefix, unit string, n int, suffix string) string {
		return prefix + strings.Repeat(unit, n) + suffix
	}
	tests := []struct {
		name string
		rtf  string
		want string // a passage the text must hold
	}{
		{"deep nesting", big(`{\rtf1 `, "{", 2_000_000, "deep") + strings.Repeat("}", 2_000_000) + " after}", "deep"},
		{"deep nesting never closed", big(`{\rtf1 a`, "{", 3_000_000, "b"), "ab"},
		{"deep nesting in a skipped group", big(`{\rtf1 a{\*\x `, "{", 2_000_000, "") + strings.Repeat("}", 2_000_001) + "b}", "ab"},
		{"state changes past the depth limit", big(`{\rtf1 a`, "{", 5000, `\v hidden`) + strings.Repeat("}", 5000) + " b}", "a"},
		{"huge bin length", `{\rtf1 a\bin999999999999999999999 b}`, "a"},
		{"negative bin length", `{\rtf1 a\bin-5 b}`, "ab"},
		{"huge bin in a skipped group", `{\rtf1 a{\pict\bin99999999999 }b}`, "a"},
		{"huge uc", big(`{\rtf1 \uc2147483647 `, `\u8364 abc`, 10000, "}"), "€"},
		{"negative uc", `{\rtf1\uc-5 \u8364?x}`, "€?x"},
		{"huge parameters", `{\rtf1\f99999999999999999999 \fcharset-99999999999 \ansicpg99999999999 a}`, "a"},
		{"many fonts", `{\rtf1` + manyFonts(20000) + `\f100 \'cf\f19999 \'cf}`, "ПÏ"},
		{"long control word", big(`{\rtf1 \`, "a", 1_000_000, " b}"), "b"},
		{"long digits", big(`{\rtf1 \u`, "9", 1_000_000, " ab}"), "b"},
		{"many hex bytes in a DBCS code page", big(`{\rtf1\ansicpg932 `, `\'83`, 100_000, "}"), ""},
		{"many info fields", big(`{\rtf1{\info`, `{\title t}{\author a}`, 10000, "}x}"), "x"},
		{"encapsulated HTML unclosed", big(`{\rtf1\fromhtml1 `, `{\*\htmltag <div>}`, 100000, "text"), "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			res, err := extractRTFString(t, Limits{MaxText: 1 << 20, Timeout: 30 * time.Second}, tt.rtf)
			require.NoError(t, err)
			assert.Contains(t, res.Text, tt.want)
			assert.Less(t, time.Since(start), 10*time.Second)
		})
	}
}

func manyFonts(n int) string {
	var sb strings.Builder
	sb.WriteString(`{\fonttbl`)
	for i := range n {
		sb.WriteString(`{\f` + strconv.Itoa(i) + `\fcharset204 F;}`)
	}
	sb.WriteString("}")
	return sb.String()
}

// TestRTFLarge reads a document of tens of megabytes, mostly pictures, as
// a stream: quickly, and without holding it as tokens.
func TestRTFLarge(t *testing.T) {
	t.Parallel()
	var sb bytes.Buffer
	sb.WriteString(`{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}`)
	pict := strings.Repeat("0123456789abcdef", 4096)
	for i := range 500 {
		sb.WriteString(`{\pict\pngblip `)
		sb.WriteString(pict)
		sb.WriteString(`}Paragraph number `)
		sb.WriteString(strconv.Itoa(i))
		sb.WriteString(`\par `)
	}
	sb.WriteString("}")
	start := time.Now()
	res, err := New(Config{}).Extract(context.Background(), &Input{Name: "big.rtf", Data: sb.Bytes()})
	require.NoError(t, err)
	assert.Contains(t, res.Text, "Paragraph number 0\nParagraph number 1\n")
	assert.Contains(t, res.Text, "Paragraph number 499")
	assert.Less(t, len(res.Text), 20_000)
	t.Logf("%d MB in %v", sb.Len()>>20, time.Since(start))
}

func FuzzRTF(f *testing.F) {
	addSeeds(f, "formats/rtf/word-features.rtf", "formats/rtf/unicode-escapes.rtf",
		"formats/rtf/cjk-codepages.rtf", "formats/rtf/outlook-html.rtf")
	f.Add([]byte(`{\rtf1{\*\htmltag<p>}\uc2\u-5\'8`))
	f.Add([]byte(`{\rtf1\ansicpg936{\fonttbl{\f1\fcharset134 x;}}\f1\'b0\'a1{\info{\creatim\yr2000\mo2\dy30}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, typeRTF, data)
	})
}
