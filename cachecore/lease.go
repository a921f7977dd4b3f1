package cachecore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
)

// A lease is a short-lived key that says "this process is loading this
// cache key". Its value is a random owner token, so only the owner can
// release it (compare-and-delete): a holder whose lease expired mid-load
// must not delete the next holder's lease.
var releaseLease = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// leaseKey is where the lease for key lives. It sits under its own prefix so
// patterns over the cache's keys never match leases.
func (c *Cache) leaseKey(key string) string { return c.prefix + "__lease:" + key }

// tryLease takes the lease for key if nobody holds it. ok is false when
// another process holds it; err reports a Redis failure.
func (c *Cache) tryLease(ctx context.Context, key string, ns *nsCounters) (release func(), ok bool, err error) {
	token := newToken()
	lk := c.leaseKey(key)
	var acquired bool
	err = c.call(ctx, opLease, ns, func(ctx context.Context) (err error) {
		acquired, err = c.rdb.SetNX(ctx, lk, token, c.opts.LeaseTTL).Result()
		return err
	})
	if err != nil || !acquired {
		return nil, false, err
	}
	return func() {
		_ = c.call(ctx, opLease, ns, func(ctx context.Context) error {
			return releaseLease.Run(ctx, c.rdb, []string{lk}, token).Err()
		})
	}, true, nil
}

// leasedLoad loads key under the fleet-wide lease. Without the lease it
// polls for the holder's value, taking the lease itself if the holder goes
// away, and loads by itself once LeaseWait has passed.
func leasedLoad[T any](ctx context.Context, c *Cache, key string, ttl time.Duration, ns *nsCounters, load func(context.Context) (T, error)) (any, error) {
	deadline := c.opts.now().Add(c.opts.LeaseWait)
	// Poll often: a waiter's latency is the loader's time plus up to one
	// backoff, and a poll is one GET per waiting process (singleflight
	// keeps it to one per key per process).
	backoff := 2 * time.Millisecond
	for {
		release, ok, err := c.tryLease(ctx, key, ns)
		if err != nil {
			// Redis is failing: waiting for a value nobody can store would
			// only delay the caller.
			break
		}
		if ok {
			defer release()
			// The previous holder may have stored the value between our
			// last read and taking the lease.
			if v, hit, err := lookup[T](ctx, c, key, ns); hit {
				return v, err
			}
			return loadNow(ctx, c, key, ttl, ns, load)
		}
		if !c.opts.now().Before(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(min(backoff, deadline.Sub(c.opts.now()))):
		case <-ctx.Done():
		}
		if v, hit, err := lookup[T](ctx, c, key, ns); hit {
			return v, err
		}
		backoff = min(2*backoff, 10*time.Millisecond)
	}
	return loadNow(ctx, c, key, ttl, ns, load)
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
