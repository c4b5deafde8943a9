package jobs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"default", "a", "ocr.high-priority_2", strings.Repeat("q", 100)} {
		require.NoError(t, ValidateQueueName(name), name)
	}
	for _, name := range []string{"", strings.Repeat("q", 101), "a b", "{tag}", "a:b", "é", "a\n"} {
		require.Error(t, ValidateQueueName(name), name)
	}
	for _, typ := range []string{"extract", "pipeline:ocr/page.v2-x_y", strings.Repeat("t", 200)} {
		require.True(t, validJobType(typ), typ)
	}
	for _, typ := range []string{"", strings.Repeat("t", 201), "a b", "a{b}", "ü", "a\x00"} {
		require.False(t, validJobType(typ), typ)
	}
}
