package jobstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/jobs"
)

func exerciseMiddleware(t *testing.T, h Harness) {
	ctx := context.Background()
	b := setup(t, h)

	enqueueMW := func(name string) jobs.EnqueueMiddleware {
		return func(next jobs.EnqueueFunc) jobs.EnqueueFunc {
			return func(ctx context.Context, js []*jobs.Job) error {
				b.handled.add("enqueue:" + name + ":before")
				for _, j := range js {
					j.Tags = append(j.Tags, name)
				}
				err := next(ctx, js)
				b.handled.add("enqueue:" + name + ":after")
				return err
			}
		}
	}
	refuse := func(next jobs.EnqueueFunc) jobs.EnqueueFunc {
		return func(ctx context.Context, js []*jobs.Job) error {
			if js[0].Type == "forbidden" {
				return errors.New("refused by policy")
			}
			return next(ctx, js)
		}
	}
	client, err := jobs.NewClient(b.driver, &jobs.ClientConfig{Middleware: []jobs.EnqueueMiddleware{enqueueMW("outer"), enqueueMW("inner"), refuse}})
	require.NoError(t, err)

	serverMW := func(name string) jobs.Middleware {
		return func(next jobs.HandlerFunc) jobs.HandlerFunc {
			return func(ctx context.Context, j *jobs.Job) error {
				b.handled.add("run:" + name + ":before")
				err := next(ctx, j)
				b.handled.add("run:" + name + ":after")
				return err
			}
		}
	}
	hs := jobs.NewHandlers()
	hs.Handle("work", func(ctx context.Context, j *jobs.Job) error {
		b.handled.add("handler tags=" + j.Tags[0] + "," + j.Tags[1])
		return nil
	}, nil)

	_, err = client.Enqueue(ctx, "forbidden", nil, nil)
	require.ErrorContains(t, err, "refused by policy")
	require.Equal(t, []string{"enqueue:outer:before", "enqueue:inner:before", "enqueue:inner:after", "enqueue:outer:after"},
		b.handled.wait(t, 4, time.Second))

	_, err = client.Enqueue(ctx, "work", nil, nil)
	require.NoError(t, err)
	b.handled.wait(t, 4, time.Second)
	startServer(t, b.driver, jobs.Config{Handlers: hs, Middleware: []jobs.Middleware{serverMW("outer"), serverMW("inner")}})
	require.Equal(t, []string{"run:outer:before", "run:inner:before", "handler tags=outer,inner", "run:inner:after", "run:outer:after"},
		b.handled.wait(t, 5, 10*time.Second))
}
