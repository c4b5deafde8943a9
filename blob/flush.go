package blob

import "sync"

// groupFlush flushes a file system for every Put of the process waiting on
// it at once: a flush that starts after a caller's writes covers them, so
// callers that arrive while one runs share the next one. Measured against
// a flush of each blob and its directories, alternating in the same
// minutes, it keeps about 8% more of the embedded pipeline's rate
// (docs/benchmarks.md): a modest gain, not a cure for the cost of flushing.
//
// syncfs(2) writes every dirty page of the volume, other programs' too:
// a volume shared with a heavy writer lengthens each flush. Blobs are best
// kept on a volume of their own (--blob-url file:///that/volume).
type groupFlush struct {
	flush func() error

	mu      sync.Mutex
	cond    *sync.Cond
	started uint64 // flushes begun
	done    uint64 // flushes ended
	running bool
	// results holds the outcome of a flush by number, while callers wait
	// for it: the running one and the next.
	results map[uint64]*flushResult
}

type flushResult struct {
	err     error
	waiters int
}

func newGroupFlush(flush func() error) *groupFlush {
	g := &groupFlush{flush: flush, results: map[uint64]*flushResult{}}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// wait returns once a flush that began after the call has ended, with its
// error.
func (g *groupFlush) wait() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	// The next flush to begin is the first to cover what the caller
	// wrote: one running now may have begun before.
	need := g.started + 1
	if f := g.results[need]; f != nil {
		f.waiters++
	} else {
		g.results[need] = &flushResult{waiters: 1}
	}
	for g.done < need {
		if g.running {
			g.cond.Wait()
			continue
		}
		g.running = true
		g.started++
		n := g.started
		g.mu.Unlock()
		err := g.flush()
		g.mu.Lock()
		g.running = false
		g.done = n
		if f := g.results[n]; f != nil {
			f.err = err
		}
		g.cond.Broadcast()
	}
	f := g.results[need]
	f.waiters--
	if f.waiters == 0 {
		delete(g.results, need)
	}
	return f.err
}
