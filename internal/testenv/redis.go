package testenv

import (
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Redis is a Redis server of the test's own, which the test may stop and
// start again on the same port and directory.
type Redis struct {
	// URL is its address for --redis-url.
	URL string

	t    testing.TB
	bin  string
	args []string
	addr string
	proc *Process
	runs int // how many times Start ran
}

// RedisOpts are the settings of a private Redis.
type RedisOpts struct {
	// AppendFsync turns the append-only file on with this policy: "always"
	// (an acknowledged write survives a restart) or "everysec" (the last
	// second may be lost). Empty keeps Redis in memory only.
	AppendFsync string
}

// StartRedis starts a private redis-server on a free loopback port, its
// data in a directory of the test. Without redis-server it skips the test,
// or fails it, as RequireService says.
func StartRedis(t testing.TB, opts *RedisOpts) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	RequireService(t, "redis-server (apt-get install redis-server)", err)
	if opts == nil {
		opts = &RedisOpts{}
	}
	addr := FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	r := &Redis{t: t, bin: bin, addr: addr, URL: "redis://" + addr + "/0"}
	r.args = []string{"--port", port, "--bind", "127.0.0.1", "--dir", t.TempDir(), "--save", "", "--daemonize", "no"}
	if opts.AppendFsync != "" {
		r.args = append(r.args, "--appendonly", "yes", "--appendfsync", opts.AppendFsync)
	}
	r.Start()
	return r
}

// Start starts the server (again) and waits until it answers.
func (r *Redis) Start() {
	r.t.Helper()
	r.runs++
	r.proc = StartProcess(r.t, "redis-"+strconv.Itoa(r.runs), nil, r.bin, r.args...)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", r.addr, time.Second); err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			buf := make([]byte, 64)
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			_ = c.Close()
			// While loading its append-only file Redis answers -LOADING.
			if string(buf[:n]) == "+PONG\r\n" {
				return
			}
		}
		if r.proc.Exited() || time.Now().After(deadline) {
			r.t.Fatalf("redis-server on %s did not start:\n%s", r.addr, r.proc.Tail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the server with SIGTERM (with the append-only file on, Redis
// syncs it first) and waits until it has exited.
func (r *Redis) Stop() {
	r.t.Helper()
	r.proc.Stop(r.t, 30*time.Second)
}

// Kill stops the server with SIGKILL: what it had not written is lost.
func (r *Redis) Kill() {
	r.t.Helper()
	r.proc.Kill(r.t)
}

func (r *Redis) String() string { return fmt.Sprintf("redis-server on %s", r.addr) }
