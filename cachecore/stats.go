package cachecore

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Counts are the counters cachecore keeps, in total and per namespace.
type Counts struct {
	// Hits counts lookups answered from the cache (including cached
	// "not found" entries).
	Hits int64 `json:"hits"`
	// Misses counts lookups that did not return a cached value: absent,
	// expired, undecodable, or (in SafeGet and GetOrSet) failed.
	Misses int64 `json:"misses"`
	// Errors counts failed operations (Redis errors, timeouts, an open
	// breaker, decode errors, loader errors).
	Errors int64 `json:"errors"`
	// Sets counts values written.
	Sets int64 `json:"sets"`
	// Loads counts loader calls made by GetOrSet (including background
	// refreshes).
	Loads int64 `json:"loads"`
	// Invalidations counts keys removed by Delete and InvalidatePattern.
	Invalidations int64 `json:"invalidations"`
	// LoadTime is the total time spent in loaders.
	LoadTime time.Duration `json:"load_time_ns"`
}

// Stats is a point-in-time copy of a Cache's counters.
type Stats struct {
	// Counts are the totals over every namespace.
	Counts
	// Namespaces holds the counts per namespace: the part of the key before
	// the first ':' ("default" for keys without one). Past
	// Options.MaxNamespaces distinct names the rest count as "other".
	Namespaces map[string]Counts `json:"namespaces"`
	// ErrorsByOp counts errors per operation ("get", "set", "delete",
	// "mget", "mset", "load", "decode", "invalidate", "lease", "version",
	// "publish", "subscribe", "handler"). Pub/sub messages that do not
	// decode count under "decode"; "handler" counts pub/sub handler panics.
	ErrorsByOp map[string]int64 `json:"errors_by_op"`
	// Breaker is the circuit breaker's state and how often it opened.
	Breaker BreakerStats `json:"breaker"`
	// LoadDurations is a histogram of loader durations.
	LoadDurations Histogram `json:"load_durations"`
	// Near describes the near cache (State "off" unless Options.Near).
	Near NearStats `json:"near"`
}

// HitRate returns Hits/(Hits+Misses), or false when there were no lookups.
func (c Counts) HitRate() (float64, bool) {
	n := c.Hits + c.Misses
	if n == 0 {
		return 0, false
	}
	return float64(c.Hits) / float64(n), true
}

const (
	defaultNamespace  = "default"
	overflowNamespace = "other"
)

// namespaceOf returns the part of key before the first ':'.
func namespaceOf(key string) string {
	if i := strings.IndexByte(key, ':'); i > 0 {
		return key[:i]
	}
	return defaultNamespace
}

// nsCounters are the live counters of one namespace. Every field is
// updated with a single atomic add, so counts are exact without locks.
type nsCounters struct {
	hits, misses, errors, sets, loads, invalidations, loadNanos atomic.Int64
}

func (n *nsCounters) snapshot() Counts {
	return Counts{
		Hits: n.hits.Load(), Misses: n.misses.Load(), Errors: n.errors.Load(),
		Sets: n.sets.Load(), Loads: n.loads.Load(), Invalidations: n.invalidations.Load(),
		LoadTime: time.Duration(n.loadNanos.Load()),
	}
}

func (c *Counts) add(o Counts) {
	c.Hits += o.Hits
	c.Misses += o.Misses
	c.Errors += o.Errors
	c.Sets += o.Sets
	c.Loads += o.Loads
	c.Invalidations += o.Invalidations
	c.LoadTime += o.LoadTime
}

// namespaces maps a namespace to its counters. Reads (every operation) go
// through an immutable map behind an atomic pointer, so the hot path takes
// no lock and allocates nothing; adding a namespace (rare) copies the map.
type namespaces struct {
	max   int
	table atomic.Pointer[map[string]*nsCounters]
	mu    sync.Mutex
}

func newNamespaces(max int) *namespaces {
	n := &namespaces{max: max}
	m := map[string]*nsCounters{overflowNamespace: {}}
	n.table.Store(&m)
	return n
}

// of returns the counters for key's namespace.
func (n *namespaces) of(key string) *nsCounters {
	name := namespaceOf(key)
	if c, ok := (*n.table.Load())[name]; ok {
		return c
	}
	return n.add(name)
}

func (n *namespaces) add(name string) *nsCounters {
	n.mu.Lock()
	defer n.mu.Unlock()
	old := *n.table.Load()
	if c, ok := old[name]; ok {
		return c
	}
	if len(old)-1 >= n.max { // the overflow bucket is not a namespace
		return old[overflowNamespace]
	}
	m := make(map[string]*nsCounters, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	c := &nsCounters{}
	m[strings.Clone(name)] = c // name may be a slice of a large caller key
	n.table.Store(&m)
	return c
}

func (n *namespaces) snapshot() (total Counts, per map[string]Counts) {
	per = make(map[string]Counts)
	for name, c := range *n.table.Load() {
		s := c.snapshot()
		if name == overflowNamespace && s == (Counts{}) {
			continue
		}
		per[name] = s
		total.add(s)
	}
	return total, per
}

// op names an operation for error counts.
type op int

const (
	opGet op = iota
	opSet
	opDelete
	opMGet
	opMSet
	opLoad
	opDecode
	opInvalidate
	opLease
	opVersion
	opPublish
	opSubscribe
	opHandler
	numOps
)

var opNames = [numOps]string{"get", "set", "delete", "mget", "mset", "load", "decode", "invalidate", "lease", "version",
	"publish", "subscribe", "handler"}

func (o op) String() string { return opNames[o] }

// Histogram is a cumulative histogram of durations, in the shape
// Prometheus expects.
type Histogram struct {
	// Bounds are the upper bounds of the buckets, ascending.
	Bounds []time.Duration `json:"bounds_ns"`
	// Counts[i] is the number of observations <= Bounds[i] (cumulative).
	Counts []uint64 `json:"counts"`
	// Count and Sum cover every observation, including those above the
	// last bound.
	Count uint64        `json:"count"`
	Sum   time.Duration `json:"sum_ns"`
}

var loadBuckets = []time.Duration{
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// histogram records durations with atomic adds: one per bucket, sum, count.
type histogram struct {
	buckets [14]atomic.Uint64 // len(loadBuckets)+1, the last one for +Inf
	sum     atomic.Int64
}

func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(loadBuckets) && d > loadBuckets[i] {
		i++
	}
	h.buckets[i].Add(1)
	h.sum.Add(int64(d))
}

func (h *histogram) snapshot() Histogram {
	out := Histogram{Bounds: loadBuckets, Counts: make([]uint64, len(loadBuckets))}
	var cum uint64
	for i := range loadBuckets {
		cum += h.buckets[i].Load()
		out.Counts[i] = cum
	}
	// Count derives from the buckets, so it can never disagree with them.
	out.Count = cum + h.buckets[len(loadBuckets)].Load()
	out.Sum = time.Duration(h.sum.Load())
	return out
}
