package extract

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/unicode"
)

func TestTextPlain(t *testing.T) {
	res := mustExtract(t, "text/sotu-1932-hoover.txt")
	assert.Equal(t, typeText, res.Type)
	assert.True(t, strings.HasPrefix(res.Text, "To the Senate and House of Representatives: In accord with my constitutional duty"))
	assert.Contains(t, res.Text, "Our country is at peace.")
	assert.Nil(t, res.Pages)
}

func TestTextJSON(t *testing.T) {
	res := mustExtract(t, "text/sotu-1790-washington.json")
	assert.Equal(t, typeJSON, res.Type)
	lines := strings.Split(res.Text, "\n")
	require.GreaterOrEqual(t, len(lines), 4)
	// Values in document order, keys left out.
	assert.Equal(t, []string{"1790", "George Washington", "none"}, lines[:3])
	assert.True(t, strings.HasPrefix(lines[3], "Fellow-Citizens of the Senate and House of Representatives: In meeting you again"))
	assert.NotContains(t, res.Text, "president")
	assert.Empty(t, res.Warnings)
}

func TestTextJSONInvalidKeptAsText(t *testing.T) {
	x := New(Config{})
	res, err := x.Extract(context.Background(), &Input{Name: "broken.json", Data: []byte(`{"name": "George Washington", "party": `)})
	require.NoError(t, err)
	assert.Contains(t, res.Text, `"name": "George Washington"`)
	require.Len(t, res.Warnings, 1)
	assert.Contains(t, res.Warnings[0], "invalid JSON")
}

func TestTextCSV(t *testing.T) {
	res := mustExtract(t, "text/sotu-index.csv")
	assert.Equal(t, typeCSV, res.Type)
	lines := strings.Split(res.Text, "\n")
	assert.Equal(t, "year\tpresident\tparty\twords", lines[0])
	assert.Equal(t, "1790\tGeorge Washington\tnone\t1401", lines[1])
	assert.Contains(t, res.Text, "1861\tAbraham Lincoln\tRepublican\t")
	assert.Equal(t, "234", res.Meta["rows"])
}

func TestTextCSVQuoted(t *testing.T) {
	x := New(Config{})
	res, err := x.Extract(context.Background(), &Input{Name: "q.csv", Data: []byte("party,note\r\n\"Whig & Democratic\",\"two\nlines, one field\"\r\n")})
	require.NoError(t, err)
	assert.Equal(t, "party\tnote\nWhig & Democratic\ttwo lines, one field", res.Text)
}

func TestTextMarkdown(t *testing.T) {
	res := mustExtract(t, "text/stdlib-sotu-readme.md")
	assert.Equal(t, typeMarkdown, res.Type)
	assert.Equal(t, "State of the Union Addresses", res.Title)
	assert.Contains(t, res.Text, "The [State of the Union][sotu] address is an annual speech given by the President")
}

// Legacy charsets are recognised and decoded to UTF-8.
func TestTextLegacyCharsets(t *testing.T) {
	res := mustExtract(t, "text/udhr-fra.cp1252.txt")
	assert.Contains(t, res.Text, "Tous les êtres humains naissent libres et égaux en dignité et en droits.")
	assert.Contains(t, res.Text, "Déclaration universelle des droits de l’homme")
	assert.Equal(t, "windows-1252", res.Meta["charset"])

	res = mustExtract(t, "text/udhr-rus.cp1251.txt")
	assert.Contains(t, res.Text, "Все люди рождаются свободными и равными в своем достоинстве и правах.")
	assert.Equal(t, "windows-1251", res.Meta["charset"])
}

func TestTextUTF16(t *testing.T) {
	plain := testdataFile(t, "text/sotu-1932-hoover.txt")
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(plain)
	require.NoError(t, err)
	x := New(Config{})
	res, err := x.Extract(context.Background(), &Input{Name: "hoover.txt", Data: utf16})
	require.NoError(t, err)
	assert.Equal(t, typeText, res.Type)
	assert.Equal(t, strings.TrimSpace(string(plain)), strings.TrimSpace(res.Text))
}

// A stray invalid byte in UTF-8 text costs that byte, not the charset of
// the whole text; line ends are normalised.
func TestTextInvalidBytes(t *testing.T) {
	data := []byte("Déclaration universelle\r\ndes droits \xff de l’homme\r\n")
	x := New(Config{})
	res, err := x.Extract(context.Background(), &Input{Name: "d.txt", Data: data})
	require.NoError(t, err)
	assert.Equal(t, "Déclaration universelle\ndes droits \uFFFD de l’homme\n", res.Text)
}

// Source code and manual pages read as text, each named by its type.
func TestTextSourceCode(t *testing.T) {
	t.Parallel()
	checkFormatCases(t, []formatCase{
		{file: "text/greeting.php", typ: "text/x-php", has: []string{"<?php\n// Greets a visitor", `return "Welcome to Quire, "`}},
		{file: "text/wordcount.c", typ: "text/x-c", has: []string{"/* wordcount: counts the words of standard input", `printf("%d words\n", words);`}},
		{file: "text/sotu_words.py", typ: "text/x-python", has: []string{`"""Print the longest State of the Union addresses by word count."""`}},
		{file: "text/backup.sh", typ: "text/x-shellscript", has: []string{"# Copies Quire's embedded database aside before an upgrade."}},
		{file: "text/quire.1", typ: "text/troff", has: []string{"quire \\- process large volumes of documents without losing any"}},
	})
}
