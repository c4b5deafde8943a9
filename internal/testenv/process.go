package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// quireBuild builds the quire binary once per test binary run.
var quireBuild struct {
	once sync.Once
	path string
	err  error
}

// BuildQuire builds the quire command (go build ./cmd/quire) once per run of
// the test binary and returns the path of the binary. Tests that run Quire
// as real processes, to signal and kill them, share it.
func BuildQuire(t testing.TB) string {
	t.Helper()
	quireBuild.once.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			quireBuild.err = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(out)))
		dir, err := os.MkdirTemp("", "quire-bin-")
		if err != nil {
			quireBuild.err = err
			return
		}
		// The directory outlives any one test: the binary is shared until
		// RemoveQuire.
		bin := filepath.Join(dir, "quire")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/quire")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			quireBuild.err = fmt.Errorf("go build ./cmd/quire: %w\n%s", err, out)
			return
		}
		quireBuild.path = bin
	})
	if quireBuild.err != nil {
		t.Fatal(quireBuild.err)
	}
	return quireBuild.path
}

// RemoveQuire removes the binary BuildQuire built, if any. A package whose
// tests call BuildQuire calls it from TestMain once its tests have run.
func RemoveQuire() {
	if quireBuild.path != "" {
		_ = os.RemoveAll(filepath.Dir(quireBuild.path))
	}
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago, for a process that must be told its address before it starts. It
// never returns a port twice in one test binary: a test that picks the
// addresses of several processes before starting them would otherwise be
// given a port the kernel handed out, and took back, a moment before.
func FreeAddr(t testing.TB) string {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		addr := l.Addr().(*net.TCPAddr)
		_ = l.Close()
		freePorts.Lock()
		seen := freePorts.given[addr.Port]
		freePorts.given[addr.Port] = true
		freePorts.Unlock()
		if !seen {
			return addr.String()
		}
	}
	t.Fatalf("find a free port: every port offered was given out before")
	return ""
}

// freePorts are the ports FreeAddr gave out.
var freePorts = struct {
	sync.Mutex
	given map[int]bool
}{given: map[int]bool{}}

// Process is a process a test started: a Quire role, nginx, a server. Its
// output goes to a log file that the test prints when it fails.
type Process struct {
	// Name names the process in the test's messages: "web1", "worker3".
	Name string
	// Addr is the address of its probes (/readyz), if it has any.
	Addr string

	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit, once done is closed
}

// StartProcess starts bin with args, its output in a log file of the test.
// At cleanup a process still running is killed, and the logs of every
// process are printed if the test failed.
func StartProcess(t testing.TB, name string, env []string, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{Name: name, log: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	// A group of its own, so that a terminal's ^C reaches only the test;
	// killed with the test binary, should it die before its cleanups.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		_ = f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.Exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("--- log of %s (%s) ---\n%s", p.Name, strings.Join(p.cmd.Args, " "), p.Tail(60))
		}
	})
	return p
}

// StartQuire starts the quire binary with args plus --addr on a free
// loopback port, and waits until its /readyz answers 200.
func StartQuire(t testing.TB, name string, env []string, args ...string) *Process {
	t.Helper()
	addr := FreeAddr(t)
	p := StartProcess(t, name, env, BuildQuire(t), append(args, "--addr", addr)...)
	p.Addr = addr
	p.WaitReady(t, time.Minute)
	return p
}

// PID is the process's id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process.
func (p *Process) Signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !p.Exited() {
		t.Fatalf("signal %s to %s: %v", sig, p.Name, err)
	}
}

// Wait waits up to timeout for the process to exit and returns how it
// exited: nil for status 0.
func (p *Process) Wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("%s did not exit within %s", p.Name, timeout)
		return nil
	}
}

// Stop sends SIGTERM and requires a clean exit within timeout.
func (p *Process) Stop(t testing.TB, timeout time.Duration) {
	t.Helper()
	p.Signal(t, syscall.SIGTERM)
	if err := p.Wait(t, timeout); err != nil {
		t.Fatalf("%s exited after SIGTERM: %v", p.Name, err)
	}
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill(t testing.TB) {
	t.Helper()
	p.Signal(t, syscall.SIGKILL)
	_ = p.Wait(t, 30*time.Second)
}

// WaitReady polls the process's /readyz until it answers 200. It fails the
// test if the process exits or timeout passes first.
func (p *Process) WaitReady(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if code, _, err := Get("http://" + p.Addr + "/readyz"); err == nil && code == http.StatusOK {
			return
		}
		if p.Exited() {
			t.Fatalf("%s exited before it was ready: %v\n%s", p.Name, p.err, p.Tail(40))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not ready within %s\n%s", p.Name, timeout, p.Tail(40))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Tail returns the last n lines of the process's log.
func (p *Process) Tail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// Log returns the process's whole log.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// Get fetches url with a short timeout and returns the status code and
// body.
func Get(url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String(), errors.Join(err)
}

// QuireToken issues an API token of scope, as an operator does with quire
// admin token create, on the store that args (--postgres-url, …) name.
func QuireToken(t testing.TB, scope string, args ...string) string {
	t.Helper()
	args = append([]string{"admin", "token", "create", "--name", "test", "--scope", scope}, args...)
	args = append(args, "--data-dir", t.TempDir())
	out, err := exec.Command(BuildQuire(t), args...).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("quire admin token create: %v: %s", err, exit.Stderr)
	}
	if err != nil {
		t.Fatalf("quire admin token create: %v", err)
	}
	return strings.TrimSpace(string(out))
}
