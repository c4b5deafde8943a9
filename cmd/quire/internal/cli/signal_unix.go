//go:build unix

package cli

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyQuiet delivers SIGTSTP (Ctrl-Z, or a supervisor's request to
// quiet a worker), which tells a server to stop fetching new jobs.
func notifyQuiet() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTSTP)
	return ch, func() { signal.Stop(ch) }
}
