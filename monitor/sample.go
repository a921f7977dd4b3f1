package monitor

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sample takes two samples of the server interval apart (0 means 1s) and
// returns the second snapshot, whose rates cover the interval. Every tier
// runs in both samples, so per-command rates, windowed percentiles and new
// slowlog entries are also filled in; it sends about eight commands. opts
// supplies thresholds and timeouts (the zero value means the defaults).
//
// If the server cannot be sampled, Sample returns a snapshot with
// Health.Up false along with the error; if ctx ends during the wait, it
// returns the first snapshot and ctx.Err().
func Sample(ctx context.Context, rdb redis.UniversalClient, interval time.Duration, opts Options) (*Snapshot, error) {
	if interval <= 0 {
		interval = time.Second
	}
	opts.Interval = interval
	p := NewPoller(rdb, opts)
	defer p.Close()
	first := p.tick(ctx, true)
	if !first.Health.Up {
		return first, first.Health.Err
	}
	timer := time.NewTimer(interval)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return first, ctx.Err()
	case <-timer.C:
	}
	second := p.tick(ctx, true)
	if !second.Health.Up {
		return second, second.Health.Err
	}
	return second, nil
}
