package sidekiq_test

import (
	"context"
	"encoding/json"
	"log"
	"os/signal"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/sidekiq"
)

// A Go worker for the Ruby class ReportWorker, whose jobs Rails enqueues with
// ReportWorker.perform_async(report_id, options) on the queue "reports_go".
func ExampleNewServer() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"}) // Sidekiq's database
	d, err := sidekiq.NewDriver(rdb, nil)
	if err != nil {
		log.Fatal(err)
	}
	hs := jobs.NewHandlers()
	jobs.HandleArgs(hs, "ReportWorker", func(ctx context.Context, j *jobs.Job, args []json.RawMessage) error {
		var reportID int64
		if err := json.Unmarshal(args[0], &reportID); err != nil {
			return jobs.Discard(err) // a retry cannot mend it
		}
		return render(ctx, reportID)
	}, nil)
	srv, err := sidekiq.NewServer(d, &jobs.Config{Handlers: hs, Queues: map[string]int{"reports_go": 1}})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := srv.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

// Jobs that a Ruby sidekiq process runs: InvoiceMailer#perform(invoice_id, locale).
func ExampleDriver_enqueue() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	d, _ := sidekiq.NewDriver(rdb, nil)
	client, _ := jobs.NewClient(d, nil)
	j, err := client.Enqueue(context.Background(), "InvoiceMailer", []any{1234, "en"},
		&jobs.EnqueueOpts{Queue: "mailers"})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("pushed jid %s", j.ID)
}

func render(context.Context, int64) error { return nil }
