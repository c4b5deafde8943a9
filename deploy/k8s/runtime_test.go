package k8s

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// cliDir holds the quire command's sources, appDir the settings and roles
// of a Quire process (internal/app). The test reads them as text: both are
// internal to Quire's module, and this module must not depend on it.
const (
	cliDir = "../../cmd/quire/internal/cli"
	appDir = "../../internal/app"
)

// runtimeGaps are what the manifests ask of the binary that it does not do
// yet: the interface DESIGN.md and issue 7 describe, which the runtime is
// being made to match. A gap that closes is logged so it can be struck.
var runtimeGaps = map[string]string{}

var (
	flagDef = regexp.MustCompile(`\.(?:[A-Z][A-Za-z0-9]*)?Var\(&[^,]+,\s*"([a-z0-9-]+)"`)
	roleDef = regexp.MustCompile(`\{name:\s*"([a-z]+)",`)
)

// cliFlags returns the flags defined in the named files, paths under
// deploy/k8s.
func cliFlags(t *testing.T, files ...string) []string {
	t.Helper()
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err, "the quire command's sources moved: update cliDir or appDir")
		for _, m := range flagDef.FindAllStringSubmatch(string(data), -1) {
			out = append(out, m[1])
		}
	}
	require.NotEmpty(t, out)
	return out
}

// TestManifestsUseRealFlags checks every flag, role and QUIRE_ variable
// the manifests give the quire binary against the command's sources, so
// that a renamed flag fails here rather than at a pod's start. What the
// binary does not have yet must be listed in runtimeGaps.
func TestManifestsUseRealFlags(t *testing.T) {
	t.Parallel()
	global := cliFlags(t, filepath.Join(appDir, "config.go"), filepath.Join(appDir, "limits.go"), filepath.Join(appDir, "mlworker.go"))
	commands := map[string][]string{
		"serve": append(cliFlags(t, filepath.Join(cliDir, "serve.go"), filepath.Join(appDir, "serve.go"),
			filepath.Join(appDir, "web.go")), global...),
		"migrate": global,
	}
	serveSrc, err := os.ReadFile(filepath.Join(appDir, "serve.go"))
	require.NoError(t, err)
	var roles []string
	for _, m := range roleDef.FindAllStringSubmatch(string(serveSrc), -1) {
		roles = append(roles, m[1])
	}
	require.NotEmpty(t, roles, "no roles found in serve.go")

	used := map[string]bool{}
	var unknown []string
	known := func(what string, ok bool) {
		switch {
		case ok:
		case runtimeGaps[what] != "":
			used[what] = true
		default:
			unknown = append(unknown, what)
		}
	}
	for _, dir := range kustomizations(t) {
		r := render(t, dir)
		for _, w := range r.workloads() {
			for _, c := range w.template.Spec.Containers {
				repo, _, _ := strings.Cut(c.Image[strings.LastIndex(c.Image, "/")+1:], ":")
				if repo != "quire" && repo != "quire-ocr" {
					continue
				}
				require.NotEmpty(t, c.Args, "%s runs quire without a command", w)
				flags, ok := commands[c.Args[0]]
				require.True(t, ok, "%s runs quire %s, a command this test does not know", w, c.Args[0])
				for i, a := range c.Args[1:] {
					name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
					if !strings.HasPrefix(a, "--") {
						continue
					}
					known("--"+name, slices.Contains(flags, name))
					if name == "role" {
						if !hasValue && i+2 < len(c.Args) {
							value = c.Args[i+2]
						}
						known("role "+value, slices.Contains(roles, value))
					}
				}
				vars := []string{}
				for _, e := range c.Env {
					vars = append(vars, e.Name)
				}
				for _, src := range c.EnvFrom {
					if src.ConfigMapRef == nil {
						continue
					}
					if o, ok := r.find("ConfigMap", w.Namespace, src.ConfigMapRef.Name); ok {
						for k := range o.Obj.(*corev1.ConfigMap).Data {
							vars = append(vars, k)
						}
					}
				}
				for _, v := range vars {
					if name, ok := strings.CutPrefix(v, "QUIRE_"); ok {
						flag := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
						known("--"+flag, slices.Contains(flags, flag))
					}
				}
			}
		}
	}
	slices.Sort(unknown)
	require.Empty(t, slices.Compact(unknown), "the manifests use settings the quire binary does not have; fix them or, for interface still being built, list them in runtimeGaps")
	for gap, why := range runtimeGaps {
		if !used[gap] {
			t.Logf("runtime gap %q (%s) is no longer needed by the manifests or the binary has it now: strike it from runtimeGaps", gap, why)
		}
	}
}

// TestEveryPipelineQueueIsServed: each queue the pipeline enqueues to
// (pipeline/pipeline.go) and the engine's default queue have workers in
// every rendering, or their jobs would wait forever.
func TestEveryPipelineQueueIsServed(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../pipeline/pipeline.go")
	require.NoError(t, err, "the pipeline's sources moved")
	queueDef := regexp.MustCompile(`(?m)^\s*Queue\w+\s*=\s*"([a-z0-9_-]+)"`)
	want := []string{"default"}
	for _, m := range queueDef.FindAllStringSubmatch(string(src), -1) {
		want = append(want, m[1])
	}
	require.Greater(t, len(want), 1, "no queues found in pipeline.go")
	for _, dir := range kustomizations(t) {
		r := render(t, dir)
		served := map[string]bool{}
		for _, w := range r.workloads() {
			c := &w.template.Spec.Containers[0]
			if len(c.Args) == 0 || c.Args[0] != "serve" {
				continue
			}
			if role, _ := setting(r, w.Namespace, c, "role"); role != "worker" {
				continue
			}
			queues, ok := setting(r, w.Namespace, c, "queues")
			if !ok {
				queues = "default=1"
			}
			for _, q := range strings.Split(queues, ",") {
				name, _, _ := strings.Cut(q, "=")
				served[name] = true
			}
		}
		for _, q := range want {
			require.True(t, served[q], "%s: no worker serves queue %s", dir, q)
		}
	}
}
