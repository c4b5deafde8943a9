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
	var inbox string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run every role of Quire in one process, with no server to install",
		Long: `Run every role of Quire in one process: a worker that runs the document
pipeline (extract, ocr, analyze, index, notify) and the built-in handlers
(noop, sleep), and an HTTP server on --addr with the REST API under
/api/v1/ (POST /api/v1/documents uploads a document), a status page at /
(queues, processes, today's counts), /healthz, /readyz and /metrics.

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
  curl -F file=@report.pdf http://127.0.0.1:8080/api/v1/documents    # in another terminal
  quire jobs enqueue sleep '{"duration":"2s"}'`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runUp(cmd.Context(), cfg, inbox)
		},
	}
	cfg.addFlags(cmd.Flags(), UpAddrDefault, `address of the status page, /healthz, /readyz and /metrics; "" serves none`)
	cmd.Flags().StringVar(&inbox, "inbox", "", "folder whose files are ingested, then moved to its .done/ or .failed/")
	withEnv(cmd.Flags(), "inbox")
	return cmd
}

// runUp runs the worker role and the status page in this process. The
// other roles join it here as they are written.
func (a *app) runUp(ctx context.Context, cfg *serveConfig, inbox string) error {
	queues, err := cfg.validate()
	if err != nil {
		return err
	}
	stopPprof, err := startPprof(cfg.PprofAddr, a.log)
	if err != nil {
		return err
	}
	defer stopPprof()
	return a.runProcess(ctx, cfg, queues, &processOpts{command: "up", role: cfg.Role, statusPage: true, documents: true, all: true, inbox: inbox})
}
