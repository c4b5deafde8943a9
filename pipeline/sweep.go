package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/store"
)

// sweepMax bounds the documents one sweep looks at per state.
const sweepMax = 10_000

// sweep re-enqueues the stage of every document that has sat in a state
// longer than StuckAfter: a process killed between recording a document and
// enqueueing its next stage leaves it there. The stage jobs are unique, so a
// document whose job is merely waiting in a long queue is not run twice.
func (p *Pipeline) sweep(ctx context.Context, _ *jobs.Job) error {
	cutoff := time.Now().Add(-p.cfg.StuckAfter)
	next := map[store.State]func(d *store.Document) error{
		store.StateReceived: func(d *store.Document) error {
			return p.enqueueStage(ctx, JobExtract, extractQueue(d.MIMEType), d)
		},
		store.StateExtracting: func(d *store.Document) error {
			return p.enqueueStage(ctx, JobExtract, extractQueue(d.MIMEType), d)
		},
		store.StateAnalyzing: func(d *store.Document) error { return p.enqueueStage(ctx, JobAnalyze, QueueAnalyze, d) },
		store.StateIndexed:   func(d *store.Document) error { return p.enqueueStage(ctx, JobNotify, QueueNotify, d) },
	}
	var errs []error
	swept := 0
	for state, enqueue := range next {
		cursor, seen := "", 0
		for seen < sweepMax {
			page, err := p.cfg.Store.ListDocuments(ctx, &store.ListDocumentsParams{State: state, Cursor: cursor, Limit: store.ListLimitMax})
			if err != nil {
				errs = append(errs, fmt.Errorf("list %s documents: %w", state, err))
				break
			}
			for i := range page.Documents {
				d := &page.Documents[i]
				seen++
				if d.UpdatedAt.After(cutoff) {
					continue
				}
				if err := enqueue(d); err != nil {
					errs = append(errs, err)
					continue
				}
				swept++
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
	}
	if swept > 0 {
		// Most are duplicates of jobs still waiting, which the unique
		// stage keys turn away; the count is of documents looked after.
		p.log.Info("pipeline: sweep enqueued the stages of documents idle too long", "documents", swept)
	}
	return errors.Join(errs...)
}
