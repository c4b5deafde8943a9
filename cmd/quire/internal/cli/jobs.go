package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/quirehq/quire/internal/app"

	"github.com/spf13/cobra"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// enqueueChunk is how many jobs one EnqueueMany call of `jobs enqueue
// --count` stores.
const enqueueChunk = 5000

// jobsCommand holds the state of the jobs command group.
type jobsCommand struct {
	*cli
	json bool
}

func (a *cli) newJobsCommand() *cobra.Command {
	jc := &jobsCommand{cli: a}
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "Inspect and manage queues and jobs",
	}
	cmd.PersistentFlags().BoolVar(&jc.json, "json", false, "print JSON instead of tables")
	cmd.AddCommand(
		jc.newStatsCommand(),
		jc.newQueuesCommand(),
		jc.newProcessesCommand(),
		jc.newListCommand("ready", jobs.StateReady, "List jobs waiting to run, next first"),
		jc.newListCommand("running", jobs.StateRunning, "List jobs held by workers"),
		jc.newListCommand("scheduled", jobs.StateScheduled, "List jobs scheduled for later, soonest first"),
		jc.newListCommand("retries", jobs.StateRetry, "List failed jobs waiting to be retried, soonest first"),
		jc.newListCommand("dead", jobs.StateDead, "List jobs that failed for good, newest first"),
		jc.newGetCommand(),
		jc.newRetryCommand(),
		jc.newDeleteCommand(),
		jc.newCancelCommand(),
		jc.newPauseCommand(true),
		jc.newPauseCommand(false),
		jc.newEnqueueCommand(),
	)
	return cmd
}

// withInspector runs fn with an inspector on the configured broker.
func (jc *jobsCommand) withInspector(fn func(insp *jobs.Inspector) error) error {
	b, err := app.OpenBroker(&jc.Config)
	if err != nil {
		return err
	}
	defer b.Close()
	return fn(jobs.NewInspector(b.Driver, nil))
}

// print writes v as JSON with --json, else calls table with a tabwriter.
func (jc *jobsCommand) print(v any, table func(w io.Writer) error) error {
	if jc.json {
		return writeJSON(jc.stdout, v)
	}
	tw := tabwriter.NewWriter(jc.stdout, 0, 0, 2, ' ', 0)
	if err := table(tw); err != nil {
		return err
	}
	return tw.Flush()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (jc *jobsCommand) newStatsCommand() *cobra.Command {
	days := 1
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Show job counts by state and executions, over all queues",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if days < 1 {
				return usagef("invalid --days %d: it must be at least 1", days)
			}
			return jc.withInspector(func(insp *jobs.Inspector) error {
				st, err := insp.Stats(cmd.Context(), days)
				if err != nil {
					return err
				}
				v := newStatsView(st)
				return jc.print(v, func(w io.Writer) error {
					fmt.Fprintf(w, "PROCESSED\tFAILED\tREADY\tRUNNING\tSCHEDULED\tRETRY\tDEAD\n")
					fmt.Fprintf(w, "%d\t%d\t%d\t%d\t%d\t%d\t%d\n", v.Processed, v.Failed, v.Ready, v.Running, v.Scheduled, v.Retry, v.Dead)
					if days > 1 {
						fmt.Fprintf(w, "\nDATE\tPROCESSED\tFAILED\n")
						for _, d := range v.Daily {
							fmt.Fprintf(w, "%s\t%d\t%d\n", d.Date, d.Processed, d.Failed)
						}
					}
					return nil
				})
			})
		},
	}
	cmd.Flags().IntVar(&days, "days", days, "days of daily counters to show, today first")
	return cmd
}

func (jc *jobsCommand) newQueuesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "queues",
		Short: "List queues with their sizes, latency and counters",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return jc.withInspector(func(insp *jobs.Inspector) error {
				qs, err := insp.Queues(cmd.Context())
				if err != nil {
					return err
				}
				vs := make([]queueView, len(qs))
				for i, q := range qs {
					vs[i] = newQueueView(&q.QueueStats)
					vs[i].LatencySeconds = q.Latency.Seconds()
				}
				return jc.print(vs, func(w io.Writer) error {
					fmt.Fprintf(w, "QUEUE\tPAUSED\tREADY\tRUNNING\tSCHEDULED\tRETRY\tDEAD\tLATENCY\tPROCESSED\tFAILED\n")
					for _, q := range vs {
						fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%d\n", q.Queue, yesNo(q.Paused), q.Ready, q.Running,
							q.Scheduled, q.Retry, q.Dead, roundDuration(time.Duration(q.LatencySeconds*float64(time.Second))),
							q.Processed, q.Failed)
					}
					return nil
				})
			})
		},
	}
}

func (jc *jobsCommand) newProcessesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "processes",
		Short: "List the live worker processes",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return jc.withInspector(func(insp *jobs.Inspector) error {
				ps, err := insp.Processes(cmd.Context())
				if err != nil {
					return err
				}
				if ps == nil {
					ps = []*jobdriver.ProcessInfo{}
				}
				now := time.Now()
				return jc.print(ps, func(w io.Writer) error {
					fmt.Fprintf(w, "ID\tQUEUES\tBUSY\tQUIET\tSTARTED\tBEAT\tVERSION\n")
					for _, p := range ps {
						fmt.Fprintf(w, "%s\t%s\t%d/%d\t%s\t%s\t%s\t%s\n", p.ID, strings.Join(p.Queues, ","), p.Busy,
							p.Concurrency, yesNo(p.Quiet), relTime(now, p.StartedAt), relTime(now, p.BeatAt), p.Version)
					}
					return nil
				})
			})
		},
	}
}

func (jc *jobsCommand) newListCommand(name string, state jobs.State, short string) *cobra.Command {
	p := &jobs.ListParams{State: state}
	cmd := &cobra.Command{
		Use:   name,
		Short: short,
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if p.Offset < 0 || p.Limit < 1 || p.Limit > 1000 {
				return usagef("invalid --offset %d / --limit %d: offset must not be negative and limit must be 1 to 1000", p.Offset, p.Limit)
			}
			return jc.withInspector(func(insp *jobs.Inspector) error {
				js, err := insp.Jobs(cmd.Context(), p)
				if err != nil {
					return err
				}
				vs := make([]jobView, len(js))
				for i, j := range js {
					vs[i] = newJobView(j)
				}
				now := time.Now()
				return jc.print(vs, func(w io.Writer) error {
					fmt.Fprintf(w, "ID\tTYPE\tQUEUE\tATTEMPT\t%s\tERROR\n", listTimeHeader(state))
					for _, j := range js {
						fmt.Fprintf(w, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Type, j.Queue, j.Attempt, j.MaxRetries+1,
							relTime(now, listTime(j)), oneLine(j.Error, 60))
					}
					return nil
				})
			})
		},
	}
	cmd.Flags().StringVar(&p.Queue, "queue", "", "list only this queue")
	cmd.Flags().IntVar(&p.Offset, "offset", 0, "skip this many jobs")
	cmd.Flags().IntVar(&p.Limit, "limit", 25, "list at most this many jobs (1 to 1000)")
	return cmd
}

func listTimeHeader(s jobs.State) string {
	switch s {
	case jobs.StateScheduled, jobs.StateRetry:
		return "DUE"
	case jobs.StateDead:
		return "DIED"
	}
	return "ENQUEUED"
}

func listTime(j *jobs.Job) time.Time {
	switch j.State {
	case jobs.StateScheduled, jobs.StateRetry:
		return j.ScheduledAt
	case jobs.StateDead:
		return j.FailedAt
	}
	return j.ReadyAt()
}

func (jc *jobsCommand) newGetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one job",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return jc.withInspector(func(insp *jobs.Inspector) error {
				j, err := insp.Job(cmd.Context(), args[0])
				if errors.Is(err, jobs.ErrNotFound) {
					return fmt.Errorf("job %s not found", args[0])
				}
				if err != nil {
					return err
				}
				v := newJobView(j)
				now := time.Now()
				return jc.print(v, func(w io.Writer) error {
					row := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
					row("ID", v.ID)
					row("Type", v.Type)
					row("Queue", v.Queue)
					row("State", string(v.State))
					row("Args", string(v.Args))
					row("Attempt", fmt.Sprintf("%d of %d", v.Attempt, v.MaxRetries+1))
					if v.Rescues > 0 {
						row("Rescues", fmt.Sprintf("%d (its worker stopped while it ran)", v.Rescues))
					}
					row("Created", relTime(now, v.CreatedAt))
					row("Enqueued", relTime(now, v.EnqueuedAt))
					if v.ScheduledAt != nil {
						row("Due", relTime(now, *v.ScheduledAt))
					}
					if v.FailedAt != nil {
						row("Failed", relTime(now, *v.FailedAt))
					}
					if v.Error != "" {
						row("Error", oneLine(v.Error, 200))
					}
					if len(v.Tags) > 0 {
						row("Tags", strings.Join(v.Tags, ", "))
					}
					if v.Timeout != "" {
						row("Timeout", v.Timeout)
					}
					return nil
				})
			})
		},
	}
}

// stateFlag reads --state for retry and delete: empty or one of allowed.
func stateFlag(s string, allowed ...jobs.State) (jobs.State, error) {
	if s == "" {
		return "", nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		if jobs.State(s) == a {
			return a, nil
		}
		names[i] = string(a)
	}
	return "", usagef("invalid --state %q: use %s", s, strings.Join(names, ", "))
}

func (jc *jobsCommand) newRetryCommand() *cobra.Command {
	var state string
	cmd := &cobra.Command{
		Use:   "retry ID",
		Short: "Make a retry, dead or scheduled job ready now",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			allowed := []jobs.State{jobs.StateRetry, jobs.StateDead, jobs.StateScheduled}
			st, err := stateFlag(state, allowed...)
			if err != nil {
				return err
			}
			return jc.withInspector(func(insp *jobs.Inspector) error {
				err := insp.Retry(cmd.Context(), st, args[0])
				if errors.Is(err, jobs.ErrNotFound) {
					return notFound(args[0], st, allowed)
				}
				if err != nil {
					return err
				}
				return jc.done(args[0], "retried", "job %s is ready to run\n")
			})
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "look only in this set: retry, dead or scheduled")
	return cmd
}

func (jc *jobsCommand) newDeleteCommand() *cobra.Command {
	var state string
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a job that is not running",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			allowed := []jobs.State{jobs.StateRetry, jobs.StateDead, jobs.StateScheduled, jobs.StateReady}
			st, err := stateFlag(state, allowed...)
			if err != nil {
				return err
			}
			return jc.withInspector(func(insp *jobs.Inspector) error {
				err := insp.Delete(cmd.Context(), st, args[0])
				if errors.Is(err, jobs.ErrNotFound) {
					return notFound(args[0], st, allowed)
				}
				if err != nil {
					return err
				}
				return jc.done(args[0], "deleted", "job %s deleted\n")
			})
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "look only in this set: retry, dead, scheduled or ready")
	return cmd
}

func (jc *jobsCommand) newCancelCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a job: a waiting one goes dead at once, a running one is stopped within a second",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return jc.withInspector(func(insp *jobs.Inspector) error {
				was, err := insp.Cancel(cmd.Context(), args[0], reason)
				if errors.Is(err, jobs.ErrNotFound) {
					return fmt.Errorf("job %s not found: it may have finished", args[0])
				}
				if err != nil {
					return err
				}
				if was == jobs.StateRunning {
					return jc.done(args[0], "cancel-requested", "job %s is running: its worker will cancel it\n")
				}
				return jc.done(args[0], "cancelled", "job %s cancelled (in the dead set)\n")
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, stored as the job's error (default \"cancelled\")")
	return cmd
}

func notFound(id string, st jobs.State, searched []jobs.State) error {
	if st != "" {
		return fmt.Errorf("job %s not found in the %s set", id, st)
	}
	names := make([]string, len(searched))
	for i, s := range searched {
		names[i] = string(s)
	}
	return fmt.Errorf("job %s not found in the %s sets", id, strings.Join(names, ", "))
}

// done reports an action on a job.
func (jc *jobsCommand) done(id, action, human string) error {
	if jc.json {
		return writeJSON(jc.stdout, map[string]string{"id": id, "action": action})
	}
	_, err := fmt.Fprintf(jc.stdout, human, id)
	return err
}

func (jc *jobsCommand) newPauseCommand(pause bool) *cobra.Command {
	use, short, action := "resume QUEUE", "Let workers fetch from a paused queue again", "resumed"
	if pause {
		use, short, action = "pause QUEUE", "Stop every worker from fetching from a queue", "paused"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := args[0]
			if err := jobs.ValidateQueueName(q); err != nil {
				return &usageError{Err: err}
			}
			return jc.withInspector(func(insp *jobs.Inspector) error {
				var err error
				if pause {
					err = insp.PauseQueue(cmd.Context(), q)
				} else {
					err = insp.ResumeQueue(cmd.Context(), q)
				}
				if err != nil {
					return err
				}
				if jc.json {
					return writeJSON(jc.stdout, map[string]string{"queue": q, "action": action})
				}
				_, err = fmt.Fprintf(jc.stdout, "queue %s %s\n", q, action)
				return err
			})
		},
	}
}

func (jc *jobsCommand) newEnqueueCommand() *cobra.Command {
	var (
		opts  jobs.EnqueueOpts
		count int
	)
	cmd := &cobra.Command{
		Use:   "enqueue TYPE [ARGS_JSON]",
		Short: "Enqueue jobs, for operators and tests",
		Example: `  quire jobs enqueue sleep '{"duration":"150ms"}' --queue critical
  quire jobs enqueue noop --count 10000 --in 1m`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if count < 1 {
				return usagef("invalid --count %d: it must be at least 1", count)
			}
			if opts.RunIn < 0 {
				return usagef("invalid --in %s: it must not be negative", opts.RunIn)
			}
			var jobArgs json.RawMessage
			if len(args) == 2 {
				jobArgs = json.RawMessage(args[1])
				if !json.Valid(jobArgs) {
					return usagef("ARGS_JSON %q is not valid JSON", args[1])
				}
			}
			b, err := app.OpenBroker(&jc.Config)
			if err != nil {
				return err
			}
			defer b.Close()
			client, err := jobs.NewClient(b.Driver, nil)
			if err != nil {
				return err
			}
			ids, err := enqueueCount(cmd.Context(), client, args[0], jobArgs, &opts, count)
			if err != nil {
				return err
			}
			if jc.json {
				return writeJSON(jc.stdout, map[string]any{"ids": ids})
			}
			if count == 1 {
				_, err = fmt.Fprintf(jc.stdout, "%s\n", ids[0])
				return err
			}
			_, err = fmt.Fprintf(jc.stdout, "enqueued %d %s jobs on queue %s\n", count, args[0], opts.Queue)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opts.Queue, "queue", jobs.QueueDefault, "queue to put the jobs on")
	fs.DurationVar(&opts.RunIn, "in", 0, "run the jobs after this delay instead of now")
	fs.IntVar(&count, "count", 1, "how many identical jobs to enqueue")
	fs.IntVar(&opts.MaxRetries, "max-retries", 0, "retries after a failure; 0 uses the default (25), -1 allows none")
	return cmd
}

// enqueueCount enqueues count jobs, in bulk when there are several, and
// returns their ids.
func enqueueCount(ctx context.Context, client *jobs.Client, jobType string, args json.RawMessage, opts *jobs.EnqueueOpts, count int) ([]string, error) {
	if count == 1 {
		j, err := client.Enqueue(ctx, jobType, args, opts)
		if err != nil {
			return nil, err
		}
		return []string{j.ID}, nil
	}
	ids := make([]string, 0, count)
	params := make([]jobs.EnqueueParams, 0, min(count, enqueueChunk))
	for len(ids) < count {
		params = params[:0]
		for range min(count-len(ids), enqueueChunk) {
			params = append(params, jobs.EnqueueParams{Type: jobType, Args: args, Opts: opts})
		}
		js, err := client.EnqueueMany(ctx, params)
		if err != nil {
			return ids, fmt.Errorf("after %d of %d jobs: %w", len(ids), count, err)
		}
		for _, j := range js {
			ids = append(ids, j.ID)
		}
	}
	return ids, nil
}

// jobView is a job as the CLI prints it in JSON.
type jobView struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	Queue       string          `json:"queue"`
	State       jobs.State      `json:"state"`
	Args        json.RawMessage `json:"args"`
	Attempt     int             `json:"attempt"`
	MaxRetries  int             `json:"max_retries"`
	Rescues     int             `json:"rescues,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	EnqueuedAt  time.Time       `json:"enqueued_at"`
	ScheduledAt *time.Time      `json:"scheduled_at,omitempty"`
	Error       string          `json:"error,omitempty"`
	FailedAt    *time.Time      `json:"failed_at,omitempty"`
	Tags        []string        `json:"tags,omitempty"`
	Timeout     string          `json:"timeout,omitempty"`
	Backoff     *backoffView    `json:"backoff,omitempty"`
}

type backoffView struct {
	Base string `json:"base"`
	Max  string `json:"max"`
}

func newJobView(j *jobs.Job) jobView {
	v := jobView{
		ID: j.ID, Type: j.Type, Queue: j.Queue, State: j.State, Args: j.Args, Attempt: j.Attempt,
		MaxRetries: j.MaxRetries, Rescues: j.Rescues, CreatedAt: j.CreatedAt.UTC(), EnqueuedAt: j.EnqueuedAt.UTC(), Error: j.Error, Tags: j.Tags,
	}
	if len(v.Args) == 0 {
		v.Args = json.RawMessage("null")
	}
	if !j.ScheduledAt.IsZero() {
		t := j.ScheduledAt.UTC()
		v.ScheduledAt = &t
	}
	if !j.FailedAt.IsZero() {
		t := j.FailedAt.UTC()
		v.FailedAt = &t
	}
	if j.Timeout > 0 {
		v.Timeout = j.Timeout.String()
	}
	if j.Backoff != nil {
		v.Backoff = &backoffView{Base: j.Backoff.Base.String(), Max: j.Backoff.Max.String()}
	}
	return v
}

// queueView is a queue as the CLI prints it in JSON.
type queueView struct {
	Queue          string  `json:"queue"`
	Paused         bool    `json:"paused"`
	Ready          int64   `json:"ready"`
	Running        int64   `json:"running"`
	Scheduled      int64   `json:"scheduled"`
	Retry          int64   `json:"retry"`
	Dead           int64   `json:"dead"`
	LatencySeconds float64 `json:"latency_seconds"`
	Processed      int64   `json:"processed"`
	Failed         int64   `json:"failed"`
}

func newQueueView(q *jobdriver.QueueStats) queueView {
	return queueView{Queue: q.Queue, Paused: q.Paused, Ready: q.Ready, Running: q.Running, Scheduled: q.Scheduled,
		Retry: q.Retry, Dead: q.Dead, Processed: q.Processed, Failed: q.Failed}
}

// statsView is the engine's counters as the CLI prints them in JSON.
type statsView struct {
	Processed int64       `json:"processed"`
	Failed    int64       `json:"failed"`
	Ready     int64       `json:"ready"`
	Running   int64       `json:"running"`
	Scheduled int64       `json:"scheduled"`
	Retry     int64       `json:"retry"`
	Dead      int64       `json:"dead"`
	Daily     []dayView   `json:"daily"`
	Queues    []queueView `json:"queues"`
}

type dayView struct {
	Date      string `json:"date"`
	Processed int64  `json:"processed"`
	Failed    int64  `json:"failed"`
}

func newStatsView(st *jobs.Stats) statsView {
	v := statsView{Processed: st.Processed, Failed: st.Failed, Ready: st.Ready, Running: st.Running,
		Scheduled: st.Scheduled, Retry: st.Retry, Dead: st.Dead, Daily: []dayView{}, Queues: []queueView{}}
	for _, d := range st.Daily {
		v.Daily = append(v.Daily, dayView{Date: d.Date, Processed: d.Processed, Failed: d.Failed})
	}
	for _, q := range st.Queues {
		v.Queues = append(v.Queues, newQueueView(q))
	}
	return v
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// relTime shows t relative to now: "in 15s", "3m20s ago"; "-" for zero.
func relTime(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(now)
	if d >= 0 {
		return "in " + roundDuration(d)
	}
	return roundDuration(-d) + " ago"
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Second:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

// oneLine returns the first line of s, cut to n runes.
func oneLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
