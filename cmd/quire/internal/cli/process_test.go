package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quirehq/quire/internal/app"
	"github.com/quirehq/quire/jobs"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/store"
)

const testdataDir = "../../../../testdata"

// copyTestdata copies files of testdata (paths relative to it) into dir,
// under their base names.
func copyTestdata(t *testing.T, dir string, files ...string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(testdataDir, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
}

type processResult struct {
	Files       int            `json:"files"`
	Total       int            `json:"total"`
	Done        int            `json:"done"`
	Failed      int            `json:"failed"`
	Duplicates  int            `json:"duplicates"`
	Attachments int            `json:"attachments"`
	Unfinished  int            `json:"unfinished"`
	Reasons     map[string]int `json:"reasons"`
	DocsPerS    float64        `json:"docs_per_s"`
	ElapsedS    float64        `json:"elapsed_s"`
}

func decodeLastLine[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(r.lastLine()), &v), "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	return v
}

func TestProcessMixedFolder(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	in := filepath.Join(t.TempDir(), "in")
	copyTestdata(t, in, "pdf/float.pdf", "pdf/encrypted.pdf", "pdf/truncated.pdf", "office/encrypted.xlsx",
		"office/udhr.docx", "hostile/truncated.docx", "html/udhr-eng.html")
	// A sub-folder, recursed into, with an email of one attachment and a
	// copy of a file above: the same content counts once.
	copyTestdata(t, filepath.Join(in, "sub"), "email/spamassassin-easy-ham-1-00775.eml", "pdf/float.pdf")
	// Hidden files and folders are skipped.
	copyTestdata(t, filepath.Join(in, ".hidden"), "pdf/anysize.pdf")
	require.NoError(t, os.WriteFile(filepath.Join(in, ".DS_Store"), []byte("junk"), 0o644))

	r := b.run(t, "process", in, "--json", "--log-level", "error")
	require.Equal(t, exitError, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	sum := decodeLastLine[processResult](t, r)
	require.Equal(t, 9, sum.Files)
	require.Equal(t, 1, sum.Duplicates, "%+v\n%s", sum, r.stderr)
	require.Equal(t, 1, sum.Attachments, "%+v", sum)
	require.Equal(t, 9, sum.Total, "8 distinct files and 1 attachment: %+v", sum)
	require.Equal(t, 4, sum.Failed, "%+v", sum)
	require.Equal(t, 5, sum.Done, "%+v", sum)
	var encrypted int
	for reason, n := range sum.Reasons {
		require.NotRegexp(t, `[0-9A-HJKMNP-TV-Z]{26}`, reason, "reasons leave out document IDs")
		if strings.Contains(reason, "encrypted") {
			encrypted += n
		}
	}
	require.Equal(t, 2, encrypted, "reasons: %v", sum.Reasons)
	require.Greater(t, sum.DocsPerS, 0.0)
	require.Greater(t, sum.ElapsedS, 0.0)
	require.Contains(t, r.stderr, "4 of 9 documents failed")
	require.NotContains(t, r.stderr, "\r", "no progress bar when stderr is not a terminal")

	// Without --json: a summary for people.
	r = b.run(t, "process", filepath.Join(in, "encrypted.pdf"), "--log-level", "error")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stdout, "1 documents from 1 files: 0 done, 1 failed, 1 duplicates")
	require.Contains(t, r.stdout, "encrypted")
}

func TestProcessAllDone(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	in := filepath.Join(t.TempDir(), "in")
	copyTestdata(t, in, "pdf/float.pdf", "html/udhr-eng.html")
	r := b.runOK(t, "process", in, "--json", "--log-level", "error")
	sum := decodeLastLine[processResult](t, r)
	require.Equal(t, processResult{Files: 2, Total: 2, Done: 2, Reasons: map[string]int{},
		DocsPerS: sum.DocsPerS, ElapsedS: sum.ElapsedS}, sum)

	// Run again, one file at a time: nothing new, the same documents
	// reported as duplicates.
	sum = decodeLastLine[processResult](t, b.runOK(t, "process", in, "--json", "--log-level", "error", "--ingest-concurrency", "1"))
	require.Equal(t, 2, sum.Done)
	require.Equal(t, 2, sum.Duplicates)
}

func TestProcessUsage(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	r := b.run(t, "process")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "give at least one file or folder")
	r = b.run(t, "process", filepath.Join(t.TempDir(), "missing.pdf"))
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "missing.pdf")
	r = b.run(t, "process", "--ingest-concurrency", "0", t.TempDir())
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "invalid --ingest-concurrency 0: it must be at least 1")
}

func TestProcessInterrupted(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	in := filepath.Join(t.TempDir(), "in")
	copyTestdata(t, in, "images/text.png", "images/fax.tiff", "pdf/float.pdf")
	ctx, cancel := context.WithCancel(t.Context())
	stderr := &syncBuffer{}
	go func() {
		// Interrupt once the worker runs, as SIGINT does.
		for !strings.Contains(stderr.String(), "process: started") {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	// One job at a time: the document running when the interrupt comes
	// finishes in the graceful stop, and is counted; the others wait.
	r := b.runWith(ctx, t, &runOpts{stderr: stderr}, "process", in, "--json", "--log-level", "info", "--shutdown-timeout", "1s",
		"--concurrency", "1")
	require.Equal(t, exitError, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.Contains(t, r.stderr, "interrupted")
	require.Contains(t, r.stderr, "next run of quire process or quire up")
	sum := decodeLastLine[processResult](t, r)
	require.Less(t, sum.Done+sum.Failed, 3, "%+v", sum)
	require.Equal(t, sum.Total, sum.Done+sum.Failed+sum.Unfinished, "%+v", sum)
}

func TestReprocess(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	in := filepath.Join(t.TempDir(), "in")
	copyTestdata(t, in, "html/udhr-eng.html")
	b.runOK(t, "process", in, "--log-level", "error")

	st, err := app.OpenStore(t.Context(), &app.Config{DataDir: b.dataDir})
	require.NoError(t, err)
	list, err := st.ListDocuments(t.Context(), &store.ListDocumentsParams{})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	require.Len(t, list.Documents, 1)
	id := list.Documents[0].ID

	r := b.runOK(t, "reprocess", id)
	require.Contains(t, r.stdout, id+"\treceived")
	// It is waiting for a worker now; asking again changes nothing.
	require.Contains(t, b.runOK(t, "reprocess", id).stdout, id+"\treceived")
	// The next process finishes it.
	sum := decodeLastLine[processResult](t, b.runOK(t, "process", in, "--json", "--log-level", "error"))
	require.Equal(t, 1, sum.Done)
	require.Equal(t, 1, sum.Duplicates, "%+v\n%s", sum, r.stderr)

	r = b.run(t, "reprocess", "01NOSUCHDOCUMENT0000000000")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "document 01NOSUCHDOCUMENT0000000000 not found")
}

// TestProcessBatchWithSharedWorker runs quire process beside a worker that
// shares its broker and store, so that some documents, and the attachment of
// one, are finished by the other process: the run learns it from its batch's
// completion callback, without asking the store while it waits.
func TestProcessBatchWithSharedWorker(t *testing.T) {
	t.Parallel()
	b := setup(t)
	startServe(t, b, "--queues", "extract=3,ocr=1,analyze=4,notify=5,maintenance=1", "--concurrency", "4")
	in := filepath.Join(t.TempDir(), "in")
	copyTestdata(t, in, "pdf/float.pdf", "html/udhr-eng.html", "office/udhr.docx", "pdf/encrypted.pdf",
		"email/spamassassin-easy-ham-1-00775.eml", "images/text.png")
	r := b.run(t, "process", in, "--json", "--log-level", "debug", "--concurrency", "1")
	require.Equal(t, exitError, r.code, "the encrypted PDF fails\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
	sum := decodeLastLine[struct {
		processResult
		BatchID string `json:"batch_id"`
	}](t, r)
	require.Equal(t, 7, sum.Total, "6 files and the email's attachment: %+v\n%s", sum, r.stderr)
	require.Equal(t, 1, sum.Failed, "%+v", sum)
	require.Equal(t, 6, sum.Done, "%+v", sum)
	require.Zero(t, sum.Unfinished)
	require.NotEmpty(t, sum.BatchID)
	require.Contains(t, r.stderr, "every job of the run finished")
	require.NotContains(t, r.stderr, "asking the store about documents no event reported", "the run waits for its batch, not the store")

	br, err := app.OpenBroker(&app.Config{RedisURL: b.redisURL, RedisPrefix: b.prefix})
	require.NoError(t, err)
	defer br.Close()
	insp := jobs.NewInspector(br.Driver, nil)
	st, err := insp.Batch(t.Context(), sum.BatchID)
	require.NoError(t, err)
	require.Equal(t, jobs.CallbackState("fired"), st.Complete)
	require.Zero(t, st.Pending)
	// One extract job per file and per attachment at least; the webhooks
	// and the sweep's jobs are not members.
	require.GreaterOrEqual(t, st.Total, int64(7), "%+v", st)
	require.Contains(t, st.Description, "quire process: 6 files")
	left, err := insp.Jobs(t.Context(), &jobs.ListParams{Queue: "process", State: jobs.StateReady})
	require.NoError(t, err)
	require.Empty(t, left, "the run took its callback")
}
