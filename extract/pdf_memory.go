package extract

// sliceMemory is a WebAssembly memory in Go's heap, grown by copying: what
// wazero does by default, for where no mapping can be had.
type sliceMemory struct {
	buf []byte
	max uint64
}

func (m *sliceMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	b := make([]byte, size, min(max(size, uint64(cap(m.buf))*5/4), m.max))
	copy(b, m.buf)
	m.buf = b
	return m.buf
}

func (m *sliceMemory) Free() { m.buf = nil }
