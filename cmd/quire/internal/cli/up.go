package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// UpAddrDefault is where up serves its status page and probes: the loopback
// interface, because the page has no login and is meant for the browser of
// the machine it runs on. serve's :9090 is for the kubelet and Prometheus.
const UpAddrDefault = "127.0.0.1:8080"

func (a *app) newUpCommand() *cobra.Command {
	cfg := &serveConfig{Role: "all"}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run every role of Quire in one process, with no server to install",
		Long: `Run every role of Quire in one process: a worker for the built-in
handlers (noop, sleep), as serve --role worker runs, and an HTTP server on
--addr with a status page at / (queues, processes, today's counts) beside
/healthz, /readyz and /metrics.

Jobs are kept in an embedded SQLite database, --data-dir/jobs.db
(./quire-data/jobs.db by default), so nothing else needs installing; the
jobs commands given the same --data-dir see and feed the same jobs.
--redis-url runs the job engine on Redis instead.

SIGINT and SIGTERM stop it gracefully: fetching stops, running jobs get
--shutdown-timeout to finish, the rest go back to their queues, and the HTTP
server closes.`,
		Example: `  quire up
  quire jobs enqueue sleep '{"duration":"2s"}'    # in another terminal; see it at http://127.0.0.1:8080/`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runUp(cmd.Context(), cfg)
		},
	}
	cfg.addFlags(cmd.Flags(), UpAddrDefault, `address of the status page, /healthz, /readyz and /metrics; "" serves none`)
	return cmd
}

// runUp runs the worker role and the status page in this process. The
// other roles join it here as they are written.
func (a *app) runUp(ctx context.Context, cfg *serveConfig) error {
	queues, err := cfg.validate()
	if err != nil {
		return err
	}
	return a.runProcess(ctx, cfg, queues, &processOpts{command: "up", role: cfg.Role, statusPage: true})
}
