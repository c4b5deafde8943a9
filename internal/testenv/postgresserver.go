package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// PostgresServer is a PostgreSQL server of the test's own, which the test
// may stop and start: for outages, which the shared server must not suffer.
type PostgresServer struct {
	// URL is the address of its postgres database, user postgres, trusted.
	URL string

	t    testing.TB
	bin  string
	data string
	opts string
	log  string
	cred *syscall.Credential
}

// StartPostgres initialises and starts a private PostgreSQL on a free
// loopback port, with trust authentication and fsync off, stopped at
// cleanup. As root it runs as the postgres user, which PostgreSQL requires.
// Without the server binaries it skips the test, or fails it, as
// RequireService says.
func StartPostgres(t testing.TB) *PostgresServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	var err error
	if len(bins) == 0 {
		err = exec.ErrNotFound
	}
	RequireService(t, "the PostgreSQL server binaries (apt-get install postgresql)", err)
	pg := &PostgresServer{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	// Not in t.TempDir: its parents are private to root, and the server
	// must reach its directory as postgres.
	dir, err := os.MkdirTemp("", "quire-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		RequireService(t, "the postgres user to run PostgreSQL as", err)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	pg.data = filepath.Join(dir, "data")
	pg.log = filepath.Join(dir, "postgres.log")
	addr := FreeAddr(t)
	port := addr[strings.LastIndex(addr, ":")+1:]
	pg.opts = fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", port, dir)
	pg.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable", port)
	pg.run("initdb", "-D", pg.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	pg.Start()
	t.Cleanup(func() { _ = pg.cmd("pg_ctl", "-D", pg.data, "stop", "-m", "immediate").Run() })
	return pg
}

func (pg *PostgresServer) cmd(name string, args ...string) *exec.Cmd {
	c := exec.Command(filepath.Join(pg.bin, name), args...)
	c.Dir = os.TempDir()
	if pg.cred != nil {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	return c
}

func (pg *PostgresServer) run(name string, args ...string) {
	pg.t.Helper()
	out, err := pg.cmd(name, args...).CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(pg.log)
		pg.t.Fatalf("%s %s: %v\n%s\nlog:\n%s", name, strings.Join(args, " "), err, out, log)
	}
}

// Start starts the server (again) and waits until it accepts connections.
func (pg *PostgresServer) Start() {
	pg.t.Helper()
	pg.run("pg_ctl", "-D", pg.data, "-o", pg.opts, "-l", pg.log, "-w", "-t", "60", "start")
}

// Stop stops the server as an administrator would: clients are cut off and
// it checkpoints.
func (pg *PostgresServer) Stop() {
	pg.t.Helper()
	pg.run("pg_ctl", "-D", pg.data, "-m", "fast", "-w", "stop")
}

// Crash stops the server as a power cut would: no checkpoint, clients cut.
func (pg *PostgresServer) Crash() {
	pg.t.Helper()
	pg.run("pg_ctl", "-D", pg.data, "-m", "immediate", "-w", "stop")
}
