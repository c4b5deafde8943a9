package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// parseDockerfile parses the Dockerfile with BuildKit's parser, the one
// `docker build` uses. The image is not built: the tests have no Docker
// engine (and no network to pull base images), so the rules that matter are
// checked on the parsed stages instead.
func parseDockerfile(t *testing.T) []instructions.Stage {
	t.Helper()
	f, err := os.Open("Dockerfile")
	require.NoError(t, err)
	defer f.Close()
	ast, err := parser.Parse(f)
	require.NoError(t, err)
	stages, _, err := instructions.Parse(ast.AST, nil)
	require.NoError(t, err)
	require.NotEmpty(t, stages)
	return stages
}

// TestDockerfile checks the image's rules: pinned bases, modules downloaded
// in a layer of their own before the sources are copied, a static binary,
// and final images that run as a non-root user with quire as PID 1.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	stages := parseDockerfile(t)
	names := map[string]bool{}
	for _, s := range stages {
		if s.BaseName != "scratch" && !names[s.BaseName] {
			require.NoError(t, pinnedImage(s.BaseName), "stage %s", s.Name)
		}
		names[s.Name] = true
	}

	build := stages[0]
	require.True(t, strings.HasPrefix(build.BaseName, "golang:"), "the first stage builds with Go, not %s", build.BaseName)
	var sawModCopy, sawDownload, sawSources, sawBuild, cgoOff bool
	for _, cmd := range build.Commands {
		switch c := cmd.(type) {
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				if kv.Key == "CGO_ENABLED" && kv.Value == "0" {
					cgoOff = true
				}
			}
		case *instructions.CopyCommand:
			src := c.SourcePaths
			if slices.Equal(src, []string{"go.mod", "go.sum"}) {
				sawModCopy = true
			}
			if slices.Contains(src, ".") {
				require.True(t, sawDownload, "the sources are copied before `go mod download`: every change would download the modules again")
				sawSources = true
			}
		case *instructions.RunCommand:
			line := strings.Join(c.CmdLine, " ")
			if strings.Contains(line, "go mod download") {
				require.True(t, sawModCopy, "`go mod download` runs before go.mod and go.sum alone are copied")
				require.False(t, sawSources, "`go mod download` runs after the sources are copied")
				sawDownload = true
			}
			if strings.Contains(line, "go build") {
				sawBuild = true
				if strings.Contains(line, "CGO_ENABLED=0") {
					cgoOff = true
				}
			}
		}
	}
	require.True(t, sawDownload, "no `go mod download` layer")
	require.True(t, sawBuild, "no `go build`")
	require.True(t, cgoOff, "the binary is not built with CGO_ENABLED=0: it would not be static")

	// Every stage that is an image someone runs: the OCR and office
	// variants and the last, default one.
	final := map[string]bool{"ocr": true, "office": true, stages[len(stages)-1].Name: true}
	seen := map[string]bool{}
	for _, s := range stages {
		if !final[s.Name] {
			continue
		}
		var user string
		var entrypoint *instructions.EntrypointCommand
		for _, cmd := range s.Commands {
			switch c := cmd.(type) {
			case *instructions.UserCommand:
				user = c.User
			case *instructions.EntrypointCommand:
				entrypoint = c
			}
		}
		uid, _, _ := strings.Cut(user, ":")
		require.NotContains(t, []string{"", "0", "root"}, uid, "stage %s runs as root", s.Name)
		require.NotNil(t, entrypoint, "stage %s has no ENTRYPOINT", s.Name)
		require.False(t, entrypoint.PrependShell, "stage %s: the ENTRYPOINT is in shell form, so a shell is PID 1 and quire never gets SIGTERM", s.Name)
		cmdLine := entrypoint.CmdLine
		if cmdLine[0] == "/usr/bin/tini" {
			// An init that reaps what quire's children leave (the office
			// converter's killed processes) and passes signals on.
			require.Equal(t, "--", cmdLine[1], "stage %s: tini without -- before quire", s.Name)
			cmdLine = cmdLine[2:]
		}
		require.Equal(t, "/usr/local/bin/quire", cmdLine[0], "stage %s", s.Name)
		seen[s.Name] = true
	}
	require.True(t, seen["ocr"], "no stage named ocr: the OCR variant is missing")
	require.True(t, seen["office"], "no stage named office: the office converter's variant is missing")
}

// pinnedImage fails for an image without a tag or digest, or at latest.
func pinnedImage(image string) error {
	if strings.Contains(image, "@sha256:") {
		return nil
	}
	last := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	if !ok || tag == "" || tag == "latest" || strings.Contains(tag, "$") {
		return &pinError{image}
	}
	return nil
}

type pinError struct{ image string }

func (e *pinError) Error() string { return "image " + e.image + " is not pinned to a tag or digest" }

// TestPinnedImage shows what pinnedImage accepts, so the Dockerfile and
// compose checks above can fail.
func TestPinnedImage(t *testing.T) {
	t.Parallel()
	for image, ok := range map[string]bool{
		"golang:1.26.8-bookworm":            true,
		"registry.example.com:5000/quire:1": true,
		"redis@sha256:0123":                 true,
		"redis":                             false,
		"redis:latest":                      false,
		"registry.example.com:5000/quire":   false,
		"golang:${GO_VERSION}":              false,
	} {
		require.Equal(t, ok, pinnedImage(image) == nil, image)
	}
}

// TestDockerignore: the build context leaves out what must never reach an
// image or slow a build: Git's history, local data, test corpora.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../.dockerignore")
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	for _, want := range []string{".git", "**/quire-data", "/testdata/corpora/"} {
		require.Contains(t, lines, want)
	}
	for _, l := range lines {
		l = strings.TrimSpace(l)
		require.False(t, l == "go.mod" || l == "go.sum" || l == "*.go" || l == "/cmd/", ".dockerignore drops %s, which the build needs", l)
	}
}

// composeFile is the part of compose.yaml the test reads.
type composeFile struct {
	Services map[string]struct {
		Image           string            `json:"image"`
		Command         []string          `json:"command"`
		Ports           []string          `json:"ports"`
		User            string            `json:"user"`
		ReadOnly        bool              `json:"read_only"`
		StopGracePeriod string            `json:"stop_grace_period"`
		Environment     map[string]string `json:"environment"`
	} `json:"services"`
}

// TestCompose: compose.yaml runs the whole of Quire as issue 7 lists it,
// publishes only nginx's port, pins every image, and gives every Quire
// process the time to drain that the cluster gives it.
func TestCompose(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("compose.yaml")
	require.NoError(t, err)
	var c composeFile
	// yaml (go-yaml underneath) resolves compose's <<: merge keys.
	require.NoError(t, yaml.Unmarshal(data, &c))
	for _, name := range []string{"redis", "postgres", "memcached", "migrate", "web", "worker", "scheduler", "nginx"} {
		require.Contains(t, c.Services, name)
	}
	for name, s := range c.Services {
		require.NoError(t, pinnedImage(s.Image), "service %s", name)
		if name != "nginx" {
			require.Empty(t, s.Ports, "service %s publishes a port: only nginx, the edge, does", name)
		}
		if !strings.HasPrefix(s.Image, "ghcr.io/quirehq/quire") {
			continue
		}
		require.True(t, s.ReadOnly, "service %s has a writable root filesystem", name)
		require.NotContains(t, []string{"", "0", "root"}, strings.Split(s.User, ":")[0], "service %s runs as root", name)
		if len(s.Command) == 0 || s.Command[0] != "serve" {
			continue
		}
		timeout, err := time.ParseDuration(s.Environment["QUIRE_SHUTDOWN_TIMEOUT"])
		require.NoError(t, err, "service %s: QUIRE_SHUTDOWN_TIMEOUT", name)
		grace, err := time.ParseDuration(s.StopGracePeriod)
		require.NoError(t, err, "service %s: stop_grace_period", name)
		require.GreaterOrEqual(t, grace, timeout+10*time.Second, "service %s: stop_grace_period < QUIRE_SHUTDOWN_TIMEOUT + 10s", name)
	}
	// The web processes are reached through nginx only, whose
	// X-Forwarded-For names the client: they believe it, and nginx sends
	// it, so that the sign-in limiter and the logs see the client.
	require.Contains(t, c.Services["web"].Environment["QUIRE_TRUSTED_PROXIES"], "172.16.0.0/12", "Docker's networks")
	proxy, err := os.ReadFile("nginx/quire-proxy.conf")
	require.NoError(t, err)
	require.Contains(t, string(proxy), "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
}

// TestNginx runs `nginx -t` on the configuration for hosts without
// Kubernetes, with its include pointed at this checkout. Debian's nginx is
// not on every machine; without it the test says so and skips.
func TestNginx(t *testing.T) {
	t.Parallel()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed (apt-get install nginx-light); the configuration is not checked")
	}
	dir := t.TempDir()
	proxy, err := filepath.Abs("nginx/quire-proxy.conf")
	require.NoError(t, err)
	site, err := os.ReadFile("nginx/quire.conf")
	require.NoError(t, err)
	require.Contains(t, string(site), "include /etc/nginx/quire-proxy.conf;")
	site = []byte(strings.ReplaceAll(string(site), "/etc/nginx/quire-proxy.conf", proxy))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "quire.conf"), site, 0o644))
	conf := "pid " + filepath.Join(dir, "nginx.pid") + ";\n" +
		"error_log stderr;\n" +
		"events {}\n" +
		"http {\n access_log off;\n include " + filepath.Join(dir, "quire.conf") + ";\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644))
	out, err := exec.Command(nginx, "-t", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")).CombinedOutput()
	require.NoError(t, err, "nginx -t:\n%s", out)
}
