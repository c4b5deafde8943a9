package sqlitedriver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/quirehq/quire/jobs/jobdriver"
)

// SQLite cannot block a reader until a row appears, so QueueWait combines
// two signals. In this process, every change that makes a job ready signals
// the hub of its database file at once: a client and a server that opened
// the same file separately still wake each other within microseconds. For
// other processes, one poller per driver reads PRAGMA data_version, which
// changes whenever another connection commits, every pollInterval while
// anyone waits, and wakes every waiter to look again.

// pollInterval is how often waiters notice a commit of another process: the
// added enqueue-to-start latency of a job enqueued by a process other than
// the one that runs it, while that one is idle.
const pollInterval = 25 * time.Millisecond

// hub is what the drivers of one database file share in this process: the
// writers' queue and the waiters' signals.
type hub struct {
	// turn has one slot, taken for each write transaction: blocked senders
	// on a channel are served in order of arrival.
	turn chan struct{}

	mu      sync.Mutex
	refs    int                      // drivers open on the file
	signals map[string]chan struct{} // queue -> closed when a job may be ready
}

var hubs = struct {
	sync.Mutex
	m map[string]*hub
}{m: map[string]*hub{}}

// acquireHub returns the hub of the database file at path, shared by every
// driver of this process that opened it.
func acquireHub(path string) *hub {
	hubs.Lock()
	defer hubs.Unlock()
	h := hubs.m[path]
	if h == nil {
		h = &hub{turn: make(chan struct{}, 1), signals: map[string]chan struct{}{}}
		hubs.m[path] = h
	}
	h.refs++
	return h
}

func releaseHub(path string) {
	hubs.Lock()
	defer hubs.Unlock()
	if h := hubs.m[path]; h != nil {
		if h.refs--; h.refs <= 0 {
			delete(hubs.m, path)
		}
	}
}

// signal returns a channel that is closed the next time queue may have a
// ready job. Take it before looking, so a job that arrives between the look
// and the wait is not missed.
func (h *hub) signal(queue string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := h.signals[queue]
	if ch == nil {
		ch = make(chan struct{})
		h.signals[queue] = ch
	}
	return ch
}

func (h *hub) notify(queue string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if ch := h.signals[queue]; ch != nil {
		close(ch)
		delete(h.signals, queue)
	}
}

func (h *hub) notifyAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for q, ch := range h.signals {
		close(ch)
		delete(h.signals, q)
	}
}

// errClosed is returned by a wait cut short by Close.
var errClosed = errors.New("the driver was closed")

// QueueWait returns true as soon as the queue has a ready job, or false
// when Timeout passes (zero waits until ctx is done). It takes nothing.
func (d *Driver) QueueWait(ctx context.Context, p *jobdriver.QueueWaitParams) (bool, error) {
	var deadline <-chan time.Time
	if p.Timeout > 0 {
		t := time.NewTimer(p.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	d.addWaiter()
	defer d.removeWaiter()
	for {
		sig := d.hub.signal(p.Queue)
		var ready bool
		if err := d.rs.ready.QueryRowContext(ctx, p.Queue).Scan(&ready); err != nil {
			if ctx.Err() != nil {
				return false, fmt.Errorf("sqlitedriver: wait on %s: %w", p.Queue, ctx.Err())
			}
			return false, fmt.Errorf("sqlitedriver: wait on %s: %w", p.Queue, err)
		}
		if ready {
			return true, nil
		}
		select {
		case <-sig:
		case <-deadline:
			return false, nil
		case <-ctx.Done():
			return false, fmt.Errorf("sqlitedriver: wait on %s: %w", p.Queue, ctx.Err())
		case <-d.closed:
			return false, fmt.Errorf("sqlitedriver: wait on %s: %w", p.Queue, errClosed)
		}
	}
}

// addWaiter counts a waiter and starts the poller if none runs.
func (d *Driver) addWaiter() {
	d.pollMu.Lock()
	defer d.pollMu.Unlock()
	d.waiters++
	if d.polling {
		return
	}
	select {
	case <-d.closed:
		return
	default:
	}
	d.polling = true
	d.pollWG.Add(1)
	go d.poll()
}

func (d *Driver) removeWaiter() {
	d.pollMu.Lock()
	d.waiters--
	d.pollMu.Unlock()
}

// poll watches for commits of other connections while anyone waits, and
// exits when no one does.
func (d *Driver) poll() {
	defer d.pollWG.Done()
	stop := func() bool {
		d.pollMu.Lock()
		defer d.pollMu.Unlock()
		if d.waiters > 0 {
			return false
		}
		d.polling = false
		return true
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-d.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	// data_version is per connection: the poller keeps one for its life.
	conn, err := d.r.Conn(ctx)
	if err == nil {
		defer conn.Close()
	}
	last := int64(-1)
	for {
		select {
		case <-ctx.Done():
			d.pollMu.Lock()
			d.polling = false
			d.pollMu.Unlock()
			return
		case <-t.C:
		}
		if stop() {
			return
		}
		var v int64
		if conn == nil {
			err = errors.New("no connection")
		} else {
			err = conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
		}
		// A change, the first reading (a commit may have come between a
		// waiter's look and the poller's start) or a failed reading: let
		// every waiter look for itself.
		if err != nil || v != last {
			d.hub.notifyAll()
		}
		last = v
	}
}
