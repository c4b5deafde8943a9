package auth

import (
	"errors"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate limits' defaults: a token may send RateDefault requests a second on
// average, and bursts of BurstDefault. They are set for a busy ingest client
// (quire submit uploads a folder from one token, and the pipeline takes
// hundreds of documents a second), so that only a runaway client meets them.
const (
	RateDefault  = 1000
	BurstDefault = 2000
)

// ErrRateLimited means the token sent more requests than its rate allows. It is
// answered with 429 and a Retry-After header.
var ErrRateLimited = errors.New("too many requests")

// Limiter limits the requests of each key (a token's ID, a user's ID) with a
// token bucket per key. Buckets idle long enough to have refilled are
// forgotten, so the map stays as small as the set of active keys.
type Limiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweepAt time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// NewLimiter returns a Limiter allowing perSecond requests a second per key
// on average and bursts of burst; perSecond <= 0 returns nil, which allows
// everything.
func NewLimiter(perSecond float64, burst int) *Limiter {
	if perSecond <= 0 {
		return nil
	}
	return &Limiter{rate: rate.Limit(perSecond), burst: max(burst, 1), now: time.Now, buckets: map[string]*bucket{}}
}

// Allow reports whether key may make a request now; when not, it also
// returns how long until it may.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.After(l.sweepAt) {
		l.sweep(now)
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[key] = b
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets the buckets full again: they hold nothing a new one
// would not.
func (l *Limiter) sweep(now time.Time) {
	refill := time.Duration(float64(l.burst) / float64(l.rate) * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) > refill {
			delete(l.buckets, k)
		}
	}
	l.sweepAt = now.Add(max(refill, time.Minute))
}

// RetryAfter is a Retry-After header's value for a wait: whole seconds,
// rounded up.
func RetryAfter(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}
