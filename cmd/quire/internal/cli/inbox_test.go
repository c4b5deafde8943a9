package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUpInbox(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	inbox := filepath.Join(t.TempDir(), "inbox")
	require.NoError(t, os.MkdirAll(inbox, 0o755))
	token := apiToken(t, b)
	s := startProcess(t, b, "up", "--inbox", inbox, "--shutdown-timeout", "300ms")
	s.token = token

	copyTestdata(t, inbox, "html/udhr-eng.html")
	require.NoError(t, os.WriteFile(filepath.Join(inbox, "empty.txt"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(inbox, ".partial"), []byte("hidden"), 0o644))

	waitFor(t, "the file moved to .done", func() bool {
		_, err := os.Stat(filepath.Join(inbox, ".done", "udhr-eng.html"))
		return err == nil
	})
	waitFor(t, "the empty file moved to .failed", func() bool {
		_, err := os.Stat(filepath.Join(inbox, ".failed", "empty.txt"))
		return err == nil
	})
	msg, err := os.ReadFile(filepath.Join(inbox, ".failed", "empty.txt.error.txt"))
	require.NoError(t, err)
	require.Contains(t, string(msg), "empty")
	_, err = os.Stat(filepath.Join(inbox, ".partial"))
	require.NoError(t, err, "hidden files stay")

	waitFor(t, "the inbox document done", func() bool {
		_, body := s.get(t, "/api/v1/documents?state=done")
		return strings.Contains(body, `"name":"udhr-eng.html"`) && strings.Contains(body, `"source":"inbox"`)
	})
}

func TestUpInboxMissing(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	r := b.run(t, "up", "--inbox", filepath.Join(t.TempDir(), "nope"), "--addr", "")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "invalid --inbox")
}
