//go:build linux

package extract

import (
	"sync"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// pdfMemoryAllocator backs a PDF instance's WebAssembly memory with an
// anonymous mapping reserved at the instance's memory limit. wazero's own
// memory grows by append, so a memory at its limit briefly holds the old
// buffer and the new one, and the old ones stay until the collector runs: a
// decompression bomb stopped at 512 MiB cost the process 2 to 4 GiB. A
// mapping grows in place, costs only the pages PDFium touches, and is given
// back to the system when the instance closes.
var pdfMemoryAllocator = experimental.MemoryAllocatorFunc(func(capBytes, maxBytes uint64) experimental.LinearMemory {
	buf, err := syscall.Mmap(-1, 0, int(maxBytes), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		// No address space to reserve (a tight ulimit -v): Go's memory.
		return &sliceMemory{max: maxBytes}
	}
	return &mappedMemory{buf: buf}
})

type mappedMemory struct{ buf []byte }

func (m *mappedMemory) Reallocate(size uint64) []byte {
	if m.buf == nil || size > uint64(len(m.buf)) {
		return nil // past the limit: the allocation fails inside PDFium
	}
	return m.buf[:size:size]
}

// Free unmaps the memory, or, while a killed instance's call may still run
// (pdfHold), keeps it mapped and untouched until none does. withPDF kills an
// instance whose document's context ended while its call runs on: that call
// reading an unmapped address is a fault that takes the whole process down,
// and one reading zeroed pages can spin for ever (the allocator's circular
// free lists lead back to address 0, never to their head), where no
// preemption reaches it and the next garbage collection waits on it with
// every other goroutine. Left as they were, the pages let the call end as it
// would have.
func (m *mappedMemory) Free() {
	if m.buf == nil {
		return
	}
	unmapped.mu.Lock()
	unmapped.bufs = append(unmapped.bufs, m.buf)
	unmapped.drainLocked()
	unmapped.mu.Unlock()
	m.buf = nil
}

// unmapped holds the freed mappings not yet unmapped, and the number of
// killed instances' calls that may still run.
var unmapped graveyard

type graveyard struct {
	mu      sync.Mutex
	running int
	bufs    [][]byte
}

// drainLocked unmaps the freed mappings when no killed instance's call runs.
func (g *graveyard) drainLocked() {
	if g.running > 0 {
		return
	}
	for _, b := range g.bufs {
		_ = syscall.Munmap(b)
	}
	g.bufs = g.bufs[:0]
}

// pdfHold keeps every freed mapping mapped until the returned release is
// called: around an instance killed while its call may still run.
func pdfHold() (release func()) {
	unmapped.mu.Lock()
	unmapped.running++
	unmapped.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			unmapped.mu.Lock()
			unmapped.running--
			unmapped.drainLocked()
			unmapped.mu.Unlock()
		})
	}
}
