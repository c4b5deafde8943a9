package extract

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestXLSX(t *testing.T) {
	res := mustExtract(t, "office/sotu.xlsx")
	assert.Equal(t, typeXLSX, res.Type)
	assert.Equal(t, "State of the Union addresses", res.Title)
	assert.Equal(t, "stdlib datasets-sotu", res.Author)
	assert.True(t, time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC).Equal(res.Created), res.Created)
	assert.Equal(t, "Addresses\nPresidents\nParties", res.Meta["sheets"])
	require.Len(t, res.Pages, 3)

	addresses := strings.Split(res.Pages[0].Text, "\n")
	require.Len(t, addresses, 234)
	assert.Equal(t, "year\tpresident\tparty\twords", addresses[0])
	assert.Equal(t, "1790\tGeorge Washington\tnone\t1401", addresses[1])
	assert.Contains(t, addresses, "1861\tAbraham Lincoln\tRepublican\t6976")

	assert.Contains(t, strings.Split(res.Pages[1].Text, "\n"), "George Washington\tnone\t1790\t1796\t7\t15523")
	assert.True(t, strings.HasPrefix(res.Pages[2].Text, "party\taddresses\nRepublican\t92\nDemocratic\t90"))
	assert.Equal(t, 2, strings.Count(res.Text, "\f"))
}

func TestXLSXLimits(t *testing.T) {
	_, err := extractTestdata(t, Limits{MaxPages: 2}, "office/sotu.xlsx")
	le := requireLimit(t, err, "pages")
	assert.Equal(t, int64(3), le.Got)

	_, err = extractTestdata(t, Limits{MaxDecompressed: 32 << 10}, "office/sotu.xlsx")
	requireLimit(t, err, "decompressed size")
}

func TestXLSXEncrypted(t *testing.T) {
	_, err := extractTestdata(t, Limits{}, "office/encrypted.xlsx")
	require.ErrorIs(t, err, ErrEncrypted)
}
