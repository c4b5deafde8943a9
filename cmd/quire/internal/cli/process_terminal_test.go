package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"
)

// runOnTerminal runs quire with its standard error on a pseudo-terminal, as
// a person at a terminal does, and returns what the terminal showed (line
// ends as written, without the terminal's added carriage returns).
func runOnTerminal(t *testing.T, b *testBundle, args ...string) (result, string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	t.Cleanup(func() { _ = ptmx.Close() })
	var shown bytes.Buffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		_, _ = io.Copy(&shown, ptmx) // until the terminal closes (EIO)
	}()
	r := b.runWith(t.Context(), t, &runOpts{tweak: func(d *deps) { d.stderr = tty }}, args...)
	require.NoError(t, tty.Close())
	<-read
	return r, strings.ReplaceAll(shown.String(), "\r\n", "\n")
}

// barLine matches the progress bar's drawing.
var barLine = regexp.MustCompile(`^\[[= ]{30}\] \d+/\d+\+? documents $`)

// TestProcessTerminal: on a terminal, quire process's progress bar is
// drawn in place and nothing else is written on its line: the log of the
// duplicates and failures goes to a file whose path is printed before and
// after; --verbose prints the log above the bar, each record on a line of
// its own.
func TestProcessTerminal(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	in := filepath.Join(t.TempDir(), "in")
	copyTestdata(t, in, "pdf/float.pdf", "pdf/encrypted.pdf", "html/udhr-eng.html", "office/udhr.docx")
	// Duplicates and a failure: each is logged.
	copyTestdata(t, filepath.Join(in, "again"), "pdf/float.pdf", "html/udhr-eng.html")

	r, shown := runOnTerminal(t, b, "process", in)
	require.Equal(t, exitError, r.code, "%s\n%s", r.stdout, shown)
	require.Contains(t, r.stdout, "4 documents from 6 files: 3 done, 1 failed, 2 duplicates")

	lines := strings.Split(strings.TrimSuffix(shown, "\n"), "\n")
	require.GreaterOrEqual(t, len(lines), 4, "%q", shown)
	require.Equal(t, "quire: 1 of 4 documents failed", lines[len(lines)-1])
	lines = lines[:len(lines)-1]
	first, last := lines[0], lines[len(lines)-1]
	require.Regexp(t, `^log: \S+/logs/process-\S+\.log \(--verbose prints it here\)$`, first)
	logPath := strings.Fields(strings.TrimPrefix(first, "log: "))[0]
	require.Equal(t, "log: "+logPath, last)
	// Between them, the bar and nothing else: one line redrawn in place,
	// ending at 4 of 4.
	var draws []string
	for _, l := range lines[1 : len(lines)-1] {
		for d := range strings.SplitSeq(strings.TrimPrefix(l, "\r"), "\r") {
			require.Regexp(t, barLine, d, "terminal: %q", shown)
			draws = append(draws, d)
		}
	}
	require.NotEmpty(t, draws)
	require.Contains(t, draws[len(draws)-1], "] 4/4 documents")
	require.Len(t, lines, 3, "the bar is one line: %q", shown)

	log, err := os.ReadFile(logPath)
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(string(log), "duplicate of a document already received"), "%s", log)
	require.Contains(t, string(log), "process: started")

	// --verbose: the log on the terminal, above the bar.
	copyTestdata(t, filepath.Join(in, "more"), "images/text.png")
	r, shown = runOnTerminal(t, b, "process", in, "--verbose")
	require.Equal(t, exitError, r.code, "%s\n%s", r.stdout, shown)
	require.NotContains(t, shown, "log: ")
	records := 0
	for l := range strings.SplitSeq(strings.TrimSuffix(shown, "\n"), "\n") {
		// A record wipes the bar's line first ("\r\033[K") when the bar
		// was drawn, and starts a line of its own.
		if i := strings.LastIndex(l, "\033[K"); i >= 0 {
			l = l[i+len("\033[K"):]
		}
		if strings.Contains(l, "msg=") {
			require.Regexp(t, `^time=`, l, "terminal: %q", shown)
			records++
		}
	}
	require.GreaterOrEqual(t, records, 6, "started, 5 duplicates and the failure: %q", shown)
}
