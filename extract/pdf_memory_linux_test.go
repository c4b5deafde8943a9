//go:build linux

package extract

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestPDFMemoryHeldForKilledCall frees an instance's memory while a killed
// instance's call may still run: the pages stay mapped and as they were
// (zeroed, PDFium's allocator can loop for ever on them, and a loop in
// compiled WebAssembly stops the process at its next garbage collection),
// and are unmapped once no such call runs.
func TestPDFMemoryHeldForKilledCall(t *testing.T) {
	release := pdfHold()
	defer release()
	mem := pdfMemoryAllocator.Allocate(0, 1<<20)
	buf := mem.Reallocate(256 << 10)
	require.NotNil(t, buf)
	for i := range buf {
		buf[i] = byte(i%251) + 1
	}
	addr := uintptr(unsafe.Pointer(&buf[0]))
	mem.Free()

	require.True(t, mapped(t, addr))
	for i := range buf {
		if buf[i] != byte(i%251)+1 {
			t.Fatalf("byte %d of a held memory changed to %d", i, buf[i])
		}
	}

	release()
	// Other tests' killed calls hold the memory too, for a second or two.
	require.Eventually(t, func() bool { return !mapped(t, addr) }, 30*time.Second, 20*time.Millisecond)
}

// mapped reports whether addr lies in one of the process's mappings.
func mapped(t *testing.T, addr uintptr) bool {
	t.Helper()
	f, err := os.Open("/proc/self/maps")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		span, _, _ := strings.Cut(sc.Text(), " ")
		lo, hi, _ := strings.Cut(span, "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		require.NoError(t, err1)
		require.NoError(t, err2)
		if uint64(addr) >= start && uint64(addr) < end {
			return true
		}
	}
	require.NoError(t, sc.Err())
	return false
}
