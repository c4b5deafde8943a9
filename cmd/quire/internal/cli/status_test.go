package cli

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStatus: quire status counts documents apart from jobs: two documents
// processed, one of which failed, are 2 documents, 1 done and 1 failed,
// however many jobs they took; the queues they went through are listed.
func TestStatus(t *testing.T) {
	t.Parallel()
	forEachBroker(t, func(t *testing.T, b *testBundle) {
		in := filepath.Join(t.TempDir(), "in")
		copyTestdata(t, in, "text/sotu-1932-hoover.txt", "pdf/encrypted.pdf")
		r := b.run(t, "process", in, "--log-level", "error")
		require.Equal(t, exitError, r.code, r.stderr)

		var v statusView
		require.NoError(t, json.Unmarshal([]byte(b.runOK(t, "status", "--json").stdout), &v))
		require.Equal(t, int64(2), v.Documents.Total)
		require.Equal(t, int64(1), v.Documents.Done)
		require.Equal(t, int64(1), v.Documents.Failed)
		require.Zero(t, v.Documents.InProgress)
		require.Equal(t, int64(1), v.Documents.ByState["failed"])
		queues := map[string]bool{}
		for _, q := range v.Queues {
			queues[q.Queue] = true
		}
		require.True(t, queues["extract"], "%+v", v.Queues)

		r = b.runOK(t, "status")
		require.Regexp(t, `(?m)^DOCUMENTS\s+IN PROGRESS\s+DONE\s+FAILED\n2\s+0\s+1\s+1$`, r.stdout)
		require.Contains(t, r.stdout, "worker processes alive")
	})
}
