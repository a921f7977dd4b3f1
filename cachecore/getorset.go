package cachecore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime/debug"
	"time"
)

// GetOrSet returns the cached value of key, or loads it with load, caches
// it for ttl (as Set does) and returns it.
//
// On a miss the load runs once per key per process however many callers
// arrive together. It runs on a context detached from the first caller's
// cancellation but bounded by Options.LoadTimeout; every caller waits on its
// own ctx. A panicking loader becomes an error (ErrLoaderPanic) for every
// waiter. A loader returning ErrNotFound (or wrapping it) is remembered for
// Options.NegativeTTL, and later calls return ErrNotFound without loading.
//
// When Redis fails or the circuit breaker is open, GetOrSet still returns
// the loader's value: each Redis round trip is bounded by OpTimeout, and an
// open breaker skips Redis altogether. See Options.Lease and
// Options.EarlyRefresh for fleet-wide stampede protection and early
// refresh.
func GetOrSet[T any](ctx context.Context, c *Cache, key string, ttl time.Duration, load func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := checkKey(key); err != nil {
		return zero, err
	}
	if load == nil {
		return zero, errors.New("cachecore: GetOrSet needs a loader")
	}
	ttl, err := c.resolveTTL(ttl)
	if err != nil {
		return zero, err
	}
	ns := c.ns.of(key)

	var raw []byte
	var near *nearEntry
	if c.near != nil {
		near = c.near.entry(key)
	}
	if near != nil {
		raw = near.raw
	} else {
		raw, err = c.getRaw(ctx, key, ns)
	}
	redisOK := err == nil || err == ErrMiss
	if err == nil {
		v, env, derr := decodeNearValue[T](c, raw, near)
		switch {
		case derr == nil && env.Negative:
			ns.hits.Add(1)
			return zero, ErrNotFound
		case derr == nil:
			ns.hits.Add(1)
			if c.opts.EarlyRefresh && c.shouldRefresh(env) {
				startRefresh(ctx, c, key, ttl, load)
			}
			return v, nil
		}
		c.countError(opDecode, ns)
		c.errlog.log("decode", key, derr)
	} else if !redisOK {
		c.errlog.log("get", key, err)
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
	}
	ns.misses.Add(1)

	// One flight per key and result type: two callers asking for the same
	// key as different types must not receive each other's value.
	flight := key + "\x00" + reflect.TypeFor[T]().String()
	ch := c.flights.DoChan(flight, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.LoadTimeout)
		defer cancel()
		return loadAndStore(lctx, c, key, ttl, ns, load, redisOK)
	})
	select {
	case r := <-ch:
		v, _ := r.Val.(T)
		return v, r.Err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// loadAndStore runs inside a flight: it loads the value (under a lease when
// configured) and stores it. recheck says whether Redis answered the
// caller's read; only then is it worth reading again before loading.
func loadAndStore[T any](ctx context.Context, c *Cache, key string, ttl time.Duration, ns *nsCounters, load func(context.Context) (T, error), recheck bool) (any, error) {
	// A previous flight may have stored the value after this caller's
	// miss: without this read, a burst of callers arriving just after a
	// load finished would load again.
	if recheck {
		if v, hit, err := lookup[T](ctx, c, key, ns); hit {
			return v, err
		}
	}
	if c.opts.Lease && recheck {
		return leasedLoad(ctx, c, key, ttl, ns, load)
	}
	return loadNow(ctx, c, key, ttl, ns, load)
}

// loadNow calls the loader and stores its answer: the value, or a negative
// entry for ErrNotFound. Failures to store are counted and logged; the
// loaded value is returned regardless.
func loadNow[T any](ctx context.Context, c *Cache, key string, ttl time.Duration, ns *nsCounters, load func(context.Context) (T, error)) (any, error) {
	start := c.opts.now()
	v, err := safeLoad(ctx, load)
	took := c.opts.now().Sub(start)
	ns.loads.Add(1)
	ns.loadNanos.Add(int64(took))
	c.loadDur.observe(took)

	if errors.Is(err, ErrNotFound) {
		neg := min(c.opts.NegativeTTL, ttl)
		if serr := c.store(ctx, key, encodeEnvelope(nil, true, nil), neg, ns); serr != nil {
			c.errlog.log("set", key, serr)
		}
		return nil, err
	}
	if err != nil {
		c.countError(opLoad, ns)
		if errors.Is(err, ErrLoaderPanic) {
			c.errlog.log("load", key, err)
		}
		return nil, err
	}
	payload, err := c.encode(key, v)
	if err != nil {
		c.countError(opSet, ns)
		c.errlog.log("encode", key, err)
		return v, nil
	}
	var meta *refreshMeta
	if c.opts.EarlyRefresh {
		// The expiry written here is before jitter; the real key expires a
		// little sooner, which only makes refreshes slightly earlier.
		meta = &refreshMeta{expiresAt: c.opts.now().Add(ttl), load: took}
	}
	if serr := c.store(ctx, key, encodeEnvelope(payload, false, meta), ttl, ns); serr != nil {
		c.errlog.log("set", key, serr)
	}
	return v, nil
}

// safeLoad calls load and turns a panic into an error. singleflight would
// otherwise re-panic on a goroutine of its own and crash the process.
func safeLoad[T any](ctx context.Context, load func(context.Context) (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v\n%s", ErrLoaderPanic, r, debug.Stack())
		}
	}()
	return load(ctx)
}

// lookup reads and decodes key without counting a hit or a miss (the
// caller already did). hit is true for a value or a negative entry (then
// err is ErrNotFound).
func lookup[T any](ctx context.Context, c *Cache, key string, ns *nsCounters) (v T, hit bool, err error) {
	var raw []byte
	held := false
	if c.near != nil { // filled meanwhile by another caller
		raw, held = c.near.get(key)
	}
	if !held {
		if raw, err = c.getRaw(ctx, key, ns); err != nil {
			return v, false, nil
		}
	}
	v, env, err := decodeValue[T](c, raw)
	switch {
	case err != nil:
		return v, false, nil
	case env.Negative:
		return v, true, ErrNotFound
	}
	return v, true, nil
}

// decodeNearValue is decodeValue with the near cache's decoded copy: a
// plain value decoded from this entry before is copied, not decoded again.
func decodeNearValue[T any](c *Cache, raw []byte, near *nearEntry) (v T, env Envelope, err error) {
	if near == nil {
		return decodeValue[T](c, raw)
	}
	t := reflect.TypeFor[T]()
	if d, ok := near.decodedAs(t); ok {
		env, err = DecodeEnvelope(raw)
		if err == nil && !env.Negative {
			return d.(T), env, nil
		}
	}
	v, env, err = decodeValue[T](c, raw)
	if err == nil && !env.Negative {
		near.keepDecoded(t, v)
	}
	return v, env, err
}

func decodeValue[T any](c *Cache, raw []byte) (v T, env Envelope, err error) {
	env, err = DecodeEnvelope(raw)
	if err != nil || env.Negative {
		return v, env, err
	}
	err = c.opts.Codec.Unmarshal(env.Payload, &v)
	return v, env, err
}

// shouldRefresh implements XFetch (Vattani, Chierichetti, Lowenstein,
// "Optimal Probabilistic Cache Stampede Prevention", VLDB 2015): refresh
// when now - delta*beta*ln(u) >= expiry, u uniform in (0,1], delta the time
// the last load took. The closer the expiry and the slower the load, the
// likelier a refresh; under steady reads one happens shortly before expiry.
func (c *Cache) shouldRefresh(env Envelope) bool {
	if env.ExpiresAt.IsZero() || env.LoadDuration <= 0 {
		return false
	}
	u := 1 - rand.Float64() // (0, 1], so the logarithm is finite
	gap := -float64(env.LoadDuration) * c.opts.EarlyRefreshBeta * math.Log(u)
	if gap > float64(math.MaxInt64/2) {
		gap = float64(math.MaxInt64 / 2)
	}
	return !c.opts.now().Add(time.Duration(gap)).Before(env.ExpiresAt)
}

// startRefresh reloads key in the background, at most once at a time per
// key in this process. With a lease, a process that cannot take it leaves
// the refresh to the holder.
func startRefresh[T any](ctx context.Context, c *Cache, key string, ttl time.Duration, load func(context.Context) (T, error)) {
	if !c.refreshing.add(key) {
		return
	}
	go func() {
		defer c.refreshing.remove(key)
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.LoadTimeout)
		defer cancel()
		ns := c.ns.of(key)
		if c.opts.Lease {
			release, ok, _ := c.tryLease(lctx, key, ns)
			if !ok {
				return
			}
			defer release()
		}
		_, _ = loadNow(lctx, c, key, ttl, ns, load)
	}()
}
