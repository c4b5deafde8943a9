package extract

import (
	"bytes"
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

// Strings in the clear and streams encrypted, or the other way round: each
// its own crypt filter, which PDFium does not support. The page text is
// read; the strings (annotations, form fields), which cannot be, are left
// out with a warning.
func TestPDFMixedCryptFilters(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"mixed-strings-clear.pdf", "mixed-streams-clear.pdf"} {
		res, err := extractFidelityPDF(t, name)
		if !assert.NoError(t, err, name) {
			continue
		}
		assert.Contains(t, res.Text, "Article 1 of the Universal Declaration of Human Rights", name)
		assert.Contains(t, res.Text, "All human beings are born free and equal in dignity and rights.", name)
		assert.NotContains(t, res.Text, "Rene Cassin", name)
		if assert.Len(t, res.Warnings, 1, name) {
			assert.Contains(t, res.Warnings[0], "different crypt filters", name)
		}
	}
}

func TestPDFOneCryptFilter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
	}{
		{"strings clear", "1 0 obj\n<< /Filter /Standard /V 4 /CF << /StdCF << /AuthEvent /DocOpen /CFM /AESV2 >> >> /StmF /StdCF /StrF /Identity /O (a\\)b(c)) >>\nendobj\ntrailer << /Encrypt 1 0 R >>",
			"<</Filter/Standard/V 4/CF<</StdCF<</AuthEvent/DocOpen/CFM/AESV2>>>>/O(a\\)b(c))/StmF/StdCF/StrF/StdCF>>"},
		{"streams clear, compact", "7 0 obj<</CF<</StdCF<</AuthEvent/DocOpen/CFM/AESV2/Length 16>>>>/Filter/Standard/Length 128/StmF/Identity/StrF/StdCF/V 4>>endobj trailer<</Encrypt 7 0 R>>",
			"<</CF<</StdCF<</CFM/AESV2/Length 16>>>>/Filter/Standard/Length 128/V 4/StmF/Identity/StrF/Identity>>"},
		{"direct, no StmF", "trailer\n<< /Encrypt << /V 4 /R 4 /Length 128 /StrF /StdCF /CF << /StdCF << /AuthEvent /DocOpen /CFM /V2 >> >> >> >>",
			"<</V 4/R 4/Length 128/CF<</StdCF<</CFM/V2>>>>/StmF/Identity/StrF/Identity>>"},
	} {
		out, ok := pdfOneCryptFilter([]byte(tc.in))
		if assert.True(t, ok, tc.name) {
			assert.Len(t, out, len(tc.in), tc.name)
			assert.Contains(t, string(out), tc.want, tc.name)
		}
	}
	for _, tc := range []struct{ name, in string }{
		{"one filter", "1 0 obj << /V 4 /StmF /StdCF /StrF /StdCF >> endobj trailer << /Encrypt 1 0 R >>"},
		{"version 2", "1 0 obj << /V 2 /StmF /StdCF /StrF /Identity >> endobj trailer << /Encrypt 1 0 R >>"},
		{"no room", "1 0 obj<</V 4/StmF/Identity/StrF/S>>endobj trailer<</Encrypt 1 0 R>>"},
		{"cut short", "1 0 obj<</V 4/StmF/StdCF/StrF/Identity/O(ab"},
		{"not encrypted", "1 0 obj<</V 4/StmF/StdCF/StrF/Identity>>endobj"},
	} {
		_, ok := pdfOneCryptFilter([]byte(tc.in))
		assert.False(t, ok, tc.name)
	}
}

// FuzzPDFOneCryptFilter: whatever the bytes, the rewriting keeps the
// file's length, and what it wrote needs no second rewriting.
func FuzzPDFOneCryptFilter(f *testing.F) {
	addSeeds(f, "pdf-fidelity/mixed-strings-clear.pdf", "pdf-fidelity/mixed-streams-clear.pdf", "pdf-fidelity/empty-user-aes128.pdf")
	f.Add([]byte("1 0 obj<</V 4/StmF/StdCF/StrF/Identity/O(a\\)b(c))>>endobj trailer<</Encrypt 1 0 R>>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(data)()
		out, ok := pdfOneCryptFilter(data)
		if !ok {
			return
		}
		if len(out) != len(data) {
			t.Fatalf("rewritten to %d bytes from %d", len(out), len(data))
		}
		if again, _ := pdfOneCryptFilter(out); again != nil && !bytes.Equal(again, out) {
			t.Fatalf("a second rewriting changed the first: %q", truncate(string(again), 300))
		}
	})
}
