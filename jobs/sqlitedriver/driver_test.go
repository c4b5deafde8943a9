package sqlitedriver_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
	"github.com/quirehq/quire/jobs/jobstest"
	"github.com/quirehq/quire/jobs/jobtype"
	"github.com/quirehq/quire/jobs/sqlitedriver"
)

// envPath passes the database file to the suite's worker processes.
const envPath = "QUIRE_JOBSTEST_SQLITE"

// newDriver opens a fresh database file in a temporary directory, closed at
// cleanup.
func newDriver(t testing.TB, cfg *sqlitedriver.Config) *sqlitedriver.Driver {
	t.Helper()
	d, err := sqlitedriver.Open(filepath.Join(t.TempDir(), "jobs.db"), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, d.Close()) })
	return d
}

var harness = jobstest.Harness{
	New: func(t testing.TB) jobs.Driver { return newDriver(t, nil) },
	ProcessEnv: func(d jobs.Driver) []string {
		return []string{envPath + "=" + d.(*sqlitedriver.Driver).Path()}
	},
	OpenFromEnv: func() (jobs.Driver, error) { return sqlitedriver.Open(os.Getenv(envPath), nil) },
	NewCapped: func(t testing.TB, deadMaxJobs int, deadMaxAge time.Duration) jobs.Driver {
		return newDriver(t, &sqlitedriver.Config{DeadMaxJobs: deadMaxJobs, DeadMaxAge: deadMaxAge})
	},
}

func TestMain(m *testing.M) {
	// A worker process opens the file its parent names.
	jobstest.RunWorkerProcessIfAsked(harness)
	os.Exit(m.Run())
}

func TestDriver(t *testing.T) {
	t.Parallel()
	jobstest.Exercise(t, harness)
}

// rawDB opens the file with plain database/sql, as another program would.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	t.Run("DirectoryCannotBeCreated", func(t *testing.T) {
		file := filepath.Join(dir, "plain-file")
		require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
		for _, path := range []string{filepath.Join(file, "sub", "jobs.db"), "/proc/quire-no-such-dir/jobs.db"} {
			_, err := sqlitedriver.Open(path, nil)
			require.Error(t, err)
			require.ErrorContains(t, err, path)
		}
	})

	t.Run("DirectoryNotWritable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			return // root writes anywhere: the cases above stand in for this one
		}
		ro := filepath.Join(dir, "read-only")
		require.NoError(t, os.Mkdir(ro, 0o555))
		path := filepath.Join(ro, "jobs.db")
		_, err := sqlitedriver.Open(path, nil)
		require.ErrorContains(t, err, path)
	})

	t.Run("NotADatabase", func(t *testing.T) {
		path := filepath.Join(dir, "notes.txt")
		require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("These are notes, not a database.\n", 200)), 0o644))
		_, err := sqlitedriver.Open(path, nil)
		require.ErrorContains(t, err, path)
		require.ErrorContains(t, err, "not a database")
	})

	t.Run("ADirectory", func(t *testing.T) {
		_, err := sqlitedriver.Open(dir, nil)
		require.ErrorContains(t, err, dir)
		require.ErrorContains(t, err, "is a directory")
	})

	t.Run("AnotherApplicationsDatabase", func(t *testing.T) {
		path := filepath.Join(dir, "other.db")
		db := rawDB(t, path)
		_, err := db.Exec(`PRAGMA application_id = 42; CREATE TABLE jobs (x)`)
		require.NoError(t, err)
		_, err = sqlitedriver.Open(path, nil)
		require.ErrorContains(t, err, path)
		require.ErrorContains(t, err, "another application")
	})

	t.Run("NewerSchema", func(t *testing.T) {
		path := filepath.Join(dir, "newer.db")
		d, err := sqlitedriver.Open(path, nil)
		require.NoError(t, err)
		require.NoError(t, d.Close())
		_, err = rawDB(t, path).Exec(`PRAGMA user_version = 999`)
		require.NoError(t, err)
		_, err = sqlitedriver.Open(path, nil)
		require.ErrorContains(t, err, "schema version 999")
	})

	t.Run("BadConfig", func(t *testing.T) {
		_, err := sqlitedriver.Open(filepath.Join(dir, "cfg.db"), &sqlitedriver.Config{Synchronous: "OFF"})
		require.ErrorContains(t, err, `Synchronous "OFF"`)
		_, err = sqlitedriver.Open("", nil)
		require.ErrorContains(t, err, "path is empty")
	})
}

// TestReopenKeepsEverything closes the database and opens it again, as after
// a restart: jobs, their fields, unique keys, pauses and counters are there.
func TestReopenKeepsEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "jobs.db")
	d, err := sqlitedriver.Open(path, nil)
	require.NoError(t, err)
	client, err := jobs.NewClient(d, nil)
	require.NoError(t, err)
	ready, err := client.Enqueue(ctx, "convert", map[string]string{"doc": "a.pdf"}, &jobs.EnqueueOpts{
		Queue: "docs", MaxRetries: 3, Tags: []string{"pdf", "big"}, Timeout: time.Minute,
		Backoff: &jobs.Backoff{Base: time.Second, Max: time.Hour}, Unique: &jobs.UniqueOpts{Key: "a.pdf"},
	})
	require.NoError(t, err)
	later, err := client.Enqueue(ctx, "convert", nil, &jobs.EnqueueOpts{Queue: "docs", RunIn: time.Hour})
	require.NoError(t, err)
	require.NoError(t, d.QueuePause(ctx, &jobdriver.QueuePauseParams{Queue: "docs"}))
	now := time.Now()
	_, err = d.JobCompleteMany(ctx, &jobdriver.JobCompleteManyParams{Now: now}) // nothing: no error
	require.NoError(t, err)
	require.NoError(t, d.Close())
	require.NoError(t, d.Close(), "Close is safe to call twice")

	d, err = sqlitedriver.Open(path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	require.Equal(t, path, d.Path())
	got, err := d.JobGet(ctx, &jobdriver.JobGetParams{ID: ready.ID})
	require.NoError(t, err)
	want := *ready // as enqueued, at the microseconds that are stored
	want.CreatedAt = ready.CreatedAt.Truncate(time.Microsecond).UTC()
	want.EnqueuedAt = ready.EnqueuedAt.Truncate(time.Microsecond).UTC()
	require.Equal(t, &want, got)
	got, err = d.JobGet(ctx, &jobdriver.JobGetParams{ID: later.ID, Queue: "docs"})
	require.NoError(t, err)
	require.Equal(t, jobs.StateScheduled, got.State)
	require.Equal(t, later.ScheduledAt.Truncate(time.Microsecond).UTC(), got.ScheduledAt)
	_, err = d.JobGet(ctx, &jobdriver.JobGetParams{ID: later.ID, Queue: "elsewhere"})
	require.ErrorIs(t, err, jobs.ErrNotFound)

	client, err = jobs.NewClient(d, nil)
	require.NoError(t, err)
	dup, err := client.Enqueue(ctx, "convert", nil, &jobs.EnqueueOpts{Queue: "docs", Unique: &jobs.UniqueOpts{Key: "a.pdf"}})
	require.NoError(t, err)
	require.True(t, dup.Duplicate, "the unique key outlived the restart")
	require.Equal(t, ready.ID, dup.ID)
	st, err := jobs.NewInspector(d, nil).Queue(ctx, "docs")
	require.NoError(t, err)
	require.True(t, st.Paused)
	require.EqualValues(t, 1, st.Ready)
	require.EqualValues(t, 1, st.Scheduled)
}

// TestMigrationsOnce opens one new file from several drivers at once and
// again later: the schema is created once and left alone after.
func TestMigrationsOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "jobs.db")
	errs := make(chan error, 4)
	drivers := make(chan *sqlitedriver.Driver, 4)
	for range 4 {
		go func() {
			d, err := sqlitedriver.Open(path, nil)
			errs <- err
			drivers <- d
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
		d := <-drivers
		require.NoError(t, d.Close())
	}
	schema := func() (string, int) {
		db := rawDB(t, path)
		var version int
		require.NoError(t, db.QueryRow(`PRAGMA user_version`).Scan(&version))
		var all string
		require.NoError(t, db.QueryRow(`SELECT group_concat(sql, ';') FROM sqlite_schema`).Scan(&all))
		db.Close()
		return all, version
	}
	// The schema's version is the number of migrations.
	migrations, err := filepath.Glob("migrations/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, migrations)
	before, version := schema()
	require.Equal(t, len(migrations), version)
	for range 2 {
		d, err := sqlitedriver.Open(path, nil)
		require.NoError(t, err)
		require.NoError(t, d.Close())
	}
	after, version := schema()
	require.Equal(t, len(migrations), version)
	require.Equal(t, before, after)
}

// fetchIDs takes every ready job of the queue and returns their ids in
// order, as held jobs.
func fetchIDs(t *testing.T, d *sqlitedriver.Driver, queue string, now time.Time) ([]string, []*jobtype.Job) {
	t.Helper()
	res, err := d.JobFetch(context.Background(), &jobdriver.JobFetchParams{Queue: queue, Max: 100, Now: now,
		LeaseOwner: "test", LeaseUntil: now.Add(time.Minute)})
	require.NoError(t, err)
	var ids []string
	for _, j := range res.Jobs {
		ids = append(ids, j.ID)
		require.Equal(t, jobs.StateRunning, j.State)
	}
	return ids, res.Jobs
}

// TestQueueOrder checks where each kind of ready job goes: new, promoted and
// retried ones to the back, handed back and rescued ones to the front.
func TestQueueOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newDriver(t, nil)
	now := time.Now()
	mk := func(id string, at time.Time) *jobtype.Job {
		return &jobtype.Job{ID: id, Type: "t", Queue: "q", CreatedAt: now, EnqueuedAt: now, ScheduledAt: at}
	}
	_, err := d.JobInsertMany(ctx, &jobdriver.JobInsertManyParams{Now: now, Jobs: []*jobtype.Job{
		mk("a", time.Time{}), mk("b", time.Time{}), mk("c", time.Time{}),
		mk("later2", now.Add(2*time.Second)), mk("later1", now.Add(time.Second)),
	}})
	require.NoError(t, err)

	ids, held := fetchIDs(t, d, "q", now)
	require.Equal(t, []string{"a", "b", "c"}, ids)
	// b and c are handed back (in that order), a is rescued after its lease.
	res, err := d.JobCompleteMany(ctx, &jobdriver.JobCompleteManyParams{Now: now, Completions: []jobdriver.Completion{
		{Job: held[1], Outcome: jobdriver.OutcomeRequeue}, {Job: held[2], Outcome: jobdriver.OutcomeRequeue},
	}})
	require.NoError(t, err)
	require.Equal(t, 2, res.Applied)
	promoted, err := d.JobPromoteDue(ctx, &jobdriver.JobPromoteDueParams{Queue: "q", Now: now.Add(3 * time.Second)})
	require.NoError(t, err)
	require.Equal(t, 2, promoted.Promoted)
	require.True(t, promoted.NextAt.IsZero())
	n, err := d.JobRescueExpired(ctx, &jobdriver.JobRescueExpiredParams{Queue: "q", Now: now.Add(2 * time.Minute)})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	// A stale extension does not bring the rescued job back to running.
	require.NoError(t, d.JobLeaseExtendMany(ctx, &jobdriver.JobLeaseExtendManyParams{Jobs: held[:1], LeaseUntil: now.Add(time.Hour)}))

	list, err := d.JobList(ctx, &jobdriver.JobListParams{Queue: "q", State: jobs.StateReady})
	require.NoError(t, err)
	var listed []string
	for _, j := range list {
		listed = append(listed, j.ID)
	}
	want := []string{"a", "c", "b", "later1", "later2"}
	require.Equal(t, want, listed, "the listing shows the order of the fetch")
	ids, _ = fetchIDs(t, d, "q", now)
	require.Equal(t, want, ids)
}

// TestQueueWait checks that a waiter wakes for a job enqueued through another
// driver of the same process, and for one written by another program, which
// only the poller can notice.
func TestQueueWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	a := newDriver(t, nil)
	// The same file, named differently.
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(filepath.Dir(a.Path()), link))
	b, err := sqlitedriver.Open(filepath.Join(link, ".", filepath.Base(a.Path())), nil)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	require.Equal(t, a.Path(), b.Path())

	ok, err := b.QueueWait(ctx, &jobdriver.QueueWaitParams{Queue: "q", Timeout: 30 * time.Millisecond})
	require.NoError(t, err)
	require.False(t, ok, "nothing to wait for: times out")

	wait := func(d *sqlitedriver.Driver) chan bool {
		done := make(chan bool, 1)
		go func() {
			ok, err := d.QueueWait(ctx, &jobdriver.QueueWaitParams{Queue: "q", Timeout: time.Minute})
			assert(t, err == nil, "wait: %v", err)
			done <- ok
		}()
		return done
	}
	awaited := func(done chan bool) {
		t.Helper()
		select {
		case ok := <-done:
			require.True(t, ok)
		case <-time.After(10 * time.Second):
			t.Fatal("the waiter did not wake")
		}
	}

	done := wait(b)
	time.Sleep(50 * time.Millisecond)
	client, err := jobs.NewClient(a, nil)
	require.NoError(t, err)
	_, err = client.Enqueue(ctx, "noop", nil, &jobs.EnqueueOpts{Queue: "q"})
	require.NoError(t, err)
	awaited(done)
	_, _ = fetchIDs(t, a, "q", time.Now())

	done = wait(b)
	time.Sleep(50 * time.Millisecond)
	_, err = rawDB(t, a.Path()).Exec(`INSERT INTO jobs (id, queue, state, pos, type, args) VALUES ('raw', 'q', 'ready', 1e9, 't', 'null')`)
	require.NoError(t, err)
	awaited(done)

	// Cancelled and closed waits end with an error.
	cctx, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	_, err = b.QueueWait(cctx, &jobdriver.QueueWaitParams{Queue: "empty", Timeout: time.Minute})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	go func() {
		time.Sleep(30 * time.Millisecond)
		b.Close()
	}()
	_, err = b.QueueWait(ctx, &jobdriver.QueueWaitParams{Queue: "empty", Timeout: time.Minute})
	require.Error(t, err)
}

// assert reports a failure from a goroutine other than the test's.
func assert(t *testing.T, ok bool, format string, args ...any) {
	if !ok {
		t.Errorf(format, args...)
	}
}

// TestCountersByDay checks the total and daily counters, and that days past
// DailyStatsTTL are dropped.
func TestCountersByDay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newDriver(t, &sqlitedriver.Config{DailyStatsTTL: 48 * time.Hour})
	day0 := time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC)
	runs := 0
	run := func(now time.Time, outcome jobdriver.Outcome) {
		runs++
		j := &jobtype.Job{ID: fmt.Sprint("job-", runs), Type: "t", Queue: "q", CreatedAt: now, EnqueuedAt: now}
		_, err := d.JobInsertMany(ctx, &jobdriver.JobInsertManyParams{Now: now, Jobs: []*jobtype.Job{j}})
		require.NoError(t, err)
		_, held := fetchIDs(t, d, "q", now)
		require.Len(t, held, 1)
		u := *held[0]
		u.ScheduledAt = now.Add(time.Hour)
		res, err := d.JobCompleteMany(ctx, &jobdriver.JobCompleteManyParams{Now: now,
			Completions: []jobdriver.Completion{{Job: held[0], Outcome: outcome, Updated: &u}}})
		require.NoError(t, err)
		require.Equal(t, 1, res.Applied)
	}
	run(day0, jobdriver.OutcomeDone)
	run(day0.Add(2*time.Hour), jobdriver.OutcomeRetry)  // the next day
	run(day0.Add(2*time.Hour), jobdriver.OutcomeSnooze) // not an execution
	st, err := d.QueueStats(ctx, &jobdriver.QueueStatsParams{Queue: "q", Now: day0.Add(2 * time.Hour), Days: 3})
	require.NoError(t, err)
	require.EqualValues(t, 2, st.Processed)
	require.EqualValues(t, 1, st.Failed)
	require.Equal(t, []jobdriver.DayStats{
		{Date: "2026-11-29", Processed: 1, Failed: 1},
		{Date: "2026-11-28", Processed: 1},
		{Date: "2026-11-27"},
	}, st.Daily)
	require.EqualValues(t, 1, st.Retry)
	require.EqualValues(t, 1, st.Scheduled)

	run(day0.Add(72*time.Hour), jobdriver.OutcomeDone)
	st, err = d.QueueStats(ctx, &jobdriver.QueueStatsParams{Queue: "q", Now: day0.Add(72 * time.Hour), Days: 4})
	require.NoError(t, err)
	require.EqualValues(t, 3, st.Processed, "totals are kept")
	require.Equal(t, []jobdriver.DayStats{
		{Date: "2026-12-01", Processed: 1},
		{Date: "2026-11-30"},
		{Date: "2026-11-29", Processed: 1, Failed: 1},
		{Date: "2026-11-28"}, // older than two days: dropped
	}, st.Daily)
}

// TestInsertSameIDTwice checks that an enqueue retried with the same job
// stores it once and leaves the stored job as it was.
func TestInsertSameIDTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newDriver(t, nil)
	now := time.Now()
	j := &jobtype.Job{ID: "once", Type: "t", Queue: "q", CreatedAt: now, EnqueuedAt: now}
	for range 2 {
		_, err := d.JobInsertMany(ctx, &jobdriver.JobInsertManyParams{Now: now, Jobs: []*jobtype.Job{j}})
		require.NoError(t, err)
		j.Type = "changed"
	}
	got, err := d.JobGet(ctx, &jobdriver.JobGetParams{ID: "once"})
	require.NoError(t, err)
	require.Equal(t, "t", got.Type)
	st, err := d.QueueStats(ctx, &jobdriver.QueueStatsParams{Queue: "q", Now: now})
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Ready)
}

// TestFilesPrivate: the database, its -wal and -shm files and the directory
// made for them are their owner's alone, whatever the umask (the tests' is
// usually 022).
func TestFilesPrivate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "quire-data")
	path := filepath.Join(dir, "jobs.db")
	d, err := sqlitedriver.Open(path, nil)
	require.NoError(t, err)
	defer d.Close()
	client, err := jobs.NewClient(d, nil)
	require.NoError(t, err)
	_, err = client.Enqueue(context.Background(), "convert", nil, nil)
	require.NoError(t, err)
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, want, fi.Mode().Perm(), p)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 3, "no temporary file is left: %v", entries)
}

// TestLimitLeaseRunsFromAdmission holds the file's write lock from another
// connection for longer than a slot's lease while the slot is acquired: the
// lease counts from the admission, so the next caller is still refused
// while the first holds the slot.
func TestLimitLeaseRunsFromAdmission(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := newDriver(t, nil)
	// The limiter's tables exist before the lock is taken.
	_, err := d.LimitStatus(ctx, &jobdriver.LimitStatusParams{Name: "box", Now: time.Now()})
	require.NoError(t, err)
	other := rawDB(t, d.Path())
	conn, err := other.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	require.NoError(t, err)

	const lease = time.Second
	acquired := make(chan error, 1)
	go func() {
		now := time.Now()
		ok, err := d.LimitAcquire(ctx, &jobdriver.LimitAcquireParams{Name: "box", Token: "first", Limit: 1,
			Now: now, LeaseUntil: now.Add(lease), Process: "test"})
		if err == nil && !ok {
			err = fmt.Errorf("the first caller was refused")
		}
		acquired <- err
	}()
	time.Sleep(2 * lease) // the acquisition waits for the lock
	_, err = conn.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)
	require.NoError(t, <-acquired)

	now := time.Now()
	ok, err := d.LimitAcquire(ctx, &jobdriver.LimitAcquireParams{Name: "box", Token: "second", Limit: 1,
		Now: now, LeaseUntil: now.Add(lease), Process: "test"})
	require.NoError(t, err)
	require.False(t, ok, "the first holder's lease counts from its admission, not from its call")
}
