package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestXLSBFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		title  string
		sheets string
		pages  []string // each page's text, exactly
	}{
		{file: "sotu.xlsb", title: "State of the Union addresses", sheets: "Addresses\nNotes → ünïcode",
			pages: []string{
				"Year\tPresident\tWords\tBig number\tDelivered\tShare\n" +
					// An RK integer, an inline string, doubles in full
					// (no 1.23456789012345E+14), a date in a built-in
					// format, an RK number times 100.
					"1790\tGeorge Washington\t1089\t123456789012345\t1900-02-09\t12.34\n" +
					// A formula's number, a date-time in the workbook's
					// own format, a Boolean.
					"1932\tHerbert Hoover\t2.5e-07\t-9007199254740992\t1931-12-08 12:00:00\tTRUE\n" +
					// A formula's string result in column B, an error.
					"\t=A2&\" total\"\t#DIV/0!",
				"Déclaration universelle des droits de l’homme\n\t\t\t人人生而自由，在尊严和权利上一律平等。",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			name := "formats/xlsb/" + tt.file
			require.Equal(t, typeXLSB, Detect("", testdataFile(t, name)), "by content, not as XLSX")
			res := mustExtract(t, name)
			require.Equal(t, typeXLSB, res.Type)
			require.Equal(t, tt.title, res.Title)
			require.Equal(t, "Quire test data", res.Author)
			require.Equal(t, tt.sheets, res.Meta["sheets"])
			require.Len(t, res.Pages, len(tt.pages))
			for i, want := range tt.pages {
				require.Equal(t, want, res.Pages[i].Text, "sheet %d", i+1)
			}
			require.Empty(t, res.Warnings)
		})
	}
}

// xlsbWithPart returns the test workbook with one part replaced.
func xlsbWithPart(t testing.TB, name string, data []byte) []byte {
	t.Helper()
	return withEntry(t, testdataFile(t, "formats/xlsb/sotu.xlsb"), name, string(data))
}

func TestXLSBHostile(t *testing.T) {
	t.Parallel()
	// A record declaring 256 MiB (the largest 4-byte length) in a part of
	// a few bytes.
	hugeRecord := []byte{0x07, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0}
	// A shared string declaring 2^32-2 UTF-16 units.
	hugeString := []byte{0x13, 0x09, 0x00, 0xFE, 0xFF, 0xFF, 0xFF, 'a', 0, 'b', 0}
	// A million cells in one record stream, past the text limit.
	var many bytes.Buffer
	for range 100000 {
		many.Write([]byte{0x06, 0x0E, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'x', 0})
	}
	// A bomb: the sheet part expands far past the decompression limit.
	var bomb bytes.Buffer
	zr, err := zip.NewReader(bytes.NewReader(testdataFile(t, "formats/xlsb/sotu.xlsb")), int64(len(testdataFile(t, "formats/xlsb/sotu.xlsb"))))
	require.NoError(t, err)
	zw := zip.NewWriter(&bomb)
	for _, f := range zr.File {
		if f.Name == "xl/worksheets/sheet1.bin" {
			w, err := zw.Create(f.Name)
			require.NoError(t, err)
			_, err = w.Write(make([]byte, 64<<20))
			require.NoError(t, err)
			continue
		}
		require.NoError(t, zw.Copy(f))
	}
	require.NoError(t, zw.Close())

	tests := []struct {
		name    string
		data    []byte
		lim     Limits
		corrupt bool
		limit   string
		check   func(t *testing.T, res *Result)
	}{
		{name: "workbook record past the end", data: xlsbWithPart(t, "xl/workbook.bin", hugeRecord), corrupt: true},
		{name: "shared string past the end", data: xlsbWithPart(t, "xl/sharedStrings.bin", hugeString),
			check: func(t *testing.T, res *Result) { require.Contains(t, res.Pages[0].Text, "George Washington") }},
		{name: "sheet record past the end", data: xlsbWithPart(t, "xl/worksheets/sheet1.bin", hugeRecord),
			check: func(t *testing.T, res *Result) { require.NotEmpty(t, res.Warnings) }},
		{name: "cells past the text limit", data: xlsbWithPart(t, "xl/worksheets/sheet1.bin", many.Bytes()), lim: Limits{MaxText: 1000},
			check: func(t *testing.T, res *Result) {
				require.True(t, res.Truncated)
				require.LessOrEqual(t, len(res.Text), 1000+len(res.Pages))
			}},
		{name: "decompression bomb", data: bomb.Bytes(), lim: Limits{MaxDecompressed: 8 << 20}, limit: "decompressed size"},
		{name: "more sheets than pages", data: testdataFile(t, "formats/xlsb/sotu.xlsb"), lim: Limits{MaxPages: 1}, limit: "pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := New(Config{Limits: tt.lim})
			res, err := x.Extract(context.Background(), &Input{Data: tt.data, Type: typeXLSB})
			switch {
			case tt.limit != "":
				requireLimit(t, err, tt.limit)
			case tt.corrupt:
				require.ErrorIs(t, err, ErrCorrupt)
			default:
				require.NoError(t, err)
				tt.check(t, res)
			}
		})
	}
}

func TestXLSBVarint(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		b       []byte
		max     int
		v, n    int
		comment string
	}{
		{b: []byte{0x07}, max: 2, v: 7, n: 1},
		{b: []byte{0x9C, 0x01}, max: 2, v: 156, n: 2},
		{b: []byte{0xE9, 0x04}, max: 2, v: 617, n: 2},
		{b: []byte{0xFF, 0xFF, 0x01}, max: 2, v: 0, n: 0, comment: "a type longer than two bytes"},
		{b: []byte{0x80}, max: 4, v: 0, n: 0, comment: "cut short"},
	} {
		v, n := xlsbVarint(tt.b, tt.max)
		require.Equal(t, tt.v, v, "% x %s", tt.b, tt.comment)
		require.Equal(t, tt.n, n, "% x %s", tt.b, tt.comment)
	}
}

func FuzzXLSB(f *testing.F) {
	addSeeds(f, "formats/xlsb/sotu.xlsb")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, typeXLSB, data)
		if strings.HasPrefix(string(data), "PK") {
			checkExtract(t, "", data)
		}
	})
}
