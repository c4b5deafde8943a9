//go:build unix

package bench

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time, user and system, of this process and of
// its children (tesseract, LibreOffice), those it has waited for and, where
// the system tells (liveChildrenCPU), those still running: the programs a
// run starts are part of its cost, and OCR keeps its tesseracts running.
func cpuTime() time.Duration {
	total := liveChildrenCPU()
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) != nil {
			continue
		}
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total
}
