package bench

import (
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLiveChildrenCPU counts the CPU of a child that still runs, which
// getrusage leaves out until it is waited for.
func TestLiveChildrenCPU(t *testing.T) {
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	require.Eventually(t, func() bool { return liveChildrenCPU() >= 50*time.Millisecond },
		10*time.Second, 10*time.Millisecond)
	live := liveChildrenCPU()
	require.GreaterOrEqual(t, cpuTime(), live, "the run's CPU counts its running children")
}
