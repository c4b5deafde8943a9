package sqlitesync

// Pending returns how many transactions wait for the next group.
func Pending(w *Writer) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// SetWALFramesMax lowers the log's length past which c empties it.
func SetWALFramesMax(c *Checkpointer, n int) { c.framesMax = n }
