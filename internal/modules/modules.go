// Package modules wires a Quire process from modules: the broker, the store,
// the pipeline, the HTTP servers, the worker and the other roles each
// declare the modules they need and build one service. A command names the
// modules it wants ("web", "worker"); the graph starts them and everything
// they depend on, dependencies first, and stops them in the reverse order,
// so that a role drains before the servers and stores under it close.
//
// The shape is Mimir's modules (pkg/mimir/modules.go) made small: a module
// is a name, its dependencies and an Init that builds its service once the
// dependencies run. What a module builds (an opened store, a pipeline) it
// keeps in the caller's own struct, which later modules' Init read: the
// graph orders the calls, it does not carry values.
package modules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Service is what a module's Init builds: something that starts, runs, and
// stops gracefully.
type Service interface {
	// Start starts the service and returns once it runs. An error fails the
	// process's start, and the services started before it are stopped.
	Start(ctx context.Context) error
	// Stop stops the service: it finishes or hands back its work within
	// ctx, then releases what it holds.
	Stop(ctx context.Context) error
}

// Failer is a Service that can fail while it runs (an HTTP server whose
// listener breaks): Failed delivers the error, and the process stops.
type Failer interface {
	Failed() <-chan error
}

// Module is one part of a process.
type Module struct {
	// Name names the module in Deps, in targets and in errors.
	Name string
	// Deps names the modules that must run before this one starts and stop
	// only after it stopped.
	Deps []string
	// Init builds the module's service once its dependencies started. A
	// nil Service is a module that only groups its dependencies.
	Init func(ctx context.Context) (Service, error)
}

// Graph is a set of modules.
type Graph struct {
	modules map[string]*Module
}

// NewGraph returns an empty graph.
func NewGraph() *Graph { return &Graph{modules: map[string]*Module{}} }

// Add adds modules. A name added twice, or a module without Init, is a
// programmer's mistake and panics.
func (g *Graph) Add(mods ...Module) {
	for _, m := range mods {
		if m.Name == "" || m.Init == nil {
			panic(fmt.Sprintf("modules: module %q needs a name and an Init", m.Name))
		}
		if _, dup := g.modules[m.Name]; dup {
			panic(fmt.Sprintf("modules: module %q added twice", m.Name))
		}
		g.modules[m.Name] = &m
	}
}

// Order returns the modules that running targets takes, each after its
// dependencies, in a stable order: dependencies in the order they are
// listed. It reports an unknown module and a dependency cycle, naming the
// path.
func (g *Graph) Order(targets ...string) ([]string, error) {
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		m, ok := g.modules[name]
		if !ok {
			if len(path) == 0 {
				return fmt.Errorf("modules: unknown module %q", name)
			}
			return fmt.Errorf("modules: module %q depends on unknown module %q", path[len(path)-1], name)
		}
		switch state[name] {
		case 2:
			return nil
		case 1:
			return fmt.Errorf("modules: dependency cycle: %s", strings.Join(append(path, name), " -> "))
		}
		state[name] = 1
		for _, d := range m.Deps {
			if err := visit(d, append(slices.Clone(path), name)); err != nil {
				return err
			}
		}
		state[name] = 2
		order = append(order, name)
		return nil
	}
	for _, t := range targets {
		if err := visit(t, nil); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// Start initialises and starts targets and their dependencies, in Order.
// If one fails, those already started are stopped in reverse order and its
// error is returned as it is: a module's errors name what failed (a
// command's usage errors keep their type and their words).
func (g *Graph) Start(ctx context.Context, targets ...string) (*Process, error) {
	order, err := g.Order(targets...)
	if err != nil {
		return nil, err
	}
	p := &Process{failed: make(chan error, 1), stopped: make(chan struct{})}
	for _, name := range order {
		svc, err := g.modules[name].Init(ctx)
		if err == nil && svc != nil {
			err = svc.Start(ctx)
		}
		if err != nil {
			if serr := p.Stop(context.WithoutCancel(ctx)); serr != nil {
				err = errors.Join(err, serr)
			}
			return nil, err
		}
		if svc != nil {
			p.running = append(p.running, running{name, svc})
			if f, ok := svc.(Failer); ok {
				go p.watch(name, f)
			}
		}
	}
	p.ready.Store(true)
	return p, nil
}

type running struct {
	name string
	svc  Service
}

// Process is the services a Graph started.
type Process struct {
	running []running
	ready   atomic.Bool
	failed  chan error
	// stopped is closed by Stop, so that the watchers of failed services
	// return.
	stopped  chan struct{}
	stopOnce sync.Once
	stopErr  error
}

// Ready reports whether every service started and none has been asked to
// stop: what /readyz answers.
func (p *Process) Ready() bool { return p.ready.Load() }

// Failed delivers the first failure of a running service.
func (p *Process) Failed() <-chan error { return p.failed }

func (p *Process) watch(name string, f Failer) {
	select {
	case err := <-f.Failed():
		select {
		case p.failed <- fmt.Errorf("%s: %w", name, err):
		default: // one failure is enough to stop
		}
	case <-p.stopped:
	}
}

// Stop turns readiness off, then stops the services in the reverse order of
// their start, each under ctx, and returns their errors joined. Calls after
// the first return the first's outcome.
func (p *Process) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() {
		p.ready.Store(false)
		var errs []error
		for _, r := range slices.Backward(p.running) {
			if err := r.svc.Stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("stop %s: %w", r.name, err))
			}
		}
		close(p.stopped)
		p.stopErr = errors.Join(errs...)
	})
	return p.stopErr
}

// Wait waits until ctx is done or a service fails, and returns the failure
// (nil when ctx ended it). The caller then stops the process.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-p.failed:
		return err
	}
}

// Funcs makes a Service of two functions; either may be nil.
type Funcs struct {
	StartFunc func(ctx context.Context) error
	StopFunc  func(ctx context.Context) error
}

// Start calls StartFunc.
func (f Funcs) Start(ctx context.Context) error {
	if f.StartFunc == nil {
		return nil
	}
	return f.StartFunc(ctx)
}

// Stop calls StopFunc.
func (f Funcs) Stop(ctx context.Context) error {
	if f.StopFunc == nil {
		return nil
	}
	return f.StopFunc(ctx)
}

// Closer makes a Service of an opened resource: nothing to start, and
// close at stop.
func Closer(close func() error) Service {
	return Funcs{StopFunc: func(context.Context) error { return close() }}
}
