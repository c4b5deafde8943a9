// Package buildinfo holds what the build says about itself.
package buildinfo

// Version is the release this binary was built from, set at link time:
//
//	go build -ldflags "-X github.com/quirehq/quire/internal/buildinfo.Version=v1.2.3" ./cmd/quire
//
// Defaults to "dev".
var Version = "dev"
