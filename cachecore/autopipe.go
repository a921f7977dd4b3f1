package cachecore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// readBatcher sends single-key reads (Get, SafeGet, GetOrSet) through
// go-redis's deferred AutoPipeline once enough of them are already in
// flight, so that concurrent reads share round trips.
//
// Why: a cache hit is a tiny GET; under concurrency its cost is the round
// trip (syscalls and scheduling on both sides), not the server's work.
// Below the bound a read goes alone on a pooled connection with its own
// context, exactly as before, so a single sequential caller pays nothing.
// Above it, reads are queued on go-redis's pipeline connection and each
// caller waits for its own reply with its own context (AutoFuture.
// WaitContext): OpTimeout still bounds the caller, the breaker still sees
// the outcome, counters are unchanged. A caller that gives up leaves its GET
// in the batch; the reply is discarded.
type readBatcher struct {
	direct   atomic.Int64 // reads in flight on their own connections
	maxAlone int64        // <= 0 with ap == nil: batching off

	once sync.Once
	rdb  *redis.Client
	ap   *redis.AutoPipeliner // nil until first needed, or when unavailable
	err  error
}

// newReadBatcher returns a batcher for rdb. Batching needs the deferred
// AutoPipeline face, which go-redis offers on *redis.Client (a single
// server, or a Sentinel failover client); a cluster client reads directly.
func newReadBatcher(rdb redis.UniversalClient, maxAlone int) *readBatcher {
	b := &readBatcher{maxAlone: int64(maxAlone)}
	if c, ok := rdb.(*redis.Client); ok && maxAlone > 0 {
		b.rdb = c
	}
	return b
}

// get reads key. It goes direct while fewer than maxAlone reads are in
// flight; otherwise through the autopipeline. ctx bounds the wait.
func (b *readBatcher) get(ctx context.Context, rdb redis.UniversalClient, key string) ([]byte, error) {
	ap := b.batching()
	if ap == nil {
		b.direct.Add(1)
		raw, err := rdb.Get(ctx, key).Bytes()
		b.direct.Add(-1)
		return raw, err
	}
	cmd := redis.NewStringCmd(ctx, "get", key)
	if err := ap.Submit(ctx, cmd).WaitContext(ctx); err != nil {
		return nil, err
	}
	return cmd.Bytes()
}

// pipeliner returns the client's shared deferred autopipeliner, created on
// first use. It is the client's (go-redis caches one per client and stops it
// when the client closes), so the cache never closes it.
func (b *readBatcher) pipeliner() *redis.AutoPipeliner {
	b.once.Do(func() {
		b.ap, b.err = b.rdb.AsyncAutoPipeline()
	})
	return b.ap
}

// getWithTTL reads key and its PTTL in one round trip (a pipeline, or two
// commands in the same autopipeline batch), for the near cache: a held
// copy must not outlive the key.
func (b *readBatcher) getWithTTL(ctx context.Context, rdb redis.UniversalClient, key string) ([]byte, time.Duration, error) {
	var get *redis.StringCmd
	var pttl *redis.DurationCmd
	if ap := b.batching(); ap != nil {
		get, pttl = redis.NewStringCmd(ctx, "get", key), redis.NewDurationCmd(ctx, time.Millisecond, "pttl", key)
		fg, ft := ap.Submit(ctx, get), ap.Submit(ctx, pttl)
		if err := fg.WaitContext(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, 0, err
		}
		if err := ft.WaitContext(ctx); err != nil {
			return nil, 0, err
		}
	} else {
		b.direct.Add(1)
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			get, pttl = p.Get(ctx, key), p.PTTL(ctx, key)
			return nil
		})
		b.direct.Add(-1)
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, 0, err
		}
	}
	raw, err := get.Bytes()
	if err != nil {
		return nil, 0, err
	}
	return raw, pttl.Val(), pttl.Err()
}

// batching returns the autopipeliner when this read should be batched,
// nil when it should go direct.
func (b *readBatcher) batching() *redis.AutoPipeliner {
	if b.rdb == nil || b.direct.Load() < b.maxAlone {
		return nil
	}
	return b.pipeliner()
}
