package cachecore

import (
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options configure a Cache. The zero value of every field but Redis means
// its documented default.
type Options struct {
	// Redis is the client: a *redis.Client, a failover (Sentinel) client or
	// a *redis.ClusterClient. Required. Create it with
	// ContextTimeoutEnabled: true so that OpTimeout bounds socket I/O;
	// without it go-redis waits for its own ReadTimeout/WriteTimeout.
	Redis redis.UniversalClient

	// Namespace prefixes every key as "Namespace:key", patterns included.
	// "" means no prefix.
	Namespace string

	// DefaultTTL is used when a call passes a TTL of 0. 0 means 1h.
	DefaultTTL time.Duration

	// TTLJitter shortens every TTL by a random fraction of itself in
	// [0, TTLJitter), so keys written together do not expire together.
	// 0 means 0.1; a negative value disables jitter; values above 0.5 are
	// treated as 0.5.
	TTLJitter float64

	// NegativeTTL is how long GetOrSet remembers that a loader returned
	// ErrNotFound. 0 means 30s; it is never longer than the TTL the call
	// asked for.
	NegativeTTL time.Duration

	// Codec encodes values. nil means JSONCodec.
	Codec Codec

	// OpTimeout bounds each Redis round trip (one command, or one chunk of a
	// bulk operation) unless the caller's context has an earlier deadline.
	// 0 means 250ms.
	OpTimeout time.Duration

	// LoadTimeout bounds a GetOrSet load, which runs on a context detached
	// from the caller's cancellation. 0 means 10s.
	LoadTimeout time.Duration

	// Lease turns on cross-process stampede protection in GetOrSet: on a
	// miss a process takes a short lease in Redis (SET NX PX) before
	// loading; the others wait for the value instead of loading too.
	Lease bool
	// LeaseTTL is how long a lease lives if its holder never releases it
	// (a crash). 0 means LoadTimeout.
	LeaseTTL time.Duration
	// LeaseWait is how long a process waits for the lease holder's value
	// before loading by itself. 0 means LeaseTTL.
	LeaseWait time.Duration

	// EarlyRefresh turns on probabilistic early expiration (XFetch): as a
	// GetOrSet entry nears its expiry, a read may refresh it in the
	// background while still returning the current value.
	EarlyRefresh bool
	// EarlyRefreshBeta scales how early refreshes happen; above 1 favours
	// earlier refreshes. 0 means 1.
	EarlyRefreshBeta float64

	// BreakerThreshold is the number of consecutive Redis failures that
	// opens the circuit breaker. 0 means 5; a negative value disables it.
	BreakerThreshold int
	// BreakerCooldown is how long the breaker stays open before letting one
	// probe through. 0 means 5s.
	BreakerCooldown time.Duration

	// BulkChunk is how many keys MGet and MSet send per round trip. 0 means
	// 1000.
	BulkChunk int
	// BulkConcurrency is how many chunks of one MGet or MSet are in flight
	// at once, so that encoding and decoding overlap with the server's
	// work. 0 means 4; 1 sends the chunks one after the other.
	BulkConcurrency int

	// MaxReadsInFlight bounds the single-key reads (Get, SafeGet,
	// GetOrSet) that go to Redis on their own at once; a read that arrives
	// while that many are out waits, and when one comes back all the reads
	// waiting go together as one MGET (a pipeline of GETs on a Cluster or
	// a Ring). Each read stays bounded by OpTimeout on its caller's side
	// and counted as before; a caller alone never waits for a batch. A
	// batched read does not carry its caller's context values (a tracing
	// hook sees one MGET, outside the callers' spans), and MGET reads a key
	// of another type as absent where GET would say WRONGTYPE. 0 means 1;
	// a negative value sends every read on its own.
	MaxReadsInFlight int

	// Near turns on the near cache, an in-process copy of hot values kept
	// coherent by Redis' client-side caching (see NearOptions). nil means
	// off.
	Near *NearOptions

	// MaxNamespaces caps the distinct namespaces counted in Stats; the rest
	// count as "other". 0 means 64.
	MaxNamespaces int

	// Logger receives errors that SafeGet and GetOrSet swallow, at most one
	// line per LogInterval (with a count of the lines suppressed). nil means
	// slog.Default().
	Logger *slog.Logger
	// LogInterval is the minimum time between two logged errors. 0 means
	// 10s.
	LogInterval time.Duration

	// Telemetry makes the cache write its counters into Redis every
	// interval, for the cachescope dashboard (see ReadTelemetry for the
	// layout). 0 disables it; values below 100ms are raised to 100ms. Call
	// Close to stop it.
	Telemetry time.Duration
	// InstanceID names this process in telemetry. "" means hostname-pid.
	InstanceID string

	// now replaces time.Now in tests.
	now func() time.Time
}

const (
	defaultTTL             = time.Hour
	defaultJitter          = 0.1
	maxJitter              = 0.5
	defaultNegativeTTL     = 30 * time.Second
	defaultOpTimeout       = 250 * time.Millisecond
	defaultLoadTimeout     = 10 * time.Second
	defaultThreshold       = 5
	defaultCooldown        = 5 * time.Second
	defaultBulkChunk       = 1000
	defaultBulkConcurrency = 4
	defaultMaxNS           = 64
	defaultReadsInFlight   = 1
	defaultLogInterval     = 10 * time.Second
)

// errNoClient is returned by New without a Redis client.
var errNoClient = errors.New("cachecore: Options.Redis is required")

// withDefaults validates o and fills in every zero value.
func (o Options) withDefaults() (Options, error) {
	if o.Redis == nil {
		return o, errNoClient
	}
	if o.DefaultTTL < 0 || o.NegativeTTL < 0 || o.OpTimeout < 0 || o.LoadTimeout < 0 ||
		o.LeaseTTL < 0 || o.LeaseWait < 0 || o.BreakerCooldown < 0 || o.LogInterval < 0 || o.Telemetry < 0 {
		return o, errors.New("cachecore: durations in Options must not be negative")
	}
	if o.Near != nil && (o.Near.MaxEntries < 0 || o.Near.MaxBytes < 0 || o.Near.MaxAge < 0) {
		return o, errors.New("cachecore: NearOptions must not be negative")
	}
	if o.BulkChunk < 0 || o.BulkConcurrency < 0 || o.MaxNamespaces < 0 || o.EarlyRefreshBeta < 0 {
		return o, errors.New("cachecore: BulkChunk, BulkConcurrency, MaxNamespaces and EarlyRefreshBeta must not be negative")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.DefaultTTL, defaultTTL)
	def(&o.NegativeTTL, defaultNegativeTTL)
	def(&o.OpTimeout, defaultOpTimeout)
	def(&o.LoadTimeout, defaultLoadTimeout)
	def(&o.LeaseTTL, o.LoadTimeout)
	def(&o.LeaseWait, o.LeaseTTL)
	def(&o.BreakerCooldown, defaultCooldown)
	def(&o.LogInterval, defaultLogInterval)
	switch {
	case o.TTLJitter == 0:
		o.TTLJitter = defaultJitter
	case o.TTLJitter < 0:
		o.TTLJitter = 0
	case o.TTLJitter > maxJitter:
		o.TTLJitter = maxJitter
	}
	if o.Telemetry > 0 && o.Telemetry < 100*time.Millisecond {
		o.Telemetry = 100 * time.Millisecond
	}
	if o.EarlyRefreshBeta == 0 {
		o.EarlyRefreshBeta = 1
	}
	if o.BreakerThreshold == 0 {
		o.BreakerThreshold = defaultThreshold
	}
	if o.BulkChunk == 0 {
		o.BulkChunk = defaultBulkChunk
	}
	if o.BulkConcurrency == 0 {
		o.BulkConcurrency = defaultBulkConcurrency
	}
	if o.MaxReadsInFlight == 0 {
		o.MaxReadsInFlight = defaultReadsInFlight
	}
	if o.MaxNamespaces == 0 {
		o.MaxNamespaces = defaultMaxNS
	}
	if o.Codec == nil {
		o.Codec = JSONCodec{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o, nil
}
