package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/quirehq/quire/internal/app"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/quirehq/quire/jobs"
)

// processConfig holds the settings of the process command.
type processConfig struct {
	Concurrency       int
	IngestConcurrency int
	ShutdownTimeout   time.Duration
	JSON              bool
	Verbose           bool
}

func (a *cli) newProcessCommand() *cobra.Command {
	cfg := &processConfig{}
	cmd := &cobra.Command{
		Use:   "process PATH...",
		Short: "Run files and folders through the whole document pipeline, then exit",
		Long: `Run every file under the given paths (folders recursively; hidden files and
folders skipped) through the whole document pipeline in this process, wait
until each document, and each attachment it yields, is done or failed, then
print a summary: documents, done, failed, the failure reasons counted, and
documents per second. A progress bar is drawn on stderr when it is a
terminal; the log then goes to a file under --data-dir/logs, whose path
is printed, so that nothing breaks the bar (--verbose prints it between
the bar's redraws instead).

It uses the same --data-dir (or --redis-url, --postgres-url, ...) as up:
documents already there with the same content are not processed again and
are reported as duplicates.

The exit status is 1 when any document failed. SIGINT stops it gracefully:
the documents already accepted are kept and finish on the next run of
quire process or quire up (their jobs go back to the queues and the sweep
re-enqueues any left behind).`,
		Example: `  quire process ~/scans reports/q3.pdf
  quire process --json inbox/ | tail -1`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("%s: give at least one file or folder", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runProcessFiles(cmd.Context(), cfg, args)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&cfg.Concurrency, "concurrency", runtime.NumCPU()*4, "jobs to run at once")
	fs.IntVar(&cfg.IngestConcurrency, "ingest-concurrency", app.ProcessIngestConcurrencyDefault, "files to ingest at once")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", jobs.ShutdownTimeoutDefault, "how long running jobs may finish when interrupted")
	fs.BoolVar(&cfg.JSON, "json", false, "print the summary as one JSON object on the last line")
	fs.BoolVar(&cfg.Verbose, "verbose", false, "on a terminal, print the log above the progress bar instead of to a file under --data-dir/logs")
	return cmd
}

func (a *cli) runProcessFiles(ctx context.Context, cfg *processConfig, paths []string) error {
	if cfg.IngestConcurrency < 1 {
		return usagef("invalid --ingest-concurrency %d: it must be at least 1", cfg.IngestConcurrency)
	}
	files, err := collectFiles(paths)
	if err != nil {
		return &usageError{Err: err}
	}
	bar := newProgressBar(a.stderr, "documents")
	defer bar.finish()
	logPath, closeLog, err := a.logAroundBar(bar, cfg.Verbose)
	if err != nil {
		return err
	}
	defer closeLog()
	if logPath != "" {
		fmt.Fprintf(a.stderr, "log: %s (--verbose prints it here)\n", logPath)
		defer fmt.Fprintf(a.stderr, "log: %s\n", logPath)
	}
	sum, stopErr := a.ProcessFiles(ctx, &app.ProcessFilesParams{Files: files, Concurrency: cfg.Concurrency, IngestConcurrency: cfg.IngestConcurrency,
		ShutdownTimeout: cfg.ShutdownTimeout, Progress: bar.set})
	if sum == nil {
		return stopErr
	}
	bar.finish()
	if err := a.printProcessSummary(cfg.JSON, sum); err != nil {
		return err
	}
	if stopErr != nil {
		return stopErr
	}
	switch {
	case sum.Interrupted:
		return fmt.Errorf("interrupted: %d of %d documents unfinished; they finish on the next run of quire process or quire up", sum.Unfinished, sum.Total)
	case sum.Failed > 0:
		return fmt.Errorf("%d of %d documents failed", sum.Failed, sum.Total)
	}
	return nil
}

func (a *cli) printProcessSummary(asJSON bool, s *app.ProcessSummary) error {
	if asJSON {
		line, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s\n", line)
		return err
	}
	w := a.stdout
	fmt.Fprintf(w, "%d documents from %d files", s.Total, s.Files)
	if s.Attachments > 0 {
		fmt.Fprintf(w, " (%d attachments)", s.Attachments)
	}
	fmt.Fprintf(w, ": %d done, %d failed", s.Done, s.Failed)
	if s.Duplicates > 0 {
		fmt.Fprintf(w, ", %d duplicates (already received, not processed again)", s.Duplicates)
	}
	if s.Unfinished > 0 {
		fmt.Fprintf(w, ", %d unfinished", s.Unfinished)
	}
	fmt.Fprintf(w, " in %s, %.1f documents/s\n", time.Duration(s.ElapsedS*float64(time.Second)).Round(10*time.Millisecond), s.DocsPerS)
	reasons := slices.Sorted(maps.Keys(s.Reasons))
	slices.SortStableFunc(reasons, func(x, y string) int { return s.Reasons[y] - s.Reasons[x] })
	if len(reasons) > 0 {
		fmt.Fprintln(w, "failures:")
	}
	for _, r := range reasons {
		fmt.Fprintf(w, "  %5d  %s\n", s.Reasons[r], r)
	}
	if s.Interrupted {
		fmt.Fprintln(w, "interrupted: the unfinished documents are kept and finish on the next run of quire process or quire up")
	}
	return nil
}

// collectFiles lists the regular files under paths: a file as given, a
// folder recursively, skipping hidden files and folders inside it.
func collectFiles(paths []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", root, errors.Unwrap(err))
		}
		if !info.IsDir() {
			if !info.Mode().IsRegular() {
				return nil, fmt.Errorf("%s is not a regular file or a folder", root)
			}
			add(root)
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != root && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				add(p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", root, err)
		}
	}
	return files, nil
}

// logAroundBar keeps the log from breaking a progress bar drawn on a
// terminal: it goes to a new file under --data-dir/logs, whose path it
// returns, or, verbose, above the bar (progressBar.Write). Without a bar it
// changes nothing.
func (a *cli) logAroundBar(bar *progressBar, verbose bool) (path string, closeLog func(), err error) {
	closeLog = func() {}
	if !bar.on {
		return "", closeLog, nil
	}
	var w io.Writer = bar
	if !verbose {
		dir := filepath.Join(a.Config.DataDir, "logs")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", nil, fmt.Errorf("log file: %w", err)
		}
		f, err := os.CreateTemp(dir, "process-"+time.Now().UTC().Format("20060102T150405Z")+"-*.log")
		if err != nil {
			return "", nil, fmt.Errorf("log file: %w", err)
		}
		w, path, closeLog = f, f.Name(), func() { _ = f.Close() }
	}
	log, err := a.Config.Logger(w)
	if err != nil {
		closeLog()
		return "", nil, err
	}
	a.Log = log
	if a.setRedisLogger != nil {
		a.setRedisLogger(log)
	}
	return path, closeLog, nil
}

// progressBar draws one line on a terminal, redrawn in place; on anything
// else it draws nothing.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	noun  string
	on    bool
	drawn bool
	last  time.Time
}

func newProgressBar(w io.Writer, noun string) *progressBar {
	f, ok := w.(*os.File)
	return &progressBar{w: w, noun: noun, on: ok && term.IsTerminal(int(f.Fd()))}
}

// set draws done of total; known says total is final.
func (p *progressBar) set(done, total int, known bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.on || (time.Since(p.last) < 100*time.Millisecond && done < total) {
		return
	}
	p.last = time.Now()
	const width = 30
	fill := 0
	if total > 0 {
		fill = done * width / total
	}
	more := ""
	if !known {
		more = "+"
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d%s %s ", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), done, total, more, p.noun)
	p.drawn = true
}

// clear wipes the bar's line so that a message can be printed on it; the
// next set draws it again.
func (p *progressBar) clear() { _, _ = p.Write(nil) }

// Write writes p above the bar: the bar's line is wiped first, and the next
// set draws it again, below.
func (p *progressBar) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
		p.last = time.Time{}
	}
	return p.w.Write(b)
}

// finish ends the bar's line, once.
func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
