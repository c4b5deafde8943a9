//go:build unix

package bench

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time, user and system, of this process and of
// the children it has waited for (tesseract, LibreOffice): the programs a
// run starts are part of its cost.
func cpuTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) != nil {
			continue
		}
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total
}
