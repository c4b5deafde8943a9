package extract

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEmlx(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "formats", "emlx", "1001.emlx"))
	require.NoError(t, err)
	for _, name := range []string{"1001.emlx", "", "1001.txt"} {
		require.Equal(t, typeEmlx, Detect(name, data), name)
	}
	x := New(Config{})
	t.Cleanup(func() { _ = x.Close() })
	res, err := x.Extract(context.Background(), &Input{Name: "1001.emlx", Data: data})
	require.NoError(t, err)
	require.Equal(t, typeEmlx, res.Type)
	require.Equal(t, "Re: New Sequences Window", res.Title)
	require.Equal(t, "Robert Elz", res.Author)
	require.Equal(t, "read, flagged", res.Meta["flags"])
	require.Contains(t, res.Text, "For me it is very repeatable")
	require.NotContains(t, res.Text, "plist")
	require.Empty(t, res.Warnings)

	// Cut short: the message that is there is read, with a warning.
	msg := []byte("From: a@example.org\nSubject: Cut\nDate: Thu, 22 Aug 2002 18:26:25 +0700\n\nThe body.\n")
	cut := append([]byte(strconv.Itoa(len(msg)+100)+"\n"), msg...)
	require.Equal(t, typeEmlx, Detect("", cut))
	res, err = x.Extract(context.Background(), &Input{Data: cut})
	require.NoError(t, err)
	require.Contains(t, res.Text, "The body.")
	require.Len(t, res.Warnings, 1)
	require.Contains(t, res.Warnings[0], "cut short")

	// A number then prose is text, not a message.
	require.Equal(t, typeText, Detect("", []byte("42\nThe answer: to everything.\n")))
	require.NotEqual(t, typeEmlx, Detect("", []byte("12345678901\nFrom: a@example.org\nSubject: x\n\nbody\n")))
}

func FuzzEmlx(f *testing.F) {
	addSeeds(f, "formats/emlx/1001.emlx")
	f.Add([]byte("5\nFrom: a\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkExtract(t, typeEmlx, data) })
}
