//go:build unix && !linux

package bench

import "time"

// liveChildrenCPU is not measured here: children count once waited for.
func liveChildrenCPU() time.Duration { return 0 }
