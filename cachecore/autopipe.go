package cachecore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// readBatcher lets concurrent single-key reads (Get, SafeGet, GetOrSet)
// share round trips. At most maxInFlight read round trips are outstanding;
// a read that arrives while they all are waits, and when one comes back
// every read waiting goes out together as one MGET (a cluster: one
// pipeline of GETs, routed per slot).
//
// Why: a cache hit is a tiny GET; under concurrency its cost is the round
// trip (syscalls and scheduling on both sides), not the server's work, and
// on the server one MGET of n keys costs far less than n GETs. Below the
// bound a read goes alone, at once, with its own context, exactly as an
// unbatched read: a single sequential caller never waits for a batch. A
// waiting read returns at its own context's end (OpTimeout), as a direct
// one would; the breaker and the counters see each read's own outcome.
//
// One difference with a direct GET: MGET answers nil for a key that holds
// another type, so such a key reads as a miss when batched (GET would say
// WRONGTYPE). A cache key of another type is a miss either way for
// GetOrSet, which overwrites it.
type readBatcher struct {
	rdb     redis.UniversalClient
	sharded bool // a pipeline of GETs, each routed by its key, not one MGET
	batch   bool // false: every read goes alone
	trips   roundTrips[*readCall]
}

// readCall is one read waiting for a batch.
type readCall struct {
	ctx     context.Context
	key     string
	withTTL bool

	raw  []byte
	pttl time.Duration
	err  error
	done chan struct{}
}

// newReadBatcher returns a batcher with at most maxInFlight round trips
// out; maxInFlight <= 0 sends every read alone.
func newReadBatcher(rdb redis.UniversalClient, sharded bool, maxInFlight int) *readBatcher {
	b := &readBatcher{rdb: rdb, sharded: sharded, batch: maxInFlight > 0}
	b.trips = roundTrips[*readCall]{max: maxInFlight, send: b.exec}
	return b
}

func (c *readCall) queue()                 { c.done = make(chan struct{}) }
func (c *readCall) ctxOf() context.Context { return c.ctx }

func (c *readCall) fail(err error) {
	select {
	case <-c.done:
	default:
		c.err = err
		close(c.done)
	}
}

// get reads key; redis.Nil for an absent key.
func (b *readBatcher) get(ctx context.Context, key string) ([]byte, error) {
	raw, _, err := b.do(&readCall{ctx: ctx, key: key})
	return raw, err
}

// getWithTTL reads key and its PTTL in one round trip, for the near cache:
// a held copy must not outlive its key.
func (b *readBatcher) getWithTTL(ctx context.Context, key string) ([]byte, time.Duration, error) {
	return b.do(&readCall{ctx: ctx, key: key, withTTL: true})
}

// do runs c alone or in a batch and returns its answer. A caller that
// gives up never touches c again: the batch may still be writing it.
func (b *readBatcher) do(c *readCall) ([]byte, time.Duration, error) {
	if !b.batch {
		b.direct(c)
		return c.raw, c.pttl, c.err
	}
	if b.trips.enter(c) {
		func() {
			defer b.trips.leave()
			b.direct(c)
		}()
		return c.raw, c.pttl, c.err
	}
	select {
	case <-c.done:
		return c.raw, c.pttl, c.err
	case <-c.ctx.Done():
		// The batch may still carry this read; its answer is dropped.
		return nil, 0, c.ctx.Err()
	}
}

// direct reads on a connection of its own, with the caller's context.
func (b *readBatcher) direct(c *readCall) {
	if !c.withTTL {
		c.raw, c.err = b.rdb.Get(c.ctx, c.key).Bytes()
		return
	}
	var get *redis.StringCmd
	var pttl *redis.DurationCmd
	_, err := b.rdb.Pipelined(c.ctx, func(p redis.Pipeliner) error {
		get, pttl = p.Get(c.ctx, c.key), p.PTTL(c.ctx, c.key)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		c.err = err
		return
	}
	c.raw, c.err = get.Bytes()
	if c.err == nil {
		c.pttl, c.err = pttl.Result()
	}
}

// exec sends one batch as one round trip and hands each read its answer.
func (b *readBatcher) exec(batch []*readCall) {
	live := liveCalls(batch)
	if len(live) == 0 {
		return
	}
	ctx, cancel := batchContext(live)
	defer cancel()
	// Each distinct key is read once, however many callers wait for it.
	index := make(map[string]int, len(live))
	var keys []string
	var ttlOf map[string]*redis.DurationCmd
	for _, c := range live {
		if _, ok := index[c.key]; !ok {
			index[c.key] = len(keys)
			keys = append(keys, c.key)
		}
		if c.withTTL {
			if ttlOf == nil {
				ttlOf = make(map[string]*redis.DurationCmd)
			}
			ttlOf[c.key] = nil
		}
	}
	values := make([]*redis.StringCmd, len(keys))
	var mget *redis.SliceCmd
	// Each read gets its own key's outcome, from its own command: on a
	// pipeline of GETs a key of another type, or a shard that is down,
	// fails its own reads and not the others. (The pipeline's error is
	// only the first command's; go-redis sets a failed round trip's error
	// on each of its commands.)
	_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if b.sharded || len(keys) == 1 {
			for i, k := range keys {
				values[i] = p.Get(ctx, k)
			}
		} else {
			mget = p.MGet(ctx, keys...)
		}
		for k := range ttlOf {
			ttlOf[k] = p.PTTL(ctx, k)
		}
		return nil
	})
	var got []any
	var batchErr error
	if mget != nil {
		got, batchErr = mget.Result()
		if batchErr == nil && len(got) != len(keys) {
			batchErr = errors.New("cachecore: MGET answered the wrong number of values")
		}
	}
	for _, c := range live {
		switch {
		case batchErr != nil:
			c.err = batchErr
		case mget != nil:
			if s, ok := got[index[c.key]].(string); ok {
				c.raw = []byte(s)
			} else {
				c.err = redis.Nil
			}
		default:
			c.raw, c.err = values[index[c.key]].Bytes()
		}
		if c.err == nil && c.withTTL {
			c.pttl, c.err = ttlOf[c.key].Result()
		}
		close(c.done)
	}
}
