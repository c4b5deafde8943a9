//go:build unix

package cli

import "syscall"

// restrictFileModes makes every file and directory Quire creates its own
// user's alone (files 0600, directories 0700): the data directory holds
// the databases, with webhook secrets and password hashes, and the
// documents themselves. The blob store and SQLite create their files with
// the usual 0666 and 0777, which the umask cuts down. A deployment that
// shares a volume between pods runs them as one user (deploy/k8s).
func restrictFileModes() { syscall.Umask(0o077) }
