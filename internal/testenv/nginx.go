package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Nginx is an nginx of the test's own in front of Quire's web processes.
type Nginx struct {
	// Addr is the address nginx listens on.
	Addr string
	proc *Process
}

// StartNginx runs nginx (Debian's nginx-light) in the foreground with a
// configuration generated in a directory of the test: an upstream quire_web
// of the given addresses, with the options of deploy/nginx/quire.conf, and
// the proxy settings of deploy/nginx/quire-proxy.conf itself, so that the
// test exercises the configuration Quire ships. Without nginx it skips the
// test, or fails it, as RequireService says.
func StartNginx(t testing.TB, upstreams ...string) *Nginx {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin, err = exec.LookPath("/usr/sbin/nginx")
	}
	RequireService(t, "nginx (apt-get install nginx-light)", err)
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	proxyConf := filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "deploy", "nginx", "quire-proxy.conf")
	// Not in t.TempDir: as root, nginx's workers run as another user that
	// must reach the directory for request bodies.
	dir, err := os.MkdirTemp("", "quire-nginx-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	n := &Nginx{Addr: FreeAddr(t)}
	var servers strings.Builder
	for _, u := range upstreams {
		// As deploy/nginx/quire.conf has it.
		fmt.Fprintf(&servers, "        server %s max_fails=0;\n", u)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root root;\n"
	}
	conf := user + `daemon off;
pid ` + filepath.Join(dir, "nginx.pid") + `;
error_log stderr warn;
worker_processes 1;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ` + filepath.Join(dir, "client_body") + `;
    proxy_temp_path ` + filepath.Join(dir, "proxy") + `;
    fastcgi_temp_path ` + filepath.Join(dir, "fastcgi") + `;
    uwsgi_temp_path ` + filepath.Join(dir, "uwsgi") + `;
    scgi_temp_path ` + filepath.Join(dir, "scgi") + `;
    upstream quire_web {
` + servers.String() + `        keepalive 32;
    }
    server {
        listen ` + n.Addr + `;
        server_name _;
        include ` + proxyConf + `;
    }
}
`
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n.proc = StartProcess(t, "nginx", nil, bin, "-p", dir, "-c", confPath, "-e", "stderr")
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Any answer, a 502 included, means nginx listens.
		if _, _, err := Get("http://" + n.Addr + "/healthz"); err == nil {
			return n
		}
		if n.proc.Exited() || time.Now().After(deadline) {
			t.Fatalf("nginx did not start:\n%s", n.proc.Tail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Log returns what nginx logged (warnings and errors).
func (n *Nginx) Log() string { return n.proc.Log() }
