package cli

import (
	"github.com/quirehq/quire/internal/app"

	"github.com/spf13/cobra"
)

// UpAddrDefault is where up serves its web UI and probes: the loopback
// interface, because up is meant for the browser of the machine it runs on
// (and --demo has no login). serve's :9090 is for the kubelet and Prometheus.
const UpAddrDefault = "127.0.0.1:8080"

func (a *cli) newUpCommand() *cobra.Command {
	cfg := &app.ServeConfig{Role: "all"}
	var inbox string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run every role of Quire in one process, with no server to install",
		Long: `Run every role of Quire in one process: a worker that runs the document
pipeline (extract, ocr, analyze, index, notify) and the built-in handlers
(noop, sleep), and an HTTP server on --addr with the REST API under
/api/v1/ (POST /api/v1/documents uploads a document), the web UI at /,
/healthz, /readyz and /metrics.

Its first start, with no user in the store, creates admin@localhost and
prints its password, this once. quire admin create adds users and quire
admin token create issues API tokens. --demo serves without sign-in instead,
only on the loopback interface, on a data directory of its own (./quire-demo
unless --data-dir is given; it refuses one that holds users or documents it
did not make), and feeds the sample documents built into the binary (or
those of --demo-corpus).

Everything is kept in --data-dir (./quire-data by default): jobs in jobs.db,
documents and results in quire.db, content in blobs/; nothing else needs
installing, and the store is migrated at start. --redis-url moves the job
engine to Redis, --postgres-url the store to PostgreSQL, --blob-url the
content to a shared directory, S3 or GCS, --cache-url the cache to
Memcached.

SIGINT and SIGTERM stop it gracefully: fetching stops, running jobs get
--shutdown-timeout to finish, the rest go back to their queues, and the HTTP
server closes.`,
		Example: `  quire up
  TOKEN=$(quire admin token create --name me --scope write)    # in another terminal
  curl -H "Authorization: Bearer $TOKEN" -F file=@report.pdf http://127.0.0.1:8080/api/v1/documents
  quire jobs enqueue sleep '{"duration":"2s"}'
  quire up --demo    # no sign-in, on this machine only, with sample documents`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Demo && !cmd.Flag("data-dir").Changed {
				if _, set := a.lookupEnv(app.EnvName("data-dir")); !set {
					a.Config.DataDir = app.DemoDataDirDefault
				}
			}
			return a.Up(cmd.Context(), cfg, inbox)
		},
	}
	cfg.AddFlags(cmd.Flags(), UpAddrDefault, `address of the web UI, the REST API, /healthz, /readyz and /metrics; "" serves none`)
	cfg.Web.AddFlags(cmd.Flags())
	cmd.Flags().BoolVar(&cfg.Demo, "demo", false, "serve without sign-in (only on the loopback interface) on a data directory of its own (default ./"+app.DemoDataDirDefault+") and feed sample documents")
	cmd.Flags().StringVar(&cfg.DemoCorpus, "demo-corpus", "", "folder of the sample documents --demo feeds (default: those built into the binary)")
	cmd.Flags().StringVar(&inbox, "inbox", "", "folder whose files are ingested, then moved to its .done/ or .failed/")
	app.WithEnv(cmd.Flags(), "inbox")
	return cmd
}
