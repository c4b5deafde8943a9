package ml_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/ml"
)

// udhrPreamble is the start of the English UDHR as extracted from its HTML:
// the preamble's clauses are paragraphs that end in commas.
const udhrPreamble = `Universal Declaration of Human Rights
Preamble
Whereas recognition of the inherent dignity and of the equal and inalienable rights of all members of the human family is the foundation of freedom, justice and peace in the world,
Whereas the peoples of the United Nations have in the Charter reaffirmed their faith in fundamental human rights, in the dignity and worth of the human person and in the equal rights of men and women and have determined to promote social progress and better standards of life in larger freedom,
Whereas a common understanding of these rights and freedoms is of the greatest importance for the full realization of this pledge,
Article 1
All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience and should act towards one another in a spirit of brotherhood.
Article 2
Everyone is entitled to all the rights and freedoms set forth in this Declaration, without distinction of any kind, such as race, colour, sex, language, religion, political or other opinion.
Article 3
Everyone has the right to life, liberty and security of person.
`

// TestSummarySentenceBoundaries: a summary is made of whole sentences, so
// that a clause ending in a comma never runs into the next sentence
// ("…in larger freedom, Everyone has…").
func TestSummarySentenceBoundaries(t *testing.T) {
	t.Parallel()
	tok := ml.NewTokenizer("en")
	sum := ml.Summary(udhrPreamble, tok, 3, 600)
	require.NotEmpty(t, sum)
	require.NotContains(t, sum, "Whereas")
	require.NotContains(t, sum, ", Everyone")
	for _, s := range strings.SplitAfter(sum, ". ") {
		s = strings.TrimSpace(s)
		require.True(t, strings.HasSuffix(s, "."), "%q of %q", s, sum)
		require.Contains(t, udhrPreamble, s)
	}

	// A text of clauses only: its summary shows where one ends.
	clauses := strings.Join(strings.Split(udhrPreamble, "\nArticle 1")[:1], "")
	sum = ml.Summary(clauses, tok, 2, 600)
	require.Contains(t, sum, ", … Whereas", sum)
}
