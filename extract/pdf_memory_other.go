//go:build !unix

package extract

import "github.com/tetratelabs/wazero/experimental"

// pdfMemoryAllocator keeps PDF instances' memory in Go's heap where there
// are no anonymous mappings (see pdf_memory_unix.go).
var pdfMemoryAllocator = experimental.MemoryAllocatorFunc(func(_, maxBytes uint64) experimental.LinearMemory {
	return &sliceMemory{max: maxBytes}
})

// pdfHold has nothing to hold where memory is Go's: the collector keeps it
// while a killed instance's call still runs.
func pdfHold() (release func()) { return func() {} }
