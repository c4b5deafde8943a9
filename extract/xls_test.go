package extract

import (
	"context"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestXLS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sheets string
		lines  [][]string // whole lines of each sheet
		prefix []string   // each sheet's start
	}{
		{
			// The same workbook as office/sotu.xlsx, read the same.
			name:   "sotu.xls",
			sheets: "Addresses\nPresidents\nParties",
			lines: [][]string{
				{"year\tpresident\tparty\twords", "1790\tGeorge Washington\tnone\t1401", "1861\tAbraham Lincoln\tRepublican\t6976"},
				{"George Washington\tnone\t1790\t1796\t7\t15523"},
			},
			prefix: []string{"", "", "party\taddresses\nRepublican\t92\nDemocratic\t90"},
		},
		{
			name:   "numbers.xls",
			sheets: "Numbers\nÜnïcödé – 世界\nLong",
			lines: [][]string{
				{
					// Numbers exact: no exponent, no rounding.
					"big integer\t123456789012345",
					"small integer\t42",
					"negative\t-7",
					"float\t3.14159",
					"tenth\t0.1",
					"cents\t1234.56",
					"percent\t0.25",
					// Dates and times by their cell's number format.
					"date\t1948-12-10",
					"date and time\t2024-02-29 14:30:00",
					"time\t08:15:30",
					// Formulas by their cached results.
					"formula number\t84",
					"formula boolean\tTRUE",
					"formula error\t#DIV/0!",
					// Rich text is text; empty cells keep their columns.
					"rich text\tplain bold plain",
					"gap\t\t\tafter two empty cells",
				},
				{"Déclaration universelle des droits de l’homme\t世界人权宣言", "Всеобщая декларация прав человека\tASCII only"},
				// A shared string table over many CONTINUE records, and a
				// string longer than a record.
				{"1\trow 1 of the long sheet: ünïcödé text", "500\trow 500 of the long sheet: ünïcödé text"},
			},
		},
		{
			// The 1904 date system.
			name:   "dates1904.xls",
			sheets: "Dates",
			lines:  [][]string{{"adopted\t1948-12-10", "leap day\t2024-02-29"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := mustExtract(t, "formats/legacy/"+tt.name)
			assert.Equal(t, typeXLS, res.Type)
			assert.Equal(t, tt.sheets, res.Meta["sheets"])
			require.Len(t, res.Pages, strings.Count(tt.sheets, "\n")+1)
			for i, want := range tt.lines {
				lines := strings.Split(res.Pages[i].Text, "\n")
				for _, l := range want {
					assert.Contains(t, lines, l, "sheet %d", i+1)
				}
			}
			for i, p := range tt.prefix {
				assert.True(t, strings.HasPrefix(res.Pages[i].Text, p), "sheet %d starts %q", i+1, truncate(res.Pages[i].Text, 80))
			}
		})
	}
}

// An .xls reads as its .xlsx does.
func TestXLSMatchesXLSX(t *testing.T) {
	t.Parallel()
	xls := mustExtract(t, "formats/legacy/sotu.xls")
	xlsx := mustExtract(t, "office/sotu.xlsx")
	assert.Equal(t, xlsx.Meta["sheets"], xls.Meta["sheets"])
	assert.Equal(t, xlsx.Text, xls.Text)
	assert.Equal(t, xlsx.Title, xls.Title)
	assert.Equal(t, xlsx.Author, xls.Author)
}

func TestXLSLong(t *testing.T) {
	t.Parallel()
	res := mustExtract(t, "formats/legacy/numbers.xls")
	long := res.Pages[2].Text
	assert.Equal(t, 501, strings.Count(long, "\n")+1)
	assert.True(t, strings.HasSuffix(long, "long0599 long0600 end of the long string — ✓"))
}

func TestXLSEncrypted(t *testing.T) {
	t.Parallel()
	_, err := extractTestdata(t, Limits{}, "formats/legacy/encrypted.xls")
	require.ErrorIs(t, err, ErrEncrypted)
	assert.Contains(t, err.Error(), "Excel")
}

func TestXLSCorrupt(t *testing.T) {
	t.Parallel()
	data := legacyFile(t, "sotu.xls")
	for _, n := range []int{100, 600, 4096, len(data) / 2, len(data) - 600} {
		_, err := extractLegacy(t, Limits{}, "sotu.xls", data[:n])
		if err != nil {
			assert.True(t, classified(err), "%d: %v", n, err)
		}
	}
}

func TestXLSLimits(t *testing.T) {
	t.Parallel()
	_, err := extractLegacy(t, Limits{MaxPages: 2}, "sotu.xls", legacyFile(t, "sotu.xls"))
	le := requireLimit(t, err, "pages")
	assert.Equal(t, int64(3), le.Got)

	res, err := extractLegacy(t, Limits{MaxText: 2000}, "numbers.xls", legacyFile(t, "numbers.xls"))
	require.NoError(t, err)
	assert.True(t, res.Truncated)
	assert.LessOrEqual(t, len(res.Text), 2000+len(res.Pages))
	assert.True(t, strings.HasPrefix(res.Text, "kind\tvalue\nbig integer\t123456789012345\n"))
}

// biffRecord returns one BIFF record.
func biffRecord(typ uint16, data []byte) []byte {
	out := binary.LittleEndian.AppendUint16(nil, typ)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(data)))
	return append(out, data...)
}

// Shared strings run on across CONTINUE records: characters change width
// at a record's start, rich text runs and phonetic blocks are skipped
// wherever they fall.
func TestXLSSharedStrings(t *testing.T) {
	t.Parallel()
	le := binary.LittleEndian
	var sst []byte
	sst = le.AppendUint32(sst, 4)
	sst = le.AppendUint32(sst, 4)
	// 1: "abc", 8-bit.
	sst = append(sst, 3, 0, 0, 'a', 'b', 'c')
	// 2: "déjà" in UTF-16, rich (2 runs) and phonetic (6 bytes).
	sst = append(sst, 4, 0, 0x0D)
	sst = le.AppendUint16(sst, 2)
	sst = le.AppendUint32(sst, 6)
	for _, c := range "dé" {
		sst = le.AppendUint16(sst, uint16(c))
	}
	// The record ends here: the rest of string 2 is in a CONTINUE,
	// 8-bit this time, then its runs, split again, and its phonetic block.
	cont1 := []byte{0x00, 'j', 0xE0}
	cont1 = append(cont1, 1, 0, 2, 0, 3, 0) // half of the runs
	cont2 := []byte{4, 0, 1, 2, 3, 4, 5, 6}
	// 3: "世界" in UTF-16; 4: an empty string.
	cont2 = append(cont2, 2, 0, 1)
	for _, c := range "世界" {
		cont2 = le.AppendUint16(cont2, uint16(c))
	}
	cont2 = append(cont2, 0, 0, 0)
	x := &xlsBook{}
	x.readSST([][]byte{sst, cont1, cont2})
	require.Len(t, x.sstOff, 5)
	for i, want := range []string{"abc", "déjà", "世界", ""} {
		assert.Equal(t, want, string(x.sstString(uint32(i))), i)
	}
	assert.Nil(t, x.sstString(4))
	assert.Nil(t, x.sstString(math.MaxUint32))
}

// A formula's string result is in the STRING record after it; cells out
// of order are put in order.
func TestXLSSheetRecords(t *testing.T) {
	t.Parallel()
	le := binary.LittleEndian
	cell := func(row, col uint16) []byte {
		b := le.AppendUint16(nil, row)
		b = le.AppendUint16(b, col)
		return le.AppendUint16(b, 0)
	}
	var s []byte
	s = append(s, biffRecord(biffBOF, []byte{0, 6, 0x10, 0})...)
	formula := append(cell(1, 0), 0, 0, 0, 0, 0, 0, 0xFF, 0xFF)
	s = append(s, biffRecord(biffFORMULA, append(formula, make([]byte, 8)...))...)
	s = append(s, biffRecord(biffSTRING, []byte{5, 0, 0, 'T', 'o', 't', 'a', 'l'})...)
	number := le.AppendUint64(cell(0, 1), math.Float64bits(1e15+1))
	s = append(s, biffRecord(biffNUMBER, number)...)
	label := append(cell(0, 0), 2, 0, 0, 'h', 'i')
	s = append(s, biffRecord(biffLABEL, label)...)
	minus := int32(-12345)
	rk := le.AppendUint32(cell(1, 1), uint32(minus<<2)|3) // -123.45
	s = append(s, biffRecord(biffRK, rk)...)
	s = append(s, biffRecord(biffEOF, nil)...)
	x := &xlsBook{data: s, biff8: true, isDate: map[uint16]int8{}}
	text, err := x.sheetText(context.Background(), xlsSheet{pos: 0}, newBudget(Limits{MaxText: -1}))
	require.NoError(t, err)
	assert.Equal(t, "hi\t1000000000000001\nTotal\t-123.45", text)
}

func TestExactNumbers(t *testing.T) {
	t.Parallel()
	tenth := 0.1
	tests := []struct {
		v    float64
		want string
	}{
		{123456789012345, "123456789012345"},
		{-9007199254740992, "-9007199254740992"},
		{1e20, "100000000000000000000"},
		{1e21, "1e+21"},
		{tenth + 2*tenth, "0.30000000000000004"},
		{1234.56, "1234.56"},
		{1e-7, "1e-07"},
		{math.Copysign(0, -1), "0"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(appendExactNumber(nil, tt.v)), tt.v)
	}
}

func TestExcelDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v        float64
		date1904 bool
		kind     int8
		want     string
	}{
		{1, false, dateDay, "1900-01-01"},
		{59, false, dateDay, "1900-02-28"},
		{60, false, dateDay, "1900-02-29"}, // Lotus's leap day
		{61, false, dateDay, "1900-03-01"},
		{17877, false, dateDay, "1948-12-10"},
		{16415, true, dateDay, "1948-12-10"},
		{45351.604166666664, false, dateBoth, "2024-02-29 14:30:00"},
		{29730.0 / 86400, false, dateTime, "08:15:30"},
		{1.5, false, dateTime, "1900-01-01 12:00:00"},
	}
	for _, tt := range tests {
		got, ok := excelDate(tt.v, tt.date1904, tt.kind)
		assert.True(t, ok)
		assert.Equal(t, tt.want, got, tt.v)
	}
	_, ok := excelDate(-1, false, dateDay)
	assert.False(t, ok)
	_, ok = excelDate(1e10, false, dateDay)
	assert.False(t, ok)
}

func TestFormatDateKind(t *testing.T) {
	t.Parallel()
	tests := map[string]int8{
		"General":                     dateNone,
		"0.00":                        dateNone,
		`#,##0" days"`:                dateNone,
		"0%":                          dateNone,
		"yyyy\\-mm\\-dd":              dateDay,
		"d/m/yyyy\\ hh:mm":            dateBoth,
		"hh:mm:ss":                    dateTime,
		"[h]:mm:ss":                   dateTime,
		"[$-409]mmmm d, yyyy;@":       dateDay,
		`[Red]"month"`:                dateNone,
		"mmm":                         dateDay,
		`"TRUE";"TRUE";"FALSE"`:       dateNone,
		"[$-F800]dddd, mmmm dd, yyyy": dateDay,
	}
	for f, want := range tests {
		assert.Equal(t, want, formatDateKind(f), f)
	}
}

// FuzzXLS feeds mutations of the Excel files to the Excel reader.
//
//	go test ./extract/ -run '^$' -fuzz FuzzXLS -fuzztime 30s
func FuzzXLS(f *testing.F) {
	addSeeds(f, "formats/legacy/dates1904.xls", "formats/legacy/encrypted.xls", "formats/legacy/sotu.xls")
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, typeXLS, data)
	})
}
