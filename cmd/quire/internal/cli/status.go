package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/store"
)

// statusView is what quire status prints with --json.
type statusView struct {
	Documents documentsView `json:"documents"`
	Queues    []queueView   `json:"queues"`
	// Processes is the number of live worker processes.
	Processes int `json:"processes"`
}

// documentsView counts documents: by state, and the states a person asks
// about first.
type documentsView struct {
	Total      int64            `json:"total"`
	InProgress int64            `json:"in_progress"`
	Done       int64            `json:"done"`
	Failed     int64            `json:"failed"`
	ByState    map[string]int64 `json:"by_state"`
}

func newDocumentsView(st *store.Stats) documentsView {
	v := documentsView{Total: st.Documents, ByState: make(map[string]int64, len(st.ByState)),
		Done: st.ByState[store.StateDone], Failed: st.ByState[store.StateFailed]}
	for s, n := range st.ByState {
		v.ByState[string(s)] = n
	}
	v.InProgress = v.Total - v.Done - v.Failed
	return v
}

func (a *cli) newStatusCommand() *cobra.Command {
	jc := &jobsCommand{cli: a}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show documents by state, the queues' health and the live workers",
		Long: `Show what a person running Quire asks first: how many documents there are,
how many are done, failed or still in the pipeline (by state), then each
queue's backlog, failures and latency, and how many worker processes are
alive. Documents and jobs are counted apart: one document takes several
jobs (extract, analyze, notify...), and a document fails once however many
times its jobs were retried.`,
		Example: `  quire status
  quire status --redis-url redis://queue:6379/0 --postgres-url postgres://... --json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var v statusView
			err := a.WithStore(cmd.Context(), func(st store.Store) error {
				stats, err := st.Stats(cmd.Context())
				if err != nil {
					return err
				}
				v.Documents = newDocumentsView(stats)
				return nil
			})
			if err != nil {
				return err
			}
			err = jc.withInspector(func(insp *jobs.Inspector) error {
				qs, err := insp.Queues(cmd.Context())
				if err != nil {
					return err
				}
				v.Queues = make([]queueView, len(qs))
				for i, q := range qs {
					v.Queues[i] = newQueueView(&q.QueueStats)
					v.Queues[i].LatencySeconds = q.Latency.Seconds()
				}
				ps, err := insp.Processes(cmd.Context())
				v.Processes = len(ps)
				return err
			})
			if err != nil {
				return err
			}
			return jc.print(v, func(w io.Writer) error {
				d := v.Documents
				fmt.Fprintf(w, "DOCUMENTS\tIN PROGRESS\tDONE\tFAILED\n")
				fmt.Fprintf(w, "%d\t%d\t%d\t%d\n", d.Total, d.InProgress, d.Done, d.Failed)
				fmt.Fprintf(w, "\nSTATE\tDOCUMENTS\n")
				for _, s := range store.States {
					fmt.Fprintf(w, "%s\t%d\n", s, d.ByState[string(s)])
				}
				fmt.Fprintf(w, "\nQUEUE\tREADY\tRUNNING\tRETRY\tDEAD\tLATENCY\tPAUSED\n")
				for _, q := range v.Queues {
					fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", q.Queue, q.Ready, q.Running, q.Retry, q.Dead,
						roundDuration(time.Duration(q.LatencySeconds*float64(time.Second))), yesNo(q.Paused))
				}
				fmt.Fprintf(w, "\n%d worker processes alive\n", v.Processes)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&jc.json, "json", false, "print JSON instead of tables")
	return cmd
}
