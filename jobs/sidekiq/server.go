package sidekiq

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/quirehq/quire/jobs"
)

// NewServer returns a jobs.Server on d with Sidekiq's behaviour where
// cfg leaves it open:
//   - RetryDelayFunc defaults to RetryDelay, Sidekiq's backoff;
//   - ProcessID defaults to a Sidekiq identity, hostname:pid:nonce;
//   - a first middleware records each failed job's error_class;
//   - the Web UI's Quiet and Stop buttons quiet the server (it stops
//     fetching; the process exits when its supervisor stops it), unless the
//     driver's Config.OnSignal is set.
func NewServer(d *Driver, cfg *jobs.Config) (*jobs.Server, error) {
	if d == nil {
		return nil, errors.New("sidekiq: NewServer needs a driver")
	}
	var c jobs.Config
	if cfg != nil {
		c = *cfg
	}
	if c.RetryDelayFunc == nil {
		c.RetryDelayFunc = RetryDelay
	}
	if c.ProcessID == "" {
		host, _ := os.Hostname()
		nonce := make([]byte, 6)
		_, _ = rand.Read(nonce) // never fails (crypto/rand)
		c.ProcessID = host + ":" + strconv.Itoa(os.Getpid()) + ":" + hex.EncodeToString(nonce)
	}
	c.Middleware = append([]jobs.Middleware{d.errorClassMiddleware}, c.Middleware...)
	srv, err := jobs.NewServer(d, &c)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.onSignal == nil {
		d.onSignal = func(sig string) {
			switch sig {
			case "TSTP", "TERM":
				srv.Quiet()
			}
		}
	}
	d.mu.Unlock()
	return srv, nil
}

// RetryDelay is Sidekiq 6.4's backoff (JobRetry#delay_for): count⁴ + 15
// seconds plus rand(10)·(count+1), where count is the job's retry_count after
// the failure, 0 for the first. attempt is Quire's, 1 for the first run.
func RetryDelay(attempt int, _ error) time.Duration {
	count := int64(max(attempt-1, 0))
	return time.Duration(count*count*count*count+15+mrand.Int64N(10)*(count+1)) * time.Second
}

// errorClassMiddleware records the error_class of every failed execution
// (and a panic's value and stack) for JobCompleteMany.
func (d *Driver) errorClassMiddleware(next jobs.HandlerFunc) jobs.HandlerFunc {
	return func(ctx context.Context, j *jobs.Job) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = &jobs.PanicError{Value: r, Stack: string(debug.Stack())}
			}
			if err == nil {
				return
			}
			fl := failure{class: errorClass(err)}
			var p *jobs.PanicError
			if errors.As(err, &p) {
				// The stack goes to error_backtrace, as a Ruby backtrace
				// does, not into the message the Web UI lists.
				fl.message = fmt.Sprintf("panic: %v", p.Value)
				for _, l := range strings.Split(strings.TrimSpace(p.Stack), "\n") {
					fl.backtrace = append(fl.backtrace, strings.TrimSpace(l))
				}
			}
			d.mu.Lock()
			d.failures[j.Lease] = fl
			d.mu.Unlock()
		}()
		return next(ctx, j)
	}
}

// failure is what the middleware keeps of a failed execution for
// JobCompleteMany, which sees only the error's text.
type failure struct {
	class     string
	message   string   // replaces the error text when set
	backtrace []string // for error_backtrace
}

// errorClass names an error as error_class: its ErrorClass method, else the
// Go type of the outermost error that is not a plain wrapper.
func errorClass(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if ec, ok := e.(ErrorClass); ok {
			return ec.ErrorClass()
		}
	}
	for e := err; e != nil; {
		name := strings.TrimPrefix(fmt.Sprintf("%T", e), "*")
		switch name {
		case "fmt.wrapError", "fmt.wrapErrors":
			if next := errors.Unwrap(e); next != nil {
				e = next
				continue
			}
		case "errors.errorString":
			return "StandardError"
		}
		return name
	}
	return "StandardError"
}
