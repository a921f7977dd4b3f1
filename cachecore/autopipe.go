package cachecore

import (
	"context"
	"sync"
	"sync/atomic"

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
	if b.rdb == nil || b.direct.Load() < b.maxAlone {
		b.direct.Add(1)
		raw, err := rdb.Get(ctx, key).Bytes()
		b.direct.Add(-1)
		return raw, err
	}
	ap := b.pipeliner()
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
