package monitor

import (
	"context"
	"sync/atomic"
	"time"
)

// runEvery is the loop of every poller's Run (stats, app, channels): poll
// at once and then every interval, hand each result to deliver (which may
// be nil) on this goroutine, until ctx is done; then return ctx.Err(). A slow deliver
// delays the next poll (ticks are skipped, never queued). running makes a
// second concurrent Run fail with ErrRunning.
func runEvery[S any](ctx context.Context, running *atomic.Bool, interval time.Duration, poll func(context.Context) S, deliver func(S)) error {
	if !running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer running.Store(false)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		s := poll(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if deliver != nil {
			deliver(s)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}
