package ml_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports checks that package ml, and every package it imports, knows
// nothing of where results are kept nor of who runs the models: ml returns
// its own types (Result, Entity, Classification), and package mlpipeline
// maps them to the store's. depguard's "models" rule says the same of
// ml's own imports; this checks the whole graph.
func TestImports(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}}", "github.com/quirehq/quire/ml").Output()
	require.NoError(t, err)
	const module = "github.com/quirehq/quire/"
	forbidden := []string{"cmd", "jobs", "pipeline", "store", "web"}
	for _, dep := range strings.Fields(string(out)) {
		rest, ok := strings.CutPrefix(dep, module)
		if !ok {
			continue
		}
		for _, f := range forbidden {
			if rest == f || strings.HasPrefix(rest, f+"/") {
				t.Errorf("ml depends on %s", dep)
			}
		}
	}
}
