package cachecore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"
)

// Cache is a Redis-backed cache. It is safe for concurrent use; create one
// per Redis deployment and namespace, and share it.
type Cache struct {
	rdb     redis.UniversalClient
	opts    Options
	prefix  string // "Namespace:" or ""
	cluster bool   // a Redis Cluster: a multi-key command must stay in one slot
	// sharded: keys live on several servers (a Cluster or a Ring), so a
	// multi-key read is a pipeline of single-key commands, each routed
	// by its key (a Ring routes a command by its first key only).
	sharded bool

	ns      *namespaces
	opErrs  [numOps]atomicCounter
	loadDur histogram
	breaker breaker
	errlog  errorLog

	reads      *readBatcher       // single-key reads, batched under concurrency
	near       *nearCache         // nil unless Options.Near
	flights    singleflight.Group // GetOrSet loads, one per key and type
	refreshing keySet             // early refreshes in flight
	telemetry  *telemetry         // nil unless Options.Telemetry
}

// New returns a Cache for opts. It does not contact Redis, except for the
// telemetry it writes in the background when Options.Telemetry is set.
func New(opts Options) (*Cache, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Cache{rdb: o.Redis, opts: o, ns: newNamespaces(o.MaxNamespaces)}
	if o.Namespace != "" {
		c.prefix = o.Namespace + ":"
	}
	_, c.cluster = o.Redis.(*redis.ClusterClient)
	_, single := o.Redis.(*redis.Client)
	c.sharded = !single
	c.reads = newReadBatcher(o.Redis, c.sharded, o.MaxReadsInFlight)
	c.breaker = breaker{threshold: int64(o.BreakerThreshold), cooldown: o.BreakerCooldown, now: o.now}
	c.errlog = errorLog{logger: o.Logger, every: o.LogInterval, now: o.now}
	if !contextTimeoutsEnabled(o.Redis) {
		o.Logger.Warn("cachecore: the Redis client ignores context deadlines (ContextTimeoutEnabled is false); OpTimeout cannot bound a hung server, the client's ReadTimeout will")
	}
	if o.Near != nil {
		c.near = startNear(c)
	}
	if o.Telemetry > 0 {
		c.telemetry = startTelemetry(c)
	}
	return c, nil
}

// Redis returns the client the cache uses.
func (c *Cache) Redis() redis.UniversalClient { return c.rdb }

// Key returns the Redis key for a cache key: the key with the namespace
// prefix.
func (c *Cache) Key(key string) string { return c.prefix + key }

// Get reads key into dst, which must be a non-nil pointer. It returns
// ErrMiss when there is no usable value (absent, expired, written in
// another format or not decodable into dst), ErrNotFound for a cached
// negative entry, and otherwise the Redis error (ErrCircuitOpen while the
// breaker is open).
func (c *Cache) Get(ctx context.Context, key string, dst any) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := checkDst(dst); err != nil {
		return err
	}
	ns := c.ns.of(key)
	if c.near != nil {
		if e := c.near.entry(key); e != nil {
			return c.decodeNear(key, e, dst, ns)
		}
	}
	raw, err := c.getRaw(ctx, key, ns)
	if err != nil {
		if err == ErrMiss {
			ns.misses.Add(1)
		}
		return err
	}
	return c.decodeInto(key, raw, dst, ns)
}

// decodeNear is decodeInto for a near-cache entry: a plain value decoded
// before is copied instead of decoded again, when dst is a zero value (as
// decoding into a non-zero struct would keep the fields the bytes lack).
func (c *Cache) decodeNear(key string, e *nearEntry, dst any, ns *nsCounters) error {
	target := reflect.ValueOf(dst).Elem()
	t := target.Type()
	if v, ok := e.decodedAs(t); ok && target.IsZero() {
		target.Set(reflect.ValueOf(v))
		ns.hits.Add(1)
		return nil
	}
	zero := target.IsZero()
	if err := c.decodeInto(key, e.raw, dst, ns); err != nil {
		return err
	}
	if zero {
		e.keepDecoded(t, target.Interface())
	}
	return nil
}

// SafeGet is Get for callers that treat the cache as optional: it never
// returns an error. Any failure is reported as a miss, counted, and logged
// at most once per Options.LogInterval.
func (c *Cache) SafeGet(ctx context.Context, key string, dst any) bool {
	err := c.Get(ctx, key, dst)
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrMiss), errors.Is(err, ErrNotFound):
		return false
	}
	if ns := c.nsForKey(key); ns != nil {
		ns.misses.Add(1)
	}
	c.errlog.log("get", key, err)
	return false
}

// Set stores value under key for ttl (0 means Options.DefaultTTL; a
// negative ttl is ErrInvalidTTL; below 1ms it is 1ms, Redis' smallest
// expiry). The TTL is shortened by jitter (Options.TTLJitter).
func (c *Cache) Set(ctx context.Context, key string, value any, ttl time.Duration) error {
	if err := checkKey(key); err != nil {
		return err
	}
	ttl, err := c.resolveTTL(ttl)
	if err != nil {
		return err
	}
	payload, err := c.encode(key, value)
	if err != nil {
		return err
	}
	return c.store(ctx, key, encodeEnvelope(payload, false, nil), ttl, c.ns.of(key))
}

// Delete removes keys and returns how many existed. It uses UNLINK, so
// large values are freed in the background.
func (c *Cache) Delete(ctx context.Context, keys ...string) (int64, error) {
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return 0, err
		}
	}
	switch len(keys) {
	case 0:
		return 0, nil
	case 1:
		var n int64
		ns := c.ns.of(keys[0])
		err := c.call(ctx, opDelete, ns, func(ctx context.Context) (err error) {
			n, err = c.rdb.Unlink(ctx, c.Key(keys[0])).Result()
			return err
		})
		c.nearWritten(keys[0])
		if err != nil {
			return 0, fmt.Errorf("cachecore: delete %q: %w", keys[0], err)
		}
		ns.invalidations.Add(n)
		return n, nil
	}
	// One UNLINK per key in a pipeline: it works across cluster slots and
	// tells which namespace each deleted key belonged to.
	var total int64
	for start := 0; start < len(keys); start += c.opts.BulkChunk {
		chunk := keys[start:min(start+c.opts.BulkChunk, len(keys))]
		cmds := make([]*redis.IntCmd, len(chunk))
		err := c.call(ctx, opDelete, nil, func(ctx context.Context) error {
			_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, k := range chunk {
					cmds[i] = p.Unlink(ctx, c.Key(k))
				}
				return nil
			})
			return err
		})
		c.nearWritten(chunk...)
		if err != nil {
			return total, fmt.Errorf("cachecore: delete: %w", err)
		}
		for i, cmd := range cmds {
			if n := cmd.Val(); n > 0 {
				c.ns.of(chunk[i]).invalidations.Add(n)
				total += n
			}
		}
	}
	return total, nil
}

// getRaw reads a key's bytes from Redis (and then the near cache keeps
// them); callers look in the near cache first. It returns
// ErrMiss for an absent key and counts every other failure. It is the hot
// path of every read, so it avoids the closure that call would need.
func (c *Cache) getRaw(ctx context.Context, key string, ns *nsCounters) ([]byte, error) {
	ok, probe := c.breaker.allow()
	if !ok {
		c.countError(opGet, ns)
		return nil, fmt.Errorf("cachecore: get %q: %w", key, ErrCircuitOpen)
	}
	octx, cancel := c.opContext(ctx)
	var raw []byte
	var err error
	if token, epoch := c.nearBegin(key); token != 0 {
		var pttl time.Duration
		sent := c.near.now() // the PTTL counts from a moment after this one
		raw, pttl, err = c.reads.getWithTTL(octx, c.prefix+key)
		if err == nil {
			c.near.commit(key, token, epoch, raw, pttl, sent)
		} else {
			c.near.store.cancel(key, token)
		}
	} else {
		raw, err = c.reads.get(octx, c.prefix+key)
	}
	cancel()
	c.breaker.record(classify(ctx, err), probe)
	switch {
	case err == nil:
		return raw, nil
	case errors.Is(err, redis.Nil):
		return nil, ErrMiss
	}
	c.countError(opGet, ns)
	return nil, fmt.Errorf("cachecore: get %q: %w", key, err)
}

// nearBegin starts a near-cache fill of key; 0 when there is no near cache
// or it is not on.
func (c *Cache) nearBegin(key string) (token, epoch uint64) {
	if c.near == nil {
		return 0, 0
	}
	return c.near.begin(key)
}

// nearWritten tells the near cache that this process wrote keys.
func (c *Cache) nearWritten(keys ...string) {
	if c.near == nil {
		return
	}
	for _, k := range keys {
		c.near.written(k)
	}
}

// decodeInto decodes a stored value into dst and counts the outcome.
func (c *Cache) decodeInto(key string, raw []byte, dst any, ns *nsCounters) error {
	env, err := DecodeEnvelope(raw)
	if err == nil && env.Negative {
		ns.hits.Add(1)
		return ErrNotFound
	}
	if err == nil {
		err = c.opts.Codec.Unmarshal(env.Payload, dst)
	}
	if err != nil {
		ns.misses.Add(1)
		c.countError(opDecode, ns)
		c.errlog.log("decode", key, err)
		return fmt.Errorf("%w: stored value of %q does not decode: %v", ErrMiss, key, err)
	}
	ns.hits.Add(1)
	return nil
}

// store writes an encoded value with a jittered TTL.
func (c *Cache) store(ctx context.Context, key string, value []byte, ttl time.Duration, ns *nsCounters) error {
	err := c.call(ctx, opSet, ns, func(ctx context.Context) error {
		return c.rdb.Set(ctx, c.prefix+key, value, c.jitter(ttl)).Err()
	})
	// Even a failed write may have reached Redis.
	c.nearWritten(key)
	if err != nil {
		return fmt.Errorf("cachecore: set %q: %w", key, err)
	}
	ns.sets.Add(1)
	return nil
}

// call runs one Redis round trip under the breaker and OpTimeout, counts
// its failure under o and records the outcome in the breaker.
func (c *Cache) call(ctx context.Context, o op, ns *nsCounters, fn func(context.Context) error) error {
	ok, probe := c.breaker.allow()
	if !ok {
		c.countError(o, ns)
		return ErrCircuitOpen
	}
	octx, cancel := c.opContext(ctx)
	err := fn(octx)
	cancel()
	outcome := classify(ctx, err)
	c.breaker.record(outcome, probe)
	if outcome == outcomeFailure {
		c.reloadClusterState()
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		c.countError(o, ns)
	}
	return err
}

// opContext bounds one round trip by OpTimeout, unless the caller's
// deadline comes sooner.
func (c *Cache) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && dl.Sub(c.opts.now()) <= c.opts.OpTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.opts.OpTimeout)
}

func (c *Cache) countError(o op, ns *nsCounters) {
	c.opErrs[o].Add(1)
	if ns != nil {
		ns.errors.Add(1)
	}
}

// nsForKey returns the counters of a valid key, nil for an invalid one.
func (c *Cache) nsForKey(key string) *nsCounters {
	if key == "" {
		return nil
	}
	return c.ns.of(key)
}

func (c *Cache) encode(key string, value any) ([]byte, error) {
	b, err := c.opts.Codec.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrEncode, key, err)
	}
	return b, nil
}

// resolveTTL applies the TTL rules shared by every write.
func (c *Cache) resolveTTL(ttl time.Duration) (time.Duration, error) {
	switch {
	case ttl < 0:
		return 0, fmt.Errorf("%w: %v is negative (use Delete to remove a key)", ErrInvalidTTL, ttl)
	case ttl == 0:
		return c.opts.DefaultTTL, nil
	}
	return ttl, nil
}

// jitter shortens ttl by a random fraction below TTLJitter and rounds it to
// whole milliseconds, never below 1ms.
func (c *Cache) jitter(ttl time.Duration) time.Duration {
	if c.opts.TTLJitter > 0 {
		ttl -= time.Duration(rand.Float64() * c.opts.TTLJitter * float64(ttl))
	}
	ttl = ttl.Truncate(time.Millisecond)
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	return ttl
}

func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	return nil
}

func checkDst(dst any) error {
	if dst == nil {
		return ErrInvalidDestination
	}
	if v := reflect.ValueOf(dst); v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("%w, got %T", ErrInvalidDestination, dst)
	}
	return nil
}

// contextTimeoutsEnabled reports whether the client applies context
// deadlines to socket I/O. Unknown client types are assumed to.
func contextTimeoutsEnabled(rdb redis.UniversalClient) bool {
	switch c := rdb.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Stats returns a copy of the cache's counters.
func (c *Cache) Stats() Stats {
	total, per := c.ns.snapshot()
	s := Stats{Counts: total, Namespaces: per, ErrorsByOp: make(map[string]int64)}
	// Errors without a key (bulk calls, invalidation) are not in any
	// namespace; the total comes from the per-operation counters.
	s.Errors = 0
	for i := range c.opErrs {
		n := c.opErrs[i].Load()
		s.ErrorsByOp[op(i).String()] = n
		s.Errors += n
	}
	s.Breaker = c.breaker.stats()
	s.LoadDurations = c.loadDur.snapshot()
	s.Near = NearStats{State: nearOff}
	if c.near != nil {
		s.Near = c.near.stats()
	}
	return s
}

// logger returns the configured logger.
func (c *Cache) logger() *slog.Logger { return c.opts.Logger }
