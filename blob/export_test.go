package blob

import "os"

// SetSyncs makes Put flush files and directories with file and dir until
// the test ends.
func SetSyncs(t interface{ Cleanup(func()) }, file func(*os.File) error, dir func(string) error) {
	oldFile, oldDir := syncFile, syncDir
	syncFile, syncDir = file, dir
	t.Cleanup(func() { syncFile, syncDir = oldFile, oldDir })
}

// FlushEachBlob makes s flush each blob and its directories on its own, as
// where there is no syncfs(2).
func FlushEachBlob(s *Store) { s.flush = nil }
