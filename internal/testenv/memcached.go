package testenv

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Memcached is a memcached of the test's own, which the test may kill and
// start again on the same port.
type Memcached struct {
	// Addr is its host:port.
	Addr string

	t    testing.TB
	bin  string
	proc *Process
	runs int
}

// StartMemcached starts a private memcached on a free loopback port, killed
// at cleanup. Without the binary it skips the test, or fails it, as
// RequireService says.
func StartMemcached(t testing.TB) *Memcached {
	t.Helper()
	bin, err := exec.LookPath("memcached")
	RequireService(t, "the memcached binary (apt-get install memcached)", err)
	m := &Memcached{Addr: FreeAddr(t), t: t, bin: bin}
	m.Start()
	return m
}

// Start runs memcached (again) and waits until it accepts connections.
func (m *Memcached) Start() {
	m.t.Helper()
	port := m.Addr[strings.LastIndex(m.Addr, ":")+1:]
	args := []string{"-p", port, "-U", "0", "-l", "127.0.0.1", "-m", "64"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody") // memcached refuses to run as root
	}
	m.runs++
	m.proc = StartProcess(m.t, "memcached-"+strings.Repeat("I", m.runs), nil, m.bin, args...)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", m.Addr, 100*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if m.proc.Exited() || time.Now().After(deadline) {
			m.t.Fatalf("memcached on %s did not start: %v\n%s", m.Addr, err, m.proc.Tail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill kills memcached at once, as a crash would. It is safe to call more
// than once.
func (m *Memcached) Kill() {
	m.t.Helper()
	if !m.proc.Exited() {
		m.proc.Kill(m.t)
	}
}
