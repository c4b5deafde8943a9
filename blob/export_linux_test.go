package blob

// SetSyncFS makes the group flushes call fn until the test ends.
func SetSyncFS(t interface{ Cleanup(func()) }, fn func(fd int) error) {
	old := syncFS
	syncFS = fn
	t.Cleanup(func() { syncFS = old })
}
