package cli

import (
	"github.com/spf13/cobra"

	"github.com/quirehq/quire/internal/app"
)

func (a *cli) newServeCommand() *cobra.Command {
	cfg := &app.ServeConfig{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a Quire process in one role",
		Long: `Run a Quire process in one role:

  worker     fetches jobs from --queues and runs them: the document pipeline's
             stages (extract, analyze, notify, the sweep, webhooks) and the
             built-in handlers (noop, sleep).
  web        serves the REST API (/api/v1/) on --http-addr; fetches no jobs.
  ml         serves the active classifiers over the Open Inference Protocol
             (KServe v2 REST) at /v2/models/{name} on --http-addr, and loads
             newly activated versions without a restart; fetches no jobs.
  scheduler  enqueues the periodic jobs (the pipeline's sweep) at their
             ticks; fetches no jobs. Several may run: they elect a leader,
             which alone enqueues, and each tick is enqueued once.

Every role serves /healthz, /readyz and /metrics on --addr. Jobs are kept in
the embedded job database in --data-dir unless --redis-url is given, and
documents in --data-dir unless --postgres-url and --blob-url are given;
every process of a deployment must use the same ones.

SIGINT and SIGTERM stop it gracefully: /readyz answers 503 at once; a worker
stops fetching, lets running jobs finish within --shutdown-timeout and hands
the rest back to their queues; web stops accepting connections and lets the
requests in flight finish within --shutdown-timeout; the scheduler stops
enqueueing. SIGTSTP quiets a worker or a scheduler: it stops fetching or
enqueueing, and running jobs finish, but the process stays up until it is
stopped.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.Serve(cmd.Context(), cfg)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.Role, "role", app.RoleDefault, "role of this process: "+app.RoleNames())
	app.WithEnv(fs, "role")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", app.HTTPAddrDefault, "address of the web UI and REST API of the web role")
	app.WithEnv(fs, "http-addr")
	cfg.Web.AddFlags(fs)
	cfg.AddFlags(fs, app.AddrDefault, `address of /healthz, /readyz and /metrics; "" serves none`)
	return cmd
}
