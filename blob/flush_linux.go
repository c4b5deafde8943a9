package blob

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// newDirFlush returns the group flush of the file system holding dir:
// syncfs(2) writes every file and directory of it that waits in memory.
func newDirFlush(dir string) (*groupFlush, func() error, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s to flush it: %w", dir, err)
	}
	return newGroupFlush(func() error { return syncFS(fd) }), func() error { return unix.Close(fd) }, nil
}

// syncFS flushes the file system of a descriptor. A variable, so that a test
// can watch it or make it fail, as a disk can.
var syncFS = unix.Syncfs
