package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/testenv"
)

// TestOfficeConverterFlags: process reads a WordPerfect document with
// LibreOffice, fails it with a reason naming its type and the setting when
// --office-converter=off, and stops at start on a converter that is not a
// command.
func TestOfficeConverterFlags(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	in := filepath.Join(t.TempDir(), "in")
	copyTestdata(t, in, "formats/longtail/hoover.wpd")

	r := b.run(t, "process", in, "--json", "--log-level", "error", "--office-converter", "off")
	require.Equal(t, exitError, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	res := decodeLastLine[processResult](t, r)
	require.Equal(t, 1, res.Failed)
	var reason string
	for k := range res.Reasons {
		reason = k
	}
	require.Contains(t, reason, "WordPerfect document (application/vnd.wordperfect)")
	require.Contains(t, reason, "--office-converter")
	require.NotContains(t, reason, "convert it to PDF", "the advice is to install the converter")

	for _, bad := range [][]string{
		{"--office-converter", "/nonexistent/soffice"},
		{"--office-converter-slots", "0"},
	} {
		r := b.run(t, append([]string{"process", in, "--log-level", "error"}, bad...)...)
		require.Equal(t, exitUsage, r.code, "%v: stdout: %s\nstderr: %s", bad, r.stdout, r.stderr)
		require.Contains(t, r.stderr, bad[0], "%v", bad)
	}

	_, err := exec.LookPath("soffice")
	testenv.RequireService(t, "LibreOffice (apt-get install libreoffice-writer-nogui)", err)
	r = setupEmbedded(t).run(t, "process", in, "--json", "--log-level", "error", "--office-converter-slots", "1")
	require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.Equal(t, 1, decodeLastLine[processResult](t, r).Done, "stdout: %s", strings.TrimSpace(r.stdout))
}
