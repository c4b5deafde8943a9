package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/quirehq/quire/internal/app"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/store"
)

func (a *cli) newReprocessCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "reprocess ID...",
		Short: "Run done or failed documents through the pipeline again",
		Long: `Run done or failed documents through the pipeline again, from extraction,
bypassing the cached extraction (after the extractor changed, or OCR was
installed). It enqueues the work on the same --data-dir or --redis-url as
up: a running quire up (or the next quire process) does it.`,
		Example: `  quire reprocess 01JD3Z8Q4X5M6N7P8R9S0T1V2W`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s: give at least one document ID", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, ids []string) error {
			return a.runReprocess(cmd.Context(), ids)
		},
	}
}

func (a *cli) runReprocess(ctx context.Context, ids []string) error {
	return a.WithDocuments(ctx, func(docs *app.Documents) error { return a.reprocess(ctx, docs, ids) })
}

func (a *cli) reprocess(ctx context.Context, docs *app.Documents, ids []string) error {
	var errs []error
	for _, id := range ids {
		doc, err := docs.Pipeline.Reprocess(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			errs = append(errs, fmt.Errorf("document %s not found", id))
		case errors.Is(err, store.ErrStateConflict):
			state := "in progress"
			if cur, gerr := docs.Store.GetDocument(ctx, id); gerr == nil {
				state = string(cur.State)
			}
			errs = append(errs, fmt.Errorf("document %s is %s; wait until it is done or failed", id, state))
		case err != nil:
			errs = append(errs, fmt.Errorf("document %s: %w", id, err))
		default:
			fmt.Fprintf(a.stdout, "%s\t%s\t%s\n", doc.ID, doc.State, doc.Name)
		}
	}
	return errors.Join(errs...)
}
