package cachecore

import (
	"context"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Telemetry: with Options.Telemetry set, a Cache writes its counters into
// Redis every interval, so the cachescope dashboard shows what the
// application sees (per-namespace hit rates, load times, breaker state,
// rate-limit decisions) and not only the server's own counters.
//
// The layout (format version 1) is two kinds of keys, all in one hash slot
// (the {cachescope-telemetry} tag) so a cluster keeps them on one node:
//
//	{cachescope-telemetry}:instances      sorted set: instance id -> last report (Unix ms)
//	{cachescope-telemetry}:instance:<id>  hash: the instance's counters
//
// The hash has a TTL of three intervals, so an instance that dies
// disappears by itself; Close deletes it at once. Its fields are:
//
//	v                  format version ("1")
//	id host pid        who reports
//	cache              Options.Namespace of the Cache
//	started reported   Unix ms
//	interval_ms        the reporting interval
//	breaker            "closed", "half-open" or "open"
//	breaker_opens      times the breaker opened
//	ns:<name>:<count>  per namespace; <count> is hits, misses, errors, sets,
//	                   loads, invalidations or load_us (total load time, µs)
//	lim:<name>:<count> per limiter name (see ReportLimiter); <count> is
//	                   allowed, denied or errors
//	err:<op>           errors per operation
//
// Counters are cumulative since the instance started; readers take rates
// from the difference between two reads. A reader finds every live
// instance with two round trips (ZREVRANGE, then HGETALL of each in one
// pipeline), whatever the size of the keyspace: see ReadTelemetry.
const (
	telemetryVersion   = "1"
	telemetryTag       = "{cachescope-telemetry}"
	telemetryInstances = telemetryTag + ":instances"
	telemetryPrefix    = telemetryTag + ":instance:"
	// telemetryKeep is how long a silent instance stays in the sorted set
	// before a writer trims it; readers skip it long before (its hash has
	// expired).
	telemetryKeep = time.Hour
)

// telemetryKey returns the hash key of an instance.
func telemetryKey(id string) string { return telemetryPrefix + id }

// telemetry is the background writer of one Cache.
type telemetry struct {
	c        *Cache
	id       string
	host     string
	interval time.Duration
	started  time.Time

	mu       sync.Mutex
	limiters []*Limiter

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func defaultInstanceID() (host, id string) {
	host, _ = os.Hostname()
	if host == "" {
		host = "unknown"
	}
	return host, host + "-" + strconv.Itoa(os.Getpid())
}

func startTelemetry(c *Cache) *telemetry {
	host, id := defaultInstanceID()
	if c.opts.InstanceID != "" {
		id = c.opts.InstanceID
	}
	t := &telemetry{c: c, id: id, host: host, interval: c.opts.Telemetry, started: c.opts.now(),
		stop: make(chan struct{}), done: make(chan struct{})}
	go t.run()
	return t
}

// run writes a report every interval, starting at once, on its own
// goroutine: the caller's operations never wait for it.
func (t *telemetry) run() {
	defer close(t.done)
	ticker := time.NewTicker(t.interval)
	defer ticker.Stop()
	for {
		t.write()
		select {
		case <-t.stop:
			t.remove()
			return
		case <-ticker.C:
		}
	}
}

// write sends one report: one transaction of HSET, PEXPIRE, ZADD and a
// trim of long-silent instances.
func (t *telemetry) write() {
	ctx, cancel := context.WithTimeout(context.Background(), max(t.c.opts.OpTimeout, time.Second))
	defer cancel()
	now := t.c.opts.now()
	fields := t.fields(now)
	key := telemetryKey(t.id)
	_, err := t.c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, fields)
		p.PExpire(ctx, key, 3*t.interval)
		p.ZAdd(ctx, telemetryInstances, redis.Z{Score: float64(now.UnixMilli()), Member: t.id})
		p.ZRemRangeByScore(ctx, telemetryInstances, "-inf", strconv.FormatInt(now.Add(-telemetryKeep).UnixMilli(), 10))
		p.PExpire(ctx, telemetryInstances, telemetryKeep)
		return nil
	})
	if err != nil {
		t.c.errlog.log("telemetry", key, err)
	}
}

// fields flattens the cache's and limiters' counters into hash fields.
func (t *telemetry) fields(now time.Time) map[string]any {
	s := t.c.Stats()
	f := map[string]any{
		"v": telemetryVersion, "id": t.id, "host": t.host, "pid": os.Getpid(), "cache": t.c.opts.Namespace,
		"started": t.started.UnixMilli(), "reported": now.UnixMilli(), "interval_ms": t.interval.Milliseconds(),
		"breaker": s.Breaker.State.String(), "breaker_opens": s.Breaker.Opens,
	}
	for name, n := range s.Namespaces {
		p := "ns:" + name + ":"
		f[p+"hits"], f[p+"misses"], f[p+"errors"] = n.Hits, n.Misses, n.Errors
		f[p+"sets"], f[p+"loads"], f[p+"invalidations"] = n.Sets, n.Loads, n.Invalidations
		f[p+"load_us"] = n.LoadTime.Microseconds()
	}
	for op, n := range s.ErrorsByOp {
		f["err:"+op] = n
	}
	t.mu.Lock()
	limiters := append([]*Limiter(nil), t.limiters...)
	t.mu.Unlock()
	sums := map[string]LimiterCounts{}
	for _, l := range limiters {
		for name, n := range l.Stats().ByName {
			a := sums[name]
			a.Allowed, a.Denied, a.Errors = a.Allowed+n.Allowed, a.Denied+n.Denied, a.Errors+n.Errors
			sums[name] = a
		}
	}
	for name, n := range sums {
		p := "lim:" + name + ":"
		f[p+"allowed"], f[p+"denied"], f[p+"errors"] = n.Allowed, n.Denied, n.Errors
	}
	return f
}

// remove deletes the instance's report, so readers drop it at once.
func (t *telemetry) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), max(t.c.opts.OpTimeout, time.Second))
	defer cancel()
	_, _ = t.c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, telemetryKey(t.id))
		p.ZRem(ctx, telemetryInstances, t.id)
		return nil
	})
}

func (t *telemetry) close() {
	t.once.Do(func() {
		close(t.stop)
		<-t.done
	})
}

// ReportLimiter adds l's decisions to this cache's telemetry (per limiter
// name, summed over every limiter reported). It does nothing when
// telemetry is off.
func (c *Cache) ReportLimiter(l *Limiter) {
	if c.telemetry == nil || l == nil {
		return
	}
	c.telemetry.mu.Lock()
	defer c.telemetry.mu.Unlock()
	c.telemetry.limiters = append(c.telemetry.limiters, l)
}

// Close stops the cache's background work: the near cache's tracking
// connection closes (and it holds nothing more), telemetry stops and the
// instance's report is deleted. The Redis client is the caller's and stays
// open. Close is safe to call more than once.
func (c *Cache) Close() error {
	if c.near != nil {
		c.near.close()
	}
	if c.telemetry != nil {
		c.telemetry.close()
	}
	return nil
}

// InstanceID returns the id this cache reports telemetry under ("" when
// telemetry is off).
func (c *Cache) InstanceID() string {
	if c.telemetry == nil {
		return ""
	}
	return c.telemetry.id
}
