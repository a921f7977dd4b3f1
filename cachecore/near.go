package cachecore

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// NearOptions turn on the near cache: an in-process copy of recently read
// values, kept coherent by Redis server-assisted client-side caching. A
// dedicated RESP3 connection asks Redis to report every write to the
// cache's keys (CLIENT TRACKING ON BCAST PREFIX "Namespace:"), and each
// report drops the local copy. Reads of a held key cost no round trip.
//
// What it guarantees: a value read from Redis is kept only if no write to
// its key was reported while it was being read; a write made through this
// Cache is visible to this process's next read at once; a write from
// anywhere else drops the copy as soon as Redis' report arrives (a median
// of 0.3 ms on loopback in bench/run.sh, a few ms at worst on a loaded
// machine). If the tracking connection is lost (Redis restarted, a
// failover, the network), everything held is dropped and reads go to Redis
// until tracking is back. A connection that goes silent without closing (a
// network partition) is noticed by its PING within 6 s, and copies may be
// served until then. No copy outlives its key's
// TTL in Redis, nor MaxAge.
//
// What it costs: every write under the namespace, by anyone, sends one
// small message to each process with a near cache, so it suits hot keys
// read far more often than the namespace is written (GetOrSet's leases
// live under the namespace too: a miss loaded with Options.Lease costs two
// more messages, taking and releasing it). It needs Redis 6 or
// later speaking RESP3 and a *redis.Client (single server or Sentinel);
// elsewhere (Cluster, Redis 5, a proxy without RESP3) it stays off and
// Stats().Near.Reason says why.
type NearOptions struct {
	// MaxEntries bounds the values held. 0 means 10,000; less than 16
	// means 16 (the store has 16 shards, each with its share).
	MaxEntries int
	// MaxBytes bounds the memory held. An entry counts its key, its value
	// twice (the bytes and a decoded copy) and 96 bytes of overhead, and
	// one larger than MaxBytes/16 is never held: a value of more than
	// about MaxBytes/32. 0 means 64 MiB.
	MaxBytes int64
	// MaxAge bounds how long a value is served from memory, however hot,
	// as a backstop. 0 means 1 minute.
	MaxAge time.Duration
}

// NearStats describe the near cache.
type NearStats struct {
	// State is "off" (not configured), "starting", "on", "down" (tracking
	// lost; reconnecting, nothing served from memory) or "unsupported".
	State string `json:"state"`
	// Reason says why the state is not "on" or "off".
	Reason string `json:"reason,omitempty"`
	// Hits and Misses count reads answered from memory and reads that went
	// to Redis while the near cache was on. They are also counted as the
	// cache's Hits and Misses.
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
	// Entries and Bytes are what it holds now.
	Entries int   `json:"entries"`
	Bytes   int64 `json:"bytes"`
	// Invalidations counts keys dropped because they were written; Evictions
	// those dropped to stay within MaxEntries/MaxBytes; Flushes how often
	// everything was dropped (tracking lost, or FLUSHALL/FLUSHDB).
	Invalidations int64 `json:"invalidations"`
	Evictions     int64 `json:"evictions"`
	Flushes       int64 `json:"flushes"`
}

const (
	defaultNearEntries = 10_000
	defaultNearBytes   = 64 << 20
	defaultNearMaxAge  = time.Minute
)

const (
	nearOff         = "off"
	nearStarting    = "starting"
	nearOn          = "on"
	nearDown        = "down"
	nearUnsupported = "unsupported"
)

// nearCache holds the store and the state of the tracking connection.
type nearCache struct {
	opts   NearOptions
	prefix string
	store  *nearStore
	now    func() time.Time

	// up is true only while tracking is on: reads use the store only then.
	up atomic.Bool

	mu     sync.Mutex
	state  string
	reason string

	hits, misses, invalidations, flushes atomic.Int64
	tracker                              *tracker
}

func (o NearOptions) withDefaults() NearOptions {
	if o.MaxEntries == 0 {
		o.MaxEntries = defaultNearEntries
	}
	o.MaxEntries = max(o.MaxEntries, nearShards)
	if o.MaxBytes == 0 {
		o.MaxBytes = defaultNearBytes
	}
	if o.MaxAge == 0 {
		o.MaxAge = defaultNearMaxAge
	}
	return o
}

// startNear starts the near cache of c: it stays off, saying why, where it
// cannot track.
func startNear(c *Cache) *nearCache {
	o := c.opts.Near.withDefaults()
	n := &nearCache{opts: o, prefix: c.prefix, store: newNearStore(o.MaxEntries, o.MaxBytes), now: c.opts.now, state: nearStarting}
	client, ok := c.rdb.(*redis.Client)
	if !ok {
		n.setState(nearUnsupported, "the near cache needs a *redis.Client (single server or Sentinel); Redis Cluster and other clients are not supported")
		return n
	}
	if client.Options().StreamingCredentialsProvider != nil {
		n.setState(nearUnsupported, "streaming credentials are not supported by the near cache's tracking connection")
		return n
	}
	n.tracker = startTracker(client.Options(), n, c.logger())
	return n
}

func (n *nearCache) setState(state, reason string) {
	n.mu.Lock()
	n.state, n.reason = state, reason
	n.mu.Unlock()
}

// get returns the held value of key (without the namespace prefix). ok is
// false when the key is not held or the near cache is not on.
func (n *nearCache) get(key string) ([]byte, bool) {
	if e := n.entry(key); e != nil {
		return e.raw, true
	}
	return nil, false
}

// entry returns the held entry of key, counting a hit; nil when the key is
// not held or the near cache is not on.
func (n *nearCache) entry(key string) *nearEntry {
	if !n.up.Load() {
		return nil
	}
	e := n.store.entry(key, n.now().UnixNano())
	if e != nil {
		n.hits.Add(1)
	}
	return e
}

// begin starts a fill of key, or returns 0 when the near cache is not on.
func (n *nearCache) begin(key string) (token, epoch uint64) {
	if !n.up.Load() {
		return 0, 0
	}
	n.misses.Add(1)
	return n.store.begin(key)
}

// commit stores a value read from Redis with its PTTL as go-redis reports
// it (-1: no expiry, -2: no key). The copy expires pttl after sent, the
// time the read was sent: the server measured the PTTL later than that
// (the read may have waited in a batch), so the copy never outlives the
// key.
func (n *nearCache) commit(key string, token, epoch uint64, raw []byte, pttl time.Duration, sent time.Time) {
	if token == 0 {
		return
	}
	if raw == nil || pttl == -2 { // absent, or gone since the read
		n.store.cancel(key, token)
		return
	}
	n.store.commit(key, token, epoch, raw, expiresAt(sent, pttl, n.opts.MaxAge))
}

// written drops key after this process wrote it, so its next read sees the
// write without waiting for Redis' report.
func (n *nearCache) written(key string) {
	if n.store.invalidate(key) {
		n.invalidations.Add(1)
	}
}

// invalidated handles Redis' report that full keys were written.
func (n *nearCache) invalidated(keys []string) {
	for _, k := range keys {
		if !strings.HasPrefix(k, n.prefix) {
			continue
		}
		if n.store.invalidate(k[len(n.prefix):]) {
			n.invalidations.Add(1)
		}
	}
}

// flush drops everything (tracking lost, or the database was flushed).
func (n *nearCache) flush() {
	n.store.flush()
	n.flushes.Add(1)
}

// trackingUp is called once tracking is on, trackingDown when it is lost.
func (n *nearCache) trackingUp() {
	n.store.flush() // anything left from before is of unknown freshness
	n.setState(nearOn, "")
	n.up.Store(true)
}

func (n *nearCache) trackingDown(state, reason string) {
	wasUp := n.up.Swap(false)
	n.setState(state, reason)
	if wasUp {
		n.flush()
	}
}

func (n *nearCache) stats() NearStats {
	n.mu.Lock()
	s := NearStats{State: n.state, Reason: n.reason}
	n.mu.Unlock()
	s.Hits, s.Misses = n.hits.Load(), n.misses.Load()
	s.Entries, s.Bytes = n.store.usage()
	s.Invalidations, s.Flushes = n.invalidations.Load(), n.flushes.Load()
	s.Evictions = n.store.evictions.Load()
	return s
}

func (n *nearCache) close() {
	if n.tracker != nil {
		n.tracker.close()
	}
	n.trackingDown(nearOff, "closed")
}
