package extract

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata/pdf-fidelity: annotations, form fields and encryption with an
// empty user password (gen.go, gen.sh).

func extractFidelityPDF(t *testing.T, name string) (*Result, error) {
	t.Helper()
	return pdfTestExtractor(t).Extract(context.Background(), &Input{Name: name, Data: testdataFile(t, "pdf-fidelity/"+name), Type: "application/pdf"})
}

func TestPDFAnnotations(t *testing.T) {
	t.Parallel()
	res, err := extractFidelityPDF(t, "annotated.pdf")
	require.NoError(t, err)
	require.Len(t, res.Pages, 1)
	text := res.Pages[0].Text
	// The page's own text first, then its annotations and fields.
	assert.True(t, strings.HasPrefix(text, "Article 1 of the Universal Declaration of Human Rights"), text)
	for _, want := range []string{
		"Sticky note: Eleanor Roosevelt chaired the drafting committee.",
		"Text box annotation: adopted in Paris on 10 December 1948.",
		"Highlight comment: the first sentence of Article 1.",
		"applicant: Rene Cassin",
		"adopted: Yes",
	} {
		assert.Contains(t, text, want)
	}
	// The popup repeats its note; a check box that is off and a link have
	// nothing to read.
	assert.Equal(t, 1, strings.Count(text, "Sticky note"))
	assert.NotContains(t, text, "rejected")
	assert.NotContains(t, text, "Link")
}

func TestPDFEmptyUserPassword(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"empty-user-aes256.pdf", "empty-user-aes256-r5.pdf", "empty-user-aes128.pdf", "empty-user-rc4-40.pdf"} {
		res, err := extractFidelityPDF(t, name)
		if assert.NoError(t, err, name) {
			assert.Contains(t, res.Text, "All human beings are born free", name)
			assert.Contains(t, res.Text, "applicant: Rene Cassin", name)
		}
	}
	_, err := extractFidelityPDF(t, "user-password.pdf")
	require.ErrorIs(t, err, ErrEncrypted)
}
