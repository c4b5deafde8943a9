//go:build unix

package extract

import (
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// pdfMemoryAllocator backs a PDF instance's WebAssembly memory with an
// anonymous mapping reserved at the instance's memory limit. wazero's own
// memory grows by append, so a memory at its limit briefly holds the old
// buffer and the new one, and the old ones stay until the collector runs: a
// decompression bomb stopped at 512 MiB cost the process 2 to 4 GiB. A
// mapping grows in place, costs only the pages PDFium touches, and is given
// back to the system the moment the instance closes.
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

func (m *mappedMemory) Free() {
	if m.buf != nil {
		_ = syscall.Munmap(m.buf)
		m.buf = nil
	}
}
