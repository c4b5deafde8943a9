package cli

import (
	"encoding/json"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type submitResult struct {
	Total      int      `json:"total"`
	Created    int      `json:"created"`
	Duplicates int      `json:"duplicates"`
	Failed     int      `json:"failed"`
	Errors     []string `json:"errors"`
	IDs        []string `json:"ids"`
}

func TestSubmit(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)
	token := apiToken(t, b)
	s := startProcess(t, b, "up", "--shutdown-timeout", "300ms")
	s.token = token
	in := filepath.Join(t.TempDir(), "in")
	copyTestdata(t, in, "pdf/float.pdf", "html/udhr-eng.html")
	copyTestdata(t, filepath.Join(in, ".hidden"), "pdf/anysize.pdf")
	server := "http://" + s.addr

	// Without a token the server refuses, and submit says what to do.
	r := runCLI(t.Context(), t, nil, "submit", in, "--server", server)
	require.Equal(t, exitError, r.code, r.stderr)
	require.Contains(t, r.stderr, "give a token of write scope with --token / QUIRE_TOKEN")

	r = runCLI(t.Context(), t, nil, "submit", in, "--server", server, "--json", "--token", token)
	require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	var sum submitResult
	require.NoError(t, json.Unmarshal([]byte(r.lastLine()), &sum))
	require.Equal(t, 2, sum.Total)
	require.Equal(t, 2, sum.Created)
	require.Zero(t, sum.Duplicates)
	require.Len(t, sum.IDs, 2)

	// Again, the server given by QUIRE_SERVER: the same content is a
	// duplicate, with the same IDs, printed one a line.
	r = runCLI(t.Context(), t, &runOpts{env: map[string]string{"QUIRE_SERVER": server, "QUIRE_TOKEN": token}}, "submit", in)
	require.Equal(t, exitOK, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	for _, id := range sum.IDs {
		require.Contains(t, r.stdout, id+"\t")
	}
	require.Contains(t, r.stdout, "duplicate")
	require.Contains(t, r.stdout, "2 files: 0 created, 2 duplicates, 0 failed")

	for _, id := range sum.IDs {
		var body string
		// Longer than waitFor: the suite runs many pipelines at once.
		require.Eventually(t, func() bool {
			var doc struct{ State string }
			_, body = s.get(t, "/api/v1/documents/"+id)
			require.NoError(t, json.Unmarshal([]byte(body), &doc))
			return doc.State == "done"
		}, time.Minute, 20*time.Millisecond, "waiting for the submitted document done: %s", func() string { return body })
	}
}

func TestSubmitServerDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	in := filepath.Join(t.TempDir(), "in")
	copyTestdata(t, in, "pdf/float.pdf")

	r := runCLI(t.Context(), t, nil, "submit", in, "--server", "http://"+addr)
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "cannot reach quire at http://"+addr)
	require.Contains(t, r.stderr, "quire up")

	r = runCLI(t.Context(), t, nil, "submit", in, "--server", "http://"+addr, "--json")
	require.Equal(t, exitError, r.code)
	var sum submitResult
	require.NoError(t, json.Unmarshal([]byte(r.lastLine()), &sum))
	require.Equal(t, submitResult{Total: 1, Failed: 1, Errors: sum.Errors, IDs: []string{}}, sum)
	require.Len(t, sum.Errors, 1)

	r = runCLI(t.Context(), t, nil, "submit", in, "--server", "ftp://x")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "--server / QUIRE_SERVER")
}
