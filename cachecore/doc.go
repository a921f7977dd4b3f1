// Package cachecore uses Redis as a cache the right way: cache-aside with
// stampede protection, bulk reads and writes, invalidation by pattern and
// by version, a circuit breaker, and counters for metrics and health.
//
// Create one Cache per Redis deployment and share it:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
//	cache, err := cachecore.New(cachecore.Options{Redis: rdb, Namespace: "shop"})
//
//	p, err := cachecore.GetOrSet(ctx, cache, "product:42", 10*time.Minute,
//		func(ctx context.Context) (Product, error) { return db.Product(ctx, 42) })
//
// # Keys, TTLs and values
//
// Every key is prefixed with the Namespace ("shop:product:42"), patterns
// too. A TTL of 0 means Options.DefaultTTL (1h); a negative TTL is an
// error (ErrInvalidTTL); a TTL below one millisecond becomes one
// millisecond, the smallest Redis expiry. Every TTL is shortened by a
// random fraction below Options.TTLJitter (10%), so thousands of keys
// written together do not expire in the same instant.
//
// Values are encoded with the Codec (JSON by default) behind a 3-byte
// header (see DecodeEnvelope): a value without it, written by another
// program or by a future format, reads as a miss and counts as a decode
// error, never as a crash.
//
// # Counters
//
// Stats counts hits, misses, errors, sets, loads and invalidations in
// total and per namespace, the part of the key before its first ':'
// ("product" for "product:42"). NewCollector exposes them to Prometheus.
//
// # Concurrency and the near cache
//
// Concurrent reads share round trips: while Options.MaxReadsInFlight reads
// are out, further reads wait and go together as one MGET; each keeps its
// own OpTimeout. Options.Near adds an in-process copy of hot values, kept
// coherent by Redis' client-side caching (CLIENT TRACKING over RESP3): see
// NearOptions for what it guarantees and costs.
//
// # Rate limiting, pub/sub and HTTP
//
// NewLimiter builds a Redis rate limiter (GCRA, fixed or sliding window),
// each decision one atomic Lua script on the server's clock. Publish,
// Subscribe and PSubscribe carry typed messages with the cache's codec on
// namespaced channels, and resubscribe after Redis restarts. RateLimit and
// ResponseCache are net/http middleware built on them.
package cachecore
