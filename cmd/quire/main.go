// Command quire runs Quire's workers and manages its jobs. The commands live
// in internal/cli; this file only wires them to the process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/quirehq/quire/cmd/quire/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the process at once
	}()
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
