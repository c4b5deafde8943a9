package ml

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// sampleCollapsed is what sample returned before it returned a prefix of
// the text: the first n characters of its words, separated by single
// spaces.
func sampleCollapsed(text string, n int) string {
	var b strings.Builder
	chars := 0
	for w := range strings.FieldsSeq(text) {
		k := utf8.RuneCountInString(w)
		if chars > 0 {
			if chars+1+k > n {
				break
			}
			b.WriteByte(' ')
			chars++
		}
		if k > n-chars {
			for _, r := range w {
				if chars == n {
					break
				}
				b.WriteRune(r)
				chars++
			}
			break
		}
		b.WriteString(w)
		chars += k
	}
	return b.String()
}

func TestSample(t *testing.T) {
	t.Parallel()
	texts := []string{
		"", "   ", "one", "  one two\tthree\n\nfour  ", "Größe über alles",
		"averyveryverylongword and more", "a bb ccc dddd eeeee", "语言 识别 测试 一二三四五",
	}
	for _, text := range texts {
		for n := 1; n <= 30; n++ {
			got := sample(text, n)
			require.True(t, strings.HasPrefix(text, got))
			require.Equal(t, sampleCollapsed(text, n), strings.Join(strings.Fields(got), " "), "%q, %d", text, n)
		}
	}
}
