//go:build !unix

package cli

// restrictFileModes does nothing where there is no umask; files take
// their directory's permissions.
func restrictFileModes() {}
