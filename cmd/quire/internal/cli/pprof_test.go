package cli

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/app"
)

// TestServePprof serves Go's profiles on --pprof-addr, on a server of their
// own: never on the probes' address, which Prometheus and the kubelet
// reach.
func TestServePprof(t *testing.T) {
	t.Parallel()
	for _, role := range []string{"worker", "web", "scheduler"} {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			b := setupServers(t)
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			addr := l.Addr().String()
			require.NoError(t, l.Close())
			args := []string{"serve", "--role", role, "--pprof-addr=" + addr}
			if role == "web" {
				args = append(args, "--http-addr", "127.0.0.1:0")
			}
			s := startProcess(t, b, args...)

			get := func(url string) (int, string) {
				resp, err := http.Get(url)
				require.NoError(t, err)
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				return resp.StatusCode, string(body)
			}
			code, body := get("http://" + addr + "/debug/pprof/goroutine?debug=1")
			require.Equal(t, http.StatusOK, code, body)
			require.Contains(t, body, "goroutine profile:")
			code, body = get("http://" + addr + "/debug/pprof/heap?debug=1")
			require.Equal(t, http.StatusOK, code, body)
			require.Contains(t, body, "heap profile:")

			code, _ = s.get(t, "/debug/pprof/")
			require.Equal(t, http.StatusNotFound, code, "the probes' address serves no profiles")

			// At stop the profiles' server closes with the rest.
			require.Equal(t, exitOK, s.stop(t).code)
			_, err = http.Get("http://" + addr + "/debug/pprof/")
			require.Error(t, err)
		})
	}
}

// TestServePprofOff serves no profiles without --pprof-addr, and a taken
// --pprof-addr fails the start with a message that names the setting.
func TestServePprofOff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cmd := (newCLI(&deps{})).newServeCommand()
	f := cmd.Flags().Lookup("pprof-addr")
	require.Equal(t, "", f.DefValue, "off by default")
	require.Equal(t, app.PprofAddrOn, f.NoOptDefVal, "the flag alone serves on the loopback interface")
	require.NoError(t, cmd.Flags().Parse([]string{"--pprof-addr"}))
	require.Equal(t, "127.0.0.1:6060", f.Value.String())

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	r := b.run(t, "serve", "--role", "worker", "--addr", "127.0.0.1:0", "--pprof-addr="+l.Addr().String())
	require.Equal(t, exitError, r.code, r.stderr)
	require.Contains(t, r.stderr, "--pprof-addr / QUIRE_PPROF_ADDR")
}
