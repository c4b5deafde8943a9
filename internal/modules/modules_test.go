package modules_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quirehq/quire/internal/modules"
)

// journal records what the services of a test do, in order.
type journal struct {
	mu      sync.Mutex
	entries []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, s)
}

func (j *journal) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.entries...)
}

// module returns a module whose service journals its start and stop, and
// fails its Init or Start when told to.
func module(j *journal, name string, deps []string, failInit, failStart bool) modules.Module {
	return modules.Module{Name: name, Deps: deps, Init: func(context.Context) (modules.Service, error) {
		j.add("init " + name)
		if failInit {
			return nil, errors.New("no disk")
		}
		return modules.Funcs{
			StartFunc: func(context.Context) error {
				j.add("start " + name)
				if failStart {
					return errors.New("port taken")
				}
				return nil
			},
			StopFunc: func(context.Context) error { j.add("stop " + name); return nil },
		}, nil
	}}
}

// graph is a process's shape: worker and web on the pipeline, which needs
// the store and the broker; probes under both roles.
func graph(j *journal, fail string, atStart bool) *modules.Graph {
	g := modules.NewGraph()
	for _, m := range []struct {
		name string
		deps []string
	}{
		{"broker", nil},
		{"store", nil},
		{"pipeline", []string{"store", "broker"}},
		{"probes", nil},
		{"worker", []string{"probes", "pipeline"}},
		{"web", []string{"probes", "pipeline"}},
	} {
		g.Add(module(j, m.name, m.deps, fail == m.name && !atStart, fail == m.name && atStart))
	}
	return g
}

func TestOrder(t *testing.T) {
	t.Parallel()
	g := graph(&journal{}, "", false)
	order, err := g.Order("worker")
	require.NoError(t, err)
	require.Equal(t, []string{"probes", "store", "broker", "pipeline", "worker"}, order)
	order, err = g.Order("worker", "web")
	require.NoError(t, err)
	require.Equal(t, []string{"probes", "store", "broker", "pipeline", "worker", "web"}, order, "a module shared by two targets runs once")

	_, err = g.Order("nope")
	require.EqualError(t, err, `modules: unknown module "nope"`)
	g.Add(modules.Module{Name: "bad", Deps: []string{"store", "missing"}, Init: func(context.Context) (modules.Service, error) { return nil, nil }})
	_, err = g.Order("bad")
	require.EqualError(t, err, `modules: module "bad" depends on unknown module "missing"`)

	c := modules.NewGraph()
	noop := func(context.Context) (modules.Service, error) { return nil, nil }
	c.Add(modules.Module{Name: "a", Deps: []string{"b"}, Init: noop}, modules.Module{Name: "b", Deps: []string{"c"}, Init: noop},
		modules.Module{Name: "c", Deps: []string{"a"}, Init: noop})
	_, err = c.Order("a")
	require.EqualError(t, err, "modules: dependency cycle: a -> b -> c -> a")
}

func TestAddTwicePanics(t *testing.T) {
	t.Parallel()
	g := graph(&journal{}, "", false)
	require.Panics(t, func() { g.Add(module(&journal{}, "store", nil, false, false)) })
	require.Panics(t, func() { g.Add(modules.Module{Name: "no-init"}) })
}

// TestStartStop: dependencies start first, the process is ready once all
// run, and Stop turns readiness off before it stops them in reverse.
func TestStartStop(t *testing.T) {
	t.Parallel()
	j := &journal{}
	p, err := graph(j, "", false).Start(t.Context(), "web")
	require.NoError(t, err)
	require.True(t, p.Ready())
	require.Equal(t, []string{"init probes", "start probes", "init store", "start store", "init broker", "start broker",
		"init pipeline", "start pipeline", "init web", "start web"}, j.list())

	require.NoError(t, p.Stop(t.Context()))
	require.False(t, p.Ready())
	require.Equal(t, []string{"stop web", "stop pipeline", "stop broker", "stop store", "stop probes"}, j.list()[10:])
	require.NoError(t, p.Stop(t.Context()), "a second Stop stops nothing again")
	require.Len(t, j.list(), 15)
}

// TestStartFailure: a module that fails to initialise or start stops what
// started before it, in reverse, and the error names it.
func TestStartFailure(t *testing.T) {
	t.Parallel()
	for _, atStart := range []bool{false, true} {
		j := &journal{}
		_, err := graph(j, "pipeline", atStart).Start(t.Context(), "worker")
		require.Error(t, err)
		if atStart {
			require.EqualError(t, err, "port taken")
		} else {
			require.EqualError(t, err, "no disk")
		}
		got := j.list()
		require.Equal(t, []string{"stop broker", "stop store", "stop probes"}, got[len(got)-3:])
		require.NotContains(t, got, "init worker")
		if atStart {
			require.NotContains(t, got, "stop pipeline", "a service that did not start is not stopped")
		}
	}
}

// failing is a service that fails while it runs when told to.
type failing struct {
	modules.Funcs
	fail chan error
}

func (f *failing) Failed() <-chan error { return f.fail }

// TestWaitFailure: a service that fails while running ends Wait with its
// error, named; a cancelled context ends it with nil.
func TestWaitFailure(t *testing.T) {
	t.Parallel()
	f := &failing{fail: make(chan error, 1)}
	g := modules.NewGraph()
	g.Add(modules.Module{Name: "api", Init: func(context.Context) (modules.Service, error) { return f, nil }})
	p, err := g.Start(t.Context(), "api")
	require.NoError(t, err)
	f.fail <- errors.New("listener closed")
	require.EqualError(t, p.Wait(t.Context()), "api: listener closed")
	require.NoError(t, p.Stop(t.Context()))

	p, err = g.Start(t.Context(), "api")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.NoError(t, p.Wait(ctx))
	require.NoError(t, p.Stop(t.Context()))
}

// TestHTTPServer: served once started, drained at Stop, and a Serve that
// ends by itself is a failure.
func TestHTTPServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	entered, release := make(chan struct{}), make(chan struct{})
	hs := &modules.HTTPServer{What: "API", Listener: ln, Server: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = w.Write([]byte("ok"))
	})}}
	g := modules.NewGraph()
	g.Add(modules.Module{Name: "api", Init: func(context.Context) (modules.Service, error) { return hs, nil }})
	p, err := g.Start(t.Context(), "api")
	require.NoError(t, err)

	got := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		defer res.Body.Close()
		got <- res.Status
	}()
	<-entered
	// Stop drains: the request in flight finishes with its answer.
	stopped := make(chan error, 1)
	go func() { stopped <- p.Stop(t.Context()) }()
	close(release)
	require.Equal(t, "200 OK", <-got)
	require.NoError(t, <-stopped)
	_, err = net.Dial("tcp", ln.Addr().String())
	require.Error(t, err, "the listener is closed after Stop")

	// A listener closed under the server ends Serve: a failure.
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs2 := &modules.HTTPServer{What: "probes", Listener: ln2, Server: &http.Server{Handler: http.NotFoundHandler()}}
	require.NoError(t, hs2.Start(t.Context()))
	_ = ln2.Close()
	select {
	case err := <-hs2.Failed():
		require.ErrorContains(t, err, "serve the probes on "+ln2.Addr().String())
	case <-time.After(10 * time.Second):
		t.Fatal("a Serve that ended was not reported")
	}
	require.NoError(t, hs2.Stop(t.Context()))
}
