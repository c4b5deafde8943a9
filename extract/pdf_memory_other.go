//go:build !linux

package extract

import "github.com/tetratelabs/wazero/experimental"

// pdfMemoryAllocator keeps PDF instances' memory in Go's heap off Linux,
// where workers are not deployed and the mapped memory of
// pdf_memory_linux.go is not tested.
var pdfMemoryAllocator = experimental.MemoryAllocatorFunc(func(_, maxBytes uint64) experimental.LinearMemory {
	return &sliceMemory{max: maxBytes}
})

// pdfHold has nothing to hold where memory is Go's: the collector keeps it
// while a killed instance's call still runs.
func pdfHold() (release func()) { return func() {} }
