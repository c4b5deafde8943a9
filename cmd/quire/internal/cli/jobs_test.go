package cli

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestJobsEnqueueAndInspect(t *testing.T) {
	t.Parallel()
	forEachBroker(t, func(t *testing.T, b *testBundle) {

		one := runJSON[struct{ IDs []string }](t, b, "jobs", "enqueue", "noop", `{"n":1}`, "--queue", "q1")
		require.Len(t, one.IDs, 1)
		many := runJSON[struct{ IDs []string }](t, b, "jobs", "enqueue", "noop", "--count", "3", "--in", "1h")
		require.Len(t, many.IDs, 3)

		queues := runJSON[[]queueView](t, b, "jobs", "queues")
		require.Len(t, queues, 2)
		require.Equal(t, "default", queues[0].Queue)
		require.EqualValues(t, 3, queues[0].Scheduled)
		require.Equal(t, "q1", queues[1].Queue)
		require.EqualValues(t, 1, queues[1].Ready)

		st := runJSON[statsView](t, b, "jobs", "stats")
		require.EqualValues(t, 1, st.Ready)
		require.EqualValues(t, 3, st.Scheduled)
		require.Len(t, st.Daily, 1)

		table := b.runOK(t, "jobs", "queues")
		require.Contains(t, table.stdout, "QUEUE")
		require.Contains(t, table.stdout, "q1")

		page := runJSON[[]jobView](t, b, "jobs", "scheduled", "--limit", "2")
		require.Len(t, page, 2)
		page = runJSON[[]jobView](t, b, "jobs", "scheduled", "--offset", "2")
		require.Len(t, page, 1)
		ready := runJSON[[]jobView](t, b, "jobs", "ready", "--queue", "q1")
		require.Len(t, ready, 1)
		require.Equal(t, one.IDs[0], ready[0].ID)

		got := runJSON[jobView](t, b, "jobs", "get", one.IDs[0])
		require.Equal(t, "noop", got.Type)
		require.Equal(t, "q1", got.Queue)
		require.Equal(t, "ready", string(got.State))
		require.JSONEq(t, `{"n":1}`, string(got.Args))
		require.Contains(t, b.runOK(t, "jobs", "get", one.IDs[0]).stdout, `{"n":1}`)

		// A scheduled job can be run now, then deleted from the ready list.
		b.runOK(t, "jobs", "retry", many.IDs[0], "--state", "scheduled")
		require.Equal(t, "ready", string(runJSON[jobView](t, b, "jobs", "get", many.IDs[0]).State))
		b.runOK(t, "jobs", "delete", many.IDs[0])

		r := b.run(t, "jobs", "get", many.IDs[0])
		require.Equal(t, exitError, r.code)
		require.Contains(t, r.stderr, "job "+many.IDs[0]+" not found")
		r = b.run(t, "jobs", "delete", "01NOSUCHJOB")
		require.Equal(t, exitError, r.code)
		require.Contains(t, r.stderr, "job 01NOSUCHJOB not found in the retry, dead, scheduled, ready sets")
		r = b.run(t, "jobs", "retry", many.IDs[1], "--state", "dead")
		require.Equal(t, exitError, r.code)
		require.Contains(t, r.stderr, "not found in the dead set")

		// Cancel sends a waiting job to the dead set with the reason.
		b.runOK(t, "jobs", "cancel", many.IDs[2], "--reason", "superseded")
		dead := runJSON[jobView](t, b, "jobs", "get", many.IDs[2])
		require.Equal(t, "dead", string(dead.State))
		require.Equal(t, "superseded", dead.Error)
		r = b.run(t, "jobs", "cancel", "01NOSUCHJOB")
		require.Equal(t, exitError, r.code)
		require.Contains(t, r.stderr, "job 01NOSUCHJOB not found")

		b.runOK(t, "jobs", "pause", "q1")
		require.True(t, runJSON[[]queueView](t, b, "jobs", "queues")[1].Paused)
		b.runOK(t, "jobs", "resume", "q1")
		require.False(t, runJSON[[]queueView](t, b, "jobs", "queues")[1].Paused)

		procs := b.runOK(t, "jobs", "processes", "--json")
		require.JSONEq(t, `[]`, procs.stdout)
	})
}

func TestJobsEnqueueErrors(t *testing.T) {
	t.Parallel()
	b := setupEmbedded(t)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "ArgsNotJSON", args: []string{"jobs", "enqueue", "noop", "{nope"}, want: `ARGS_JSON "{nope" is not valid JSON`},
		{name: "CountZero", args: []string{"jobs", "enqueue", "noop", "--count", "0"}, want: "invalid --count 0"},
		{name: "NoType", args: []string{"jobs", "enqueue"}, want: "accepts between 1 and 2 arg(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := b.run(t, tt.args...)
			require.Equal(t, exitUsage, r.code)
			require.Contains(t, r.stderr, tt.want)
		})
	}
	r := b.run(t, "jobs", "enqueue", "bad type!")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, `job type "bad type!"`)
}
