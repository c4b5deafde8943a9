package extract

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmailPlain(t *testing.T) {
	res := mustExtract(t, "email/spamassassin-easy-ham-1-00001.eml")
	assert.Equal(t, typeEmail, res.Type)
	assert.Equal(t, "Re: New Sequences Window", res.Title)
	assert.Equal(t, "Robert Elz", res.Author)
	assert.True(t, time.Date(2002, 8, 22, 11, 26, 25, 0, time.UTC).Equal(res.Created), res.Created)
	assert.Equal(t, map[string]string{
		"from":       "Robert Elz <kre@munnari.OZ.AU>",
		"to":         "Chris Garrigues <cwg-dated-1030377287.06fa6d@DeepEddy.Com>",
		"cc":         "exmh-workers@spamassassin.taint.org",
		"subject":    "Re: New Sequences Window",
		"date":       "Thu, 22 Aug 2002 18:26:25 +0700",
		"message-id": "<13258.1030015585@munnari.OZ.AU>",
	}, res.Meta)
	assert.Contains(t, res.Text, "| I can't reproduce this error.")
	assert.Contains(t, res.Text, "For me it is very repeatable... (like every time, without fail).")
	// Headers are metadata, not text.
	assert.NotContains(t, res.Text, "Return-Path:")
	assert.Empty(t, res.Children)
}

func TestEmailAttachment(t *testing.T) {
	res := mustExtract(t, "email/spamassassin-easy-ham-1-00775.eml")
	assert.Equal(t, "Liberalism in America", res.Title)
	assert.Equal(t, "Geege Schuman", res.Author)
	assert.Contains(t, res.Text, `"American liberalism believes that in this respect it has made a major`)
	assert.NotContains(t, res.Text, "InternetShortcut", "the attachment is a child, not body text")
	require.Len(t, res.Children, 1)
	c := res.Children[0]
	assert.Equal(t, "Liberalism in America.url", c.Name)
	assert.Equal(t, "application/octet-stream", c.Type)
	assert.Contains(t, string(c.Data), "[InternetShortcut]\nURL=http://www.english.upenn.edu/~afilreis/50s/schleslib.html")
}

func TestEmailTextAttachments(t *testing.T) {
	res := mustExtract(t, "email/spamassassin-easy-ham-2-01248.eml")
	assert.Equal(t, "when building a rpm i386-redhat-linux- is appended to man page", res.Title)
	assert.Contains(t, res.Text, "rpm -ta on the package (pam_ssh), in the %makeinstall phase, I get")
	require.Len(t, res.Children, 2)
	assert.Equal(t, "Makefile.am", res.Children[0].Name)
	assert.Equal(t, "pam_ssh.spec", res.Children[1].Name)
	for _, c := range res.Children {
		assert.Equal(t, "text/plain", c.Type)
		assert.NotEmpty(t, c.Data)
	}
	assert.NotContains(t, res.Text, "Makefile.am:")

	// A child is a document of its own.
	x := New(Config{})
	child, err := x.Extract(context.Background(), &Input{Name: res.Children[1].Name, Type: res.Children[1].Type, Data: res.Children[1].Data})
	require.NoError(t, err)
	assert.Contains(t, child.Text, "pam_ssh")
}

func TestEmailInlineImages(t *testing.T) {
	res := mustExtract(t, "email/spamassassin-hard-ham-1-00233.eml")
	assert.Contains(t, res.Text, "It is easy to enable the bytecode interpreter.")
	require.Len(t, res.Children, 2)
	names := []string{res.Children[0].Name, res.Children[1].Name}
	assert.ElementsMatch(t, []string{"no-bytecodes.png", "bytecodes.png"}, names)
	for _, c := range res.Children {
		assert.Equal(t, "image/png", c.Type)
		assert.True(t, bytes.HasPrefix(c.Data, []byte("\x89PNG\r\n\x1a\n")), c.Name)
	}
}

func TestEmailHTMLOnly(t *testing.T) {
	res := mustExtract(t, "email/spamassassin-spam-2-00414.eml")
	assert.Equal(t, "want to accept credit cards? 126432211", res.Title)
	// The HTML body read as the HTML extractor reads a page: comments
	// that split words vanish, blocks break lines.
	assert.Equal(t, "Accept Credit Cards - Everyone Approved\nNO CREDIT CHECKS\nDO IT NOW\n126432211", res.Text)
	assert.NotContains(t, res.Text, "<")
}

func TestEmailDeclaredCharset(t *testing.T) {
	res := mustExtract(t, "email/spamassassin-spam-2-00174.eml")
	assert.Equal(t, "Traderlist.com being shut down due to FRAUD!", res.Title)
	assert.True(t, strings.HasPrefix(res.Text, "Traderlist.com is a fraud and is sending out your e-mail to 3rd parties!!"))
}

// Chinese declared as ISO-8859-1 reads as runs of Latin-1 letters; the
// message is read again with charset detection.
func TestEmailMisdeclaredCharset(t *testing.T) {
	res := mustExtract(t, "email/spamassassin-spam-2-01106.eml")
	assert.Contains(t, res.Text, "中路通配件厂有多年生产VE泵头的经验")
	assert.Contains(t, res.Text, "we have been in the field of diesel fuel injection")
	assert.False(t, misdecoded(res.Text))
	assert.Contains(t, strings.Join(res.Warnings, "\n"), `declared charset "ISO-8859-1", detected "GB18030"`)
	// French in Latin-1 is not taken for a wrong declaration.
	assert.False(t, misdecoded("Déclaration universelle des droits de l’homme: « Tous les êtres humains naissent libres et égaux en dignité et en droits. »"))
}

// A text part that declares no charset is read as UTF-8 when it is UTF-8,
// and detected when it is not: here Latin-1 in a part and in a whole
// message, and UTF-8.
func TestEmailUndeclaredCharset(t *testing.T) {
	latin1 := "D\xe9claration universelle des droits de l'homme: \xab Tous les \xeatres humains naissent libres et \xe9gaux en dignit\xe9 et en droits. \xbb"
	want := "Déclaration universelle des droits de l'homme: « Tous les êtres humains naissent libres et égaux en dignité et en droits. »"
	for name, msg := range map[string]string{
		"multipart, Latin-1": "From: a@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=B\r\n\r\n" +
			"--B\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + latin1 + "\r\n--B--\r\n",
		"single part, Latin-1": "From: a@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n" + latin1 + "\r\n",
		"multipart, UTF-8": "From: a@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
			"--B\r\nContent-Type: text/plain; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + want + "\r\n--B--\r\n",
	} {
		res, err := extractEmail(context.Background(), nil, &Input{Data: []byte(msg)}, newBudget(Limits{}.WithDefaults()))
		require.NoError(t, err, name)
		assert.Equal(t, want, res.Text, name)
	}
}

// "Content-Type: TEXT/PLAIN charset=US-ASCII" (no semicolon) makes enmime
// file the body as an attachment; it is still the text.
func TestEmailMalformedContentType(t *testing.T) {
	res := mustExtract(t, "email/spamassassin-spam-2-00204.eml")
	assert.Contains(t, res.Text, "Ref.: Romanian Software Production & Export")
	assert.Empty(t, res.Children)
}

// A mailer that declared boundary "=Multipart Boundary ..." and wrote
// "--= Multipart Boundary ..." leaves enmime no part at all; the raw body
// is kept, with a warning.
func TestEmailUnusedBoundary(t *testing.T) {
	res := mustExtract(t, "email/spamassassin-spam-1-00467.eml")
	assert.Equal(t, "Printer Cartridges as low as $1.21 each!", res.Title)
	assert.Contains(t, res.Text, "are receiving this email because you opted-in to receive special offers from")
	assert.Contains(t, res.Warnings, "no MIME part uses the declared boundary; the raw body is kept as text")
}

// A message cut off inside an attachment keeps its body; enmime's
// complaints become warnings.
func TestEmailTruncated(t *testing.T) {
	data := testdataFile(t, "email/spamassassin-easy-ham-1-00775.eml")
	cut := data[:bytes.Index(data, []byte("[InternetShortcut]"))]
	res, err := New(Config{}).Extract(context.Background(), &Input{Name: "cut.eml", Data: cut})
	require.NoError(t, err)
	assert.Contains(t, res.Text, `"American liberalism believes`)
	require.NotEmpty(t, res.Warnings)
	assert.Contains(t, strings.Join(res.Warnings, "\n"), "not closed")
}

func TestEmailLimits(t *testing.T) {
	t.Run("children", func(t *testing.T) {
		_, err := extractTestdata(t, Limits{MaxChildren: 1}, "email/spamassassin-easy-ham-2-01248.eml")
		le := requireLimit(t, err, "children")
		assert.Equal(t, int64(1), le.Max)
		assert.Equal(t, int64(2), le.Got)
		_, err = extractTestdata(t, Limits{MaxChildren: 2}, "email/spamassassin-easy-ham-2-01248.eml")
		require.NoError(t, err)
	})
	t.Run("bytes", func(t *testing.T) {
		_, err := extractTestdata(t, Limits{MaxBytes: 1000}, "email/spamassassin-hard-ham-1-00233.eml")
		requireLimit(t, err, "bytes")
		// A part larger than MaxBytes (reached through the format itself:
		// a whole message is never smaller than its parts) is left out
		// with a warning; the text stays.
		in := &Input{Name: "m.eml", Type: typeEmail, Data: testdataFile(t, "email/spamassassin-hard-ham-1-00233.eml")}
		res, err := extractEmail(context.Background(), nil, in, newBudget(Limits{MaxBytes: 1000, MaxChildren: 10, MaxText: -1}))
		require.NoError(t, err)
		assert.Empty(t, res.Children)
		require.Len(t, res.Warnings, 2)
		assert.Contains(t, res.Warnings[0], "exceed the bytes limit of 1000")
		assert.Contains(t, res.Text, "It is easy to enable the bytecode interpreter.")
	})
	t.Run("nesting", func(t *testing.T) {
		// Multiparts nested one inside the next and never closed: enmime's
		// time doubles with each level, so deeper ones are refused.
		nest := func(levels int) []byte {
			var b strings.Builder
			b.WriteString("From: a@example.com\r\nSubject: nest\r\n")
			for i := range levels {
				fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
			}
			b.WriteString("Content-Type: text/plain\r\n\r\ndeep\r\n")
			return []byte(b.String())
		}
		x := New(Config{})
		start := time.Now()
		res, err := x.Extract(context.Background(), &Input{Name: "n.eml", Data: nest(maxNesting)})
		require.NoError(t, err)
		assert.Equal(t, "deep", res.Text)
		assert.Less(t, time.Since(start), 2*time.Second)
		_, err = x.Extract(context.Background(), &Input{Name: "n.eml", Data: nest(maxNesting + 1)})
		require.ErrorIs(t, err, ErrCorrupt)
		_, err = x.Extract(context.Background(), &Input{Name: "n.eml", Data: nest(100_000)})
		require.ErrorIs(t, err, ErrCorrupt)
	})
}

// The nesting estimate never undercounts: closed multiparts close, and
// nothing else does.
func TestMultipartDepth(t *testing.T) {
	for _, name := range []string{"spamassassin-easy-ham-1-00775.eml", "spamassassin-hard-ham-1-00233.eml", "spamassassin-easy-ham-2-01248.eml"} {
		assert.Equal(t, 1, multipartDepth(testdataFile(t, "email/"+name), 100), name)
	}
	closed := "Content-Type: multipart/mixed; boundary=\"out\"\n\n--out\nContent-Type: multipart/alternative; BOUNDARY = in\n\n--in\n\nx\n--in--\n--out\nContent-Type: multipart/related; boundary=in2\n\n--in2\n\ny\n--in2--\n--out--\n"
	assert.Equal(t, 2, multipartDepth([]byte(closed), 100))
	// A boundary declared anywhere but never used stays open, so a fake
	// one cannot hide real levels.
	fake := "X-Note: boundary=fake\nContent-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=b\n\n--b\n--fake--\n--fake\n"
	assert.Equal(t, 3, multipartDepth([]byte(fake), 100))
	// RFC 2231 continuations and empty values count and never close.
	assert.Equal(t, 2, multipartDepth([]byte("Content-Type: multipart/mixed; boundary*0=a; boundary=\"\"\n\n----\n--a--\n"), 100))
}

// TestEmailRicherAlternative: a plain-text alternative that only points to
// the HTML gives way to the HTML part, which carries the message; a plain
// text that says the same as its HTML is kept as it is.
func TestEmailRicherAlternative(t *testing.T) {
	t.Parallel()
	para := strings.Repeat("The quarterly figures are attached and the board meets on Thursday. ", 30)
	msg := func(plain, html string) []byte {
		return []byte("From: a@example.org\r\nTo: b@example.org\r\nSubject: Figures\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n" +
			"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + plain + "\r\n" +
			"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><h1>Figures</h1><p>" + html + "</p></body></html>\r\n--b--\r\n")
	}
	x := New(Config{})
	res, err := x.Extract(context.Background(), &Input{Name: "thin.eml", Data: msg("Your mail reader shows no HTML: read this message at https://example.org/m/1", para)})
	require.NoError(t, err)
	require.Contains(t, res.Text, "The quarterly figures are attached")
	require.Contains(t, res.Text, "Figures\n")

	res, err = x.Extract(context.Background(), &Input{Name: "same.eml", Data: msg(para, para)})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(res.Text, "The quarterly figures are attached"), "the plain text kept: %q", truncate(res.Text, 60))
	require.NotContains(t, res.Text, "Figures\n")
}
