//go:build unix

package extract

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts cmd in a process group of its own: soffice is a
// script that runs oosplash, which runs soffice.bin, and a kill must reach
// all of them.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProcessGroup kills cmd's process group.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
