// Package rediswait is the wait for a queue's next ready job that the job
// engine's Redis drivers share (Quire's own and the Sidekiq-format one): a
// BLMOVE of the ready list to itself, which returns when the list has an
// element without taking it, so a wake-up cannot be missed and no job is
// held by a waiting connection.
//
// go-redis does not cut a blocking command short when its context ends, so
// a stopping server would wait out every wait's timeout (an idle `quire
// process` on Redis ended 1–2 s late). The wait holds a connection of its
// own, and the context ending unblocks it from another (CLIENT UNBLOCK).
package rediswait

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Waiter waits on the ready lists of one Redis deployment.
type Waiter struct {
	// noClientID: the server refused CLIENT ID (a managed Redis or an ACL
	// may), so waits cannot be unblocked and run to their timeout.
	noClientID atomic.Bool
}

// Wait blocks until the list at key has an element or timeout passes, and
// reports whether it has one. It returns ctx's error once ctx has ended,
// which ends the wait at once.
func (w *Waiter) Wait(ctx context.Context, rdb redis.UniversalClient, key string, timeout time.Duration) (bool, error) {
	var node *redis.Client
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		node, _ = c.MasterForKey(ctx, key) // nil: a plain wait, whose error says more
	case *redis.Client:
		node = c
	}
	if node == nil || w.noClientID.Load() {
		return result(ctx, rdb.BLMove(ctx, key, key, "RIGHT", "RIGHT", timeout).Err())
	}
	conn := node.Conn()
	defer conn.Close()
	id, err := conn.ClientID(ctx).Result()
	if err != nil {
		if ctx.Err() == nil && refused(err) {
			w.noClientID.Store(true)
			return result(ctx, conn.BLMove(ctx, key, key, "RIGHT", "RIGHT", timeout).Err())
		}
		return result(ctx, err)
	}
	waited := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		// Until the wait returns: ctx may end before BLMOVE reaches the
		// server, when there is nothing to unblock yet.
		for {
			uctx, cancel := context.WithTimeout(context.Background(), time.Second)
			n, err := node.ClientUnblock(uctx, id).Result()
			cancel()
			if n == 1 || err != nil {
				return
			}
			select {
			case <-waited:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	err = conn.BLMove(ctx, key, key, "RIGHT", "RIGHT", timeout).Err()
	close(waited)
	stop()
	return result(ctx, err)
}

// result turns BLMOVE's outcome into Wait's: the context's error once it
// has ended, as a wait cut short has no answer.
func result(ctx context.Context, err error) (bool, error) {
	switch {
	case ctx.Err() != nil:
		return false, ctx.Err()
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// refused reports whether err is the server refusing a command it does not
// know or does not allow, rather than a failure of the connection.
func refused(err error) bool {
	var re redis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := re.Error()
	return strings.HasPrefix(msg, "ERR unknown") || strings.HasPrefix(msg, "NOPERM") || strings.Contains(msg, "disabled")
}
