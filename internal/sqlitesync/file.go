package sqlitesync

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CreateFile creates the database file at path, empty and readable and
// writable by its owner only (0600), unless something is there already.
// SQLite would create it 0644 less the umask, and it gives the -wal and
// -shm files it creates beside a database the database's own mode: the
// three hold the same data (documents' text, password hashes, webhook
// secrets). An empty file is a new database to SQLite.
//
// The file is made under a temporary name, closed and only then linked
// into place, so that no descriptor of it is closed while SQLite may hold
// locks on it: closing any descriptor of a file drops every POSIX lock the
// process holds on it. Where the file system has no hard links, SQLite
// creates the file itself.
func CreateFile(path string) error {
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil // there already; or unreadable, which SQLite reports
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".new-*") // 0600
	if err != nil {
		return fmt.Errorf("create the database file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("create the database file: %w", err)
	}
	// Another process may have created it meanwhile (ErrExist): theirs
	// stays. Any other failure leaves the creation to SQLite.
	_ = os.Link(tmp.Name(), path)
	return nil
}
