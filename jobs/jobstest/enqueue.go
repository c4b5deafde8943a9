package jobstest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
)

type greetArgs struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func exerciseEnqueue(t *testing.T, h Harness) {
	ctx := context.Background()

	t.Run("DurableOnReturn", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		j, err := b.client.Enqueue(ctx, "greet", []any{"ada", 2},
			&jobs.EnqueueOpts{Queue: "mail", MaxRetries: 3, Tags: []string{"a", "b"}})
		require.NoError(t, err)
		// A second driver, as another process would see the broker.
		got, err := jobs.NewInspector(b.driver, nil).Job(ctx, j.ID)
		require.NoError(t, err)
		require.Equal(t, jobs.StateReady, got.State)
		require.Equal(t, "greet", got.Type)
		require.Equal(t, "mail", got.Queue)
		require.Equal(t, 3, got.MaxRetries)
		require.Equal(t, []string{"a", "b"}, got.Tags)
		require.JSONEq(t, `["ada",2]`, string(got.Args))
		require.WithinDuration(t, j.CreatedAt, got.CreatedAt, time.Millisecond)
	})

	// NoSync skips the flush, not the store: the job is there for every
	// other connection (another process) the moment the call returns,
	// alone or in a bulk enqueue, and runs.
	t.Run("NoSyncStoredOnReturn", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		one, err := b.client.Enqueue(ctx, "noop", []int{1}, &jobs.EnqueueOpts{Queue: "nosync", NoSync: true})
		require.NoError(t, err)
		many, err := b.client.EnqueueMany(ctx, []jobs.EnqueueParams{
			{Type: "noop", Args: []int{2}, Opts: &jobs.EnqueueOpts{Queue: "nosync", NoSync: true}},
			{Type: "noop", Args: []int{3}, Opts: &jobs.EnqueueOpts{Queue: "nosync"}},
		})
		require.NoError(t, err)
		insp := jobs.NewInspector(b.driver, nil)
		for _, j := range append([]*jobs.Job{one}, many...) {
			got, err := insp.Job(ctx, j.ID)
			require.NoError(t, err)
			require.Equal(t, jobs.StateReady, got.State)
		}
		hs := jobs.NewHandlers()
		hs.Handle("noop", func(_ context.Context, j *jobs.Job) error { b.handled.add(j.ID); return nil }, nil)
		startServer(t, b.driver, jobs.Config{Handlers: hs, Queues: map[string]int{"nosync": 1}})
		require.ElementsMatch(t, []string{one.ID, many[0].ID, many[1].ID}, b.handled.wait(t, 3, 30*time.Second))
	})

	t.Run("ManyAndScheduled", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		params := make([]jobs.EnqueueParams, 0, 1201)
		for i := range 1200 {
			q := "bulk-a"
			if i%3 == 0 {
				q = "bulk-b"
			}
			params = append(params, jobs.EnqueueParams{Type: "noop", Args: []int{i}, Opts: &jobs.EnqueueOpts{Queue: q}})
		}
		params = append(params, jobs.EnqueueParams{Type: "noop", Opts: &jobs.EnqueueOpts{Queue: "bulk-a", RunIn: time.Hour}})
		got, err := b.client.EnqueueMany(ctx, params)
		require.NoError(t, err)
		require.Len(t, got, 1201)
		a, err := b.insp.Queue(ctx, "bulk-a")
		require.NoError(t, err)
		require.EqualValues(t, 800, a.Ready)
		require.EqualValues(t, 1, a.Scheduled)
		bq, err := b.insp.Queue(ctx, "bulk-b")
		require.NoError(t, err)
		require.EqualValues(t, 400, bq.Ready)
		sched, err := b.insp.Jobs(ctx, &jobs.ListParams{Queue: "bulk-a", State: jobs.StateScheduled})
		require.NoError(t, err)
		require.Len(t, sched, 1)
		require.WithinDuration(t, time.Now().Add(time.Hour), sched[0].ScheduledAt, time.Minute)
	})

	t.Run("InvalidRejected", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		tests := []struct {
			name string
			typ  string
			args any
			opts *jobs.EnqueueOpts
			want string
		}{
			{"EmptyType", "", nil, nil, "job type"},
			{"BadQueue", "noop", nil, &jobs.EnqueueOpts{Queue: "a{b}"}, "queue name"},
			{"BadJSON", "noop", json.RawMessage(`{"x":`), nil, "not valid JSON"},
			{"Unencodable", "noop", func() {}, nil, "encode arguments"},
			{"NegativeRetries", "noop", nil, &jobs.EnqueueOpts{MaxRetries: -5}, "MaxRetries"},
		}
		for _, tt := range tests {
			_, err := b.client.Enqueue(ctx, tt.typ, tt.args, tt.opts)
			require.ErrorContains(t, err, tt.want, tt.name)
		}
		// One bad job refuses the whole batch.
		_, err := b.client.EnqueueMany(ctx, []jobs.EnqueueParams{{Type: "noop"}, {Type: ""}})
		require.ErrorContains(t, err, "job 2 of 2")
		st, err := b.insp.Stats(ctx, 1)
		require.NoError(t, err)
		require.Zero(t, st.Ready)
	})

	t.Run("TypedArgs", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		hs := jobs.NewHandlers()
		jobs.HandleArgs(hs, "greet", func(ctx context.Context, j *jobs.Job, a []string) error {
			b.handled.add(a[0])
			return nil
		}, nil)
		_, err := b.client.Enqueue(ctx, "greet", []string{"grace"}, nil)
		require.NoError(t, err)
		// Arguments that cannot decode into the handler's type are dead at once.
		bad, err := b.client.Enqueue(ctx, "greet", json.RawMessage(`[12]`), nil)
		require.NoError(t, err)
		startServer(t, b.driver, jobs.Config{Handlers: hs})
		require.Equal(t, []string{"grace"}, b.handled.wait(t, 1, 10*time.Second))
		eventually(t, 10*time.Second, "badly typed job in the dead set", func() bool {
			j, err := b.insp.Job(ctx, bad.ID)
			return err == nil && j.State == jobs.StateDead
		})
		j, err := b.insp.Job(ctx, bad.ID)
		require.NoError(t, err)
		require.Contains(t, j.Error, "decode arguments")
		require.Equal(t, 1, j.Attempt)
	})

	t.Run("ArgsAnyJSON", func(t *testing.T) {
		t.Parallel()
		h.require(t, CapabilityArgsAnyJSON)
		b := setup(t, h)
		hs := jobs.NewHandlers()
		jobs.HandleArgs(hs, "greet", func(ctx context.Context, j *jobs.Job, a greetArgs) error {
			b.handled.add(a.Name)
			return nil
		}, nil)
		// Arguments are any JSON value, not only an array.
		for _, args := range []any{greetArgs{Name: "ada", Count: 2}, 42, "plain", nil} {
			j, err := b.client.Enqueue(ctx, "inert", args, &jobs.EnqueueOpts{Queue: "inert"})
			require.NoError(t, err)
			got, err := b.insp.Job(ctx, j.ID)
			require.NoError(t, err)
			want, err := json.Marshal(args)
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(got.Args))
		}
		_, err := b.client.Enqueue(ctx, "greet", greetArgs{Name: "grace"}, nil)
		require.NoError(t, err)
		bad, err := b.client.Enqueue(ctx, "greet", json.RawMessage(`{"name":12}`), nil)
		require.NoError(t, err)
		startServer(t, b.driver, jobs.Config{Handlers: hs})
		require.Equal(t, []string{"grace"}, b.handled.wait(t, 1, 10*time.Second))
		require.Contains(t, findState(t, b, bad.ID, jobs.StateDead).Error, "decode arguments")
	})
}
