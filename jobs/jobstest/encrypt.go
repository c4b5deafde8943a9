package jobstest

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
	"github.com/quirehq/quire/jobs/jobdriver"
)

// exerciseEncrypt checks argument encryption at rest through the public API:
// the broker holds ciphertext, the Inspector shows "encrypted", a server with
// the keys runs the job with the plain arguments, keys rotate, and a job no
// key opens goes dead with a clear reason. Arguments are an array, which
// every format holds.
func exerciseEncrypt(t *testing.T, h Harness) {
	ctx := context.Background()
	keyA := jobs.Key{ID: "a", Secret: bytes.Repeat([]byte{1}, 32)}
	keyB := jobs.Key{ID: "b", Secret: bytes.Repeat([]byte{2}, 32)}
	ring := func(t *testing.T, keys ...jobs.Key) *jobs.Keyring {
		kr, err := jobs.NewKeyring(keys...)
		require.NoError(t, err)
		return kr
	}
	const args = `["ada@example.com",{"ssn":"078-05-1120"}]`
	enqueue := func(t *testing.T, b *bundle, kr *jobs.Keyring) *jobs.Job {
		c, err := jobs.NewClient(b.driver, &jobs.ClientConfig{Keyring: kr})
		require.NoError(t, err)
		j, err := c.Enqueue(ctx, "mail", json.RawMessage(args), &jobs.EnqueueOpts{MaxRetries: jobs.NoRetries})
		require.NoError(t, err)
		require.JSONEq(t, args, string(j.Args), "the caller gets its arguments back")
		return j
	}
	run := func(t *testing.T, b *bundle, kr *jobs.Keyring) *jobs.Server {
		hs := jobs.NewHandlers()
		hs.Handle("mail", func(_ context.Context, j *jobs.Job) error {
			b.handled.add(string(j.Args))
			return nil
		}, nil)
		return startServer(t, b.driver, jobs.Config{Handlers: hs, Keyring: kr})
	}

	t.Run("AtRestAndRun", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		j := enqueue(t, b, ring(t, keyA))
		// The broker holds no plain text; the Inspector says "encrypted".
		stored, err := b.driver.JobGet(ctx, &jobdriver.JobGetParams{ID: j.ID})
		require.NoError(t, err)
		require.NotContains(t, string(stored.Args), "ada@example.com")
		require.True(t, jobs.ArgsEncrypted(stored.Args))
		shown, err := b.insp.Job(ctx, j.ID)
		require.NoError(t, err)
		require.JSONEq(t, `"encrypted"`, string(shown.Args))
		listed, err := b.insp.Jobs(ctx, &jobs.ListParams{Queue: jobs.QueueDefault, State: jobs.StateReady})
		require.NoError(t, err)
		require.Len(t, listed, 1)
		require.JSONEq(t, `"encrypted"`, string(listed[0].Args))
		run(t, b, ring(t, keyA))
		require.JSONEq(t, args, b.handled.wait(t, 1, 10*time.Second)[0])
	})

	t.Run("Rotation", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		old := enqueue(t, b, ring(t, keyA))         // before the rotation
		fresh := enqueue(t, b, ring(t, keyB, keyA)) // b encrypts now
		// A server that knows only the new key cannot open the old job.
		onlyB := ring(t, keyB)
		plain, err := onlyB.Decrypt("mail", mustGet(t, b, fresh.ID).Args)
		require.NoError(t, err)
		require.JSONEq(t, args, string(plain))
		_, err = onlyB.Decrypt("mail", mustGet(t, b, old.ID).Args)
		require.ErrorIs(t, err, jobs.ErrArgsUndecryptable)
		// A server with both keys runs both jobs.
		run(t, b, ring(t, keyB, keyA))
		got := b.handled.wait(t, 2, 10*time.Second)
		require.JSONEq(t, args, got[0])
		require.JSONEq(t, args, got[1])
	})

	t.Run("UndecryptableGoesDead", func(t *testing.T) {
		t.Parallel()
		b := setup(t, h)
		j := enqueue(t, b, ring(t, keyA))
		srv := run(t, b, ring(t, keyB)) // key a was dropped too early
		dead := findState(t, b, j.ID, jobs.StateDead)
		require.Contains(t, dead.Error, "arguments cannot be decrypted")
		require.Contains(t, dead.Error, `key "a" is not in the keyring`)
		require.Empty(t, b.handled.all(), "the handler never saw the job")
		require.JSONEq(t, `"encrypted"`, string(dead.Args))
		// Once the key is back, a person retries it and it runs.
		require.NoError(t, srv.Stop(ctx))
		b2 := &bundle{driver: b.driver, client: b.client, insp: b.insp, handled: newRecorder()}
		run(t, b2, ring(t, keyB, keyA))
		require.NoError(t, b.insp.Retry(ctx, jobs.StateDead, j.ID))
		require.JSONEq(t, args, b2.handled.wait(t, 1, 10*time.Second)[0])
	})
}

func mustGet(t *testing.T, b *bundle, id string) *jobs.Job {
	t.Helper()
	j, err := b.driver.JobGet(context.Background(), &jobdriver.JobGetParams{ID: id})
	require.NoError(t, err)
	return j
}
