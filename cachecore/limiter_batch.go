package cachecore

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// limiterBatcher bounds how many round trips a Limiter has outstanding and
// sends the decisions that arrive while that many are out together, as one
// pipeline, as soon as one comes back.
//
// Why: a decision is a tiny script, so under concurrency its cost is the
// round trip (two syscalls on each side per request), not the work in
// Redis. Pipelining N waiting decisions pays one round trip for N. Below
// the bound every call goes alone, straight away, with its own ctx, exactly
// as an unbatched call would: batching adds no latency when there is no
// queue. The scripts are atomic one by one, so batching changes no
// decision.
type limiterBatcher struct {
	rdb   redis.UniversalClient
	batch bool // false: every call goes alone
	trips roundTrips[*limiterCall]
}

// init sets the client and the bound: at most maxInFlight round trips
// out; maxInFlight <= 0 sends every call alone.
func (b *limiterBatcher) init(rdb redis.UniversalClient, maxInFlight int) {
	b.rdb, b.batch = rdb, maxInFlight > 0
	b.trips = roundTrips[*limiterCall]{max: maxInFlight, send: b.exec}
}

func (c *limiterCall) queue()                 { c.done = make(chan struct{}) }
func (c *limiterCall) ctxOf() context.Context { return c.ctx }

func (c *limiterCall) fail(err error) {
	select {
	case <-c.done:
	default:
		c.err = err
		close(c.done)
	}
}

func (b *limiterBatcher) do(c *limiterCall) (Result, error) {
	if !b.batch {
		return c.run(b.rdb)
	}
	if b.trips.enter(c) {
		defer b.trips.leave()
		return c.run(b.rdb)
	}
	select {
	case <-c.done:
		return c.res, c.err
	case <-c.ctx.Done():
		// The batch may still run this call's script; like a direct call
		// whose ctx ends after sending, the units may have been spent.
		return Result{}, c.ctx.Err()
	}
}

// exec runs one batch as a pipeline and delivers each call's result.
func (b *limiterBatcher) exec(batch []*limiterCall) {
	live := liveCalls(batch)
	switch len(live) {
	case 0:
		return
	case 1:
		c := live[0]
		c.res, c.err = c.run(b.rdb)
		close(c.done)
		return
	}
	ctx, cancel := batchContext(live)
	defer cancel()
	cmds := make([]*redis.Cmd, len(live))
	pipe := b.rdb.Pipeline()
	for i, c := range live {
		cmds[i] = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx) // errors are per command, read below
	var noScript []int
	for i, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			noScript = append(noScript, i)
		}
	}
	if len(noScript) > 0 {
		// The server lost its script cache (restart, failover, SCRIPT
		// FLUSH): send the sources; the first EVAL caches the script again.
		pipe := b.rdb.Pipeline()
		for _, i := range noScript {
			c := live[i]
			cmds[i] = c.script.Eval(ctx, pipe, c.keys, c.args...)
		}
		_, _ = pipe.Exec(ctx)
	}
	for i, c := range live {
		c.res, c.err = parseLimiterReply(cmds[i])
		close(c.done)
	}
}
