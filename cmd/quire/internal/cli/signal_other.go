//go:build !unix

package cli

import "os"

// notifyQuiet has no signal to deliver where there is no SIGTSTP: a server
// is quieted by its shutdown alone.
func notifyQuiet() (<-chan os.Signal, func()) { return nil, func() {} }
