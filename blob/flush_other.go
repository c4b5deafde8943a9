//go:build !linux

package blob

// newDirFlush returns nil where there is no syncfs(2): Put then flushes
// each blob and its directories on its own.
func newDirFlush(string) (*groupFlush, func() error, error) { return nil, nil, nil }
