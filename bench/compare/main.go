// Command compare runs one identical no-op job workload on peer Go job
// engines, so their figures can be set beside those of `quire bench jobs`
// measured in the same run on the same machine.
//
// Engines: asynq (Redis), River (Postgres, pgx v5) and gocraft/work (Redis),
// which --engine all runs; and River on SQLite (modernc.org/sqlite, WAL, a
// fresh file per run), the peer of Quire's embedded driver, which runs only
// when named: --engine river-sqlite. It is a module of its own, so Quire's
// main module never depends on them.
//
// Bulk mode (default), per engine:
//   - enqueue --jobs N no-op jobs with the engine's fastest enqueue path
//     (River, on either driver: InsertManyFast in batches of 1000; asynq
//     and gocraft/work have no bulk API: single Enqueue calls from 50
//     goroutines) and report enqueue jobs/s;
//   - then start the workers with --concurrency C and report processed
//     jobs/s = N / (time from worker start to the N-th handler run);
//   - every job carries its enqueue wall-clock time (unix ns, taken just
//     before the enqueue call, or before each bulk call); the handler records
//     now minus that, and p50/p99 are reported in ms. In bulk mode this
//     latency is mostly time spent queued behind the other jobs.
//
// Steady mode (--rate R): workers run while a producer releases R jobs/s on a
// 1 ms ticker, each enqueued by its own single-job call, until N jobs; here
// p50/p99 enqueue-to-start latency is the figure of interest.
//
// Peak RSS (VmHWM from /proc/self/status) is reported for the process, which
// holds both the producer and the workers (not Redis or Postgres). With
// --engine all each engine runs in its own child process (this binary
// re-executed with --engine X --json), so each RSS figure is its own.
//
// Each engine run uses its own Redis key prefix, Postgres schema or SQLite
// file and deletes it at the end (never FLUSHDB), and fails after --timeout.
//
// Usage, from bench/compare:
//
//	go run . --engine all --jobs 100000 --concurrency 50
//	go run . --engine river --rate 1000 --jobs 20000 --concurrency 50
//	go run . --engine asynq --jobs 10000 --json
//	go run . --engine river-sqlite --jobs 20000 --json
//
// With --json each engine's result is one JSON object on its own line, keys
// engine, version, enqueue_method, enqueue_per_s, process_per_s, p50_ms,
// p99_ms, rss_mib, jobs, concurrency, rate.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

func main() {
	var (
		engineName = flag.String("engine", "all", "engine to run: asynq, river, gocraft, river-sqlite, or all (the first three)")
		jobs       = flag.Int("jobs", 10000, "number of jobs N")
		conc       = flag.Int("concurrency", 50, "worker concurrency C")
		rate       = flag.Float64("rate", 0, "steady-load mode: enqueue R jobs/s while workers run (0 = bulk mode)")
		redisURL   = flag.String("redis-url", "redis://127.0.0.1:6379/0", "Redis URL (asynq, gocraft)")
		pgURL      = flag.String("postgres-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "Postgres URL (river); database "+riverDatabase+" is created on that server")
		timeout    = flag.Duration("timeout", 10*time.Minute, "fail an engine run after this long")
		asynqCheck = flag.Duration("asynq-check-interval", 0, "asynq TaskCheckInterval: sleep when its queue is empty (0 = asynq default, 1s)")
		asJSON     = flag.Bool("json", false, "print one JSON object per engine on its own line")
		verbose    = flag.Bool("v", false, "log progress to stderr")
	)
	flag.Parse()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))

	if *jobs <= 0 || *conc <= 0 || *rate < 0 {
		fatalf("--jobs and --concurrency must be positive and --rate not negative")
	}
	cfg := config{
		Jobs:               *jobs,
		Concurrency:        *conc,
		Rate:               *rate,
		RedisURL:           *redisURL,
		PostgresURL:        *pgURL,
		Timeout:            *timeout,
		AsynqCheckInterval: *asynqCheck,
	}

	if *engineName == "all" {
		os.Exit(runAll(cfg, *asJSON, *verbose))
	}
	info, ok := findEngine(*engineName)
	if !ok {
		fatalf("unknown engine %q (want asynq, river, gocraft, river-sqlite or all)", *engineName)
	}
	res, err := runEngine(info, cfg)
	if err != nil {
		fatalf("%s: %v", info.name, err)
	}
	if *asJSON {
		printJSON(os.Stdout, res)
	} else {
		printHuman(os.Stdout, res)
	}
}

func findEngine(name string) (engineInfo, bool) {
	for _, e := range engines {
		if e.name == name {
			return e, true
		}
	}
	return engineInfo{}, false
}

// runAll runs each engine in a child process of its own, so that each peak
// RSS belongs to one engine, and prints the collected results.
func runAll(cfg config, asJSON, verbose bool) int {
	self, err := os.Executable()
	if err != nil {
		fatalf("locating own executable: %v", err)
	}
	var results []result
	failed := 0
	for _, e := range engines {
		if e.notInAll {
			continue
		}
		args := []string{
			"--engine", e.name,
			"--jobs", strconv.Itoa(cfg.Jobs),
			"--concurrency", strconv.Itoa(cfg.Concurrency),
			"--rate", strconv.FormatFloat(cfg.Rate, 'g', -1, 64),
			"--redis-url", cfg.RedisURL,
			"--postgres-url", cfg.PostgresURL,
			"--timeout", cfg.Timeout.String(),
			"--asynq-check-interval", cfg.AsynqCheckInterval.String(),
			"--json",
		}
		if verbose {
			args = append(args, "-v")
		}
		// The child enforces --timeout itself; this is a backstop.
		ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout+2*time.Minute)
		cmd := exec.CommandContext(ctx, self, args...)
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = os.Stderr
		cmd.WaitDelay = 10 * time.Second
		err := cmd.Run()
		cancel()
		var res result
		if err == nil {
			res, err = parseResult(out.Bytes())
		}
		if err != nil {
			failed++
			fmt.Fprintf(os.Stderr, "%s: failed: %v\n", e.name, err)
			continue
		}
		results = append(results, res)
		if asJSON {
			printJSON(os.Stdout, res)
		} else {
			printHuman(os.Stdout, res)
			fmt.Println()
		}
	}
	if !asJSON && len(results) > 0 {
		printTable(os.Stdout, results)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// parseResult finds the child's JSON line; a library may print other lines
// (gocraft/work logs errors to stdout).
func parseResult(out []byte) (result, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r result
		if err := json.Unmarshal([]byte(line), &r); err == nil && r.Engine != "" {
			return r, nil
		}
	}
	return result{}, fmt.Errorf("no result line in child output %q", out)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
	os.Exit(1)
}
