package cachecore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// eventually polls cond every few milliseconds until it holds or limit
// passes, and reports whether it held.
func eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// newNearCache returns a cache with a near cache on a fresh server, once
// the near cache is on.
func newNearCache(t *testing.T, near NearOptions) (*Cache, *redistest.Server, *redis.Client) {
	t.Helper()
	c, s, rdb := newRealCache(t, Options{Namespace: "app", Near: &near})
	t.Cleanup(func() { _ = c.Close() })
	waitNearOn(t, c)
	return c, s, rdb
}

// settle waits until the invalidations of the writes made so far (this
// process's own included) have reached the near cache, so that the next
// read's fill is not cancelled by a late report of an earlier write.
func settle(t *testing.T, c *Cache) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !c.near.tracker.sync(ctx) {
		t.Fatal("near cache: sync failed")
	}
}

func waitNearOn(t *testing.T, c *Cache) {
	t.Helper()
	if !eventually(10*time.Second, func() bool { return c.Stats().Near.State == nearOn }) {
		t.Fatalf("near cache not on: %+v", c.Stats().Near)
	}
}

func TestNearCacheServesHotKeysWithoutRedisAndCountsThem(t *testing.T) {
	t.Parallel()
	c, _, rdb := newNearCache(t, NearOptions{})
	ctx := context.Background()
	if err := c.Set(ctx, "product:1", product{ID: 1}, time.Hour); err != nil {
		t.Fatal(err)
	}
	settle(t, c)
	cc := countCommands(rdb)
	var p product
	for i := 0; i < 5; i++ {
		if err := c.Get(ctx, "product:1", &p); err != nil || p.ID != 1 {
			t.Fatalf("read %d: %+v %v", i, p, err)
		}
	}
	if _, err := GetOrSet(ctx, c, "product:1", time.Hour, func(context.Context) (product, error) {
		return product{}, errors.New("loader called on a held key")
	}); err != nil {
		t.Fatal(err)
	}
	// The first read went to Redis (GET and PTTL in one pipeline); the
	// other five were served from memory.
	if n := cc.names["get"] + cc.names["pttl"]; n != 2 {
		t.Errorf("%d reads sent for 6 reads of one key, want 2 (GET+PTTL): %v", n, cc.names)
	}
	s := c.Stats()
	if s.Near.Hits != 5 || s.Near.Misses != 1 || s.Near.Entries != 1 || s.Near.Bytes <= 0 {
		t.Errorf("near stats %+v, want 5 hits, 1 miss, 1 entry", s.Near)
	}
	if s.Hits != 6 {
		t.Errorf("cache hits %d, want 6 (near hits are cache hits)", s.Hits)
	}
	if h := c.Health(ctx); h.Near != nearOn {
		t.Errorf("health near %q", h.Near)
	}
}

// A write by another client reaches this process as Redis' invalidation
// push; the held copy must be gone before a read that follows a short
// wait. The delay is logged (it is a correctness test; the bound is
// generous for a loaded machine).
func TestNearCacheDropsACopyWrittenByAnotherClient(t *testing.T) {
	t.Parallel()
	c, s, _ := newNearCache(t, NearOptions{})
	ctx := context.Background()
	other, err := New(Options{Redis: s.Client(t), Namespace: "app", Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 5; round++ {
		key := fmt.Sprintf("product:%d", round)
		if err := c.Set(ctx, key, product{ID: 1}, time.Hour); err != nil {
			t.Fatal(err)
		}
		settle(t, c)
		var p product
		for i := 0; i < 2; i++ { // fill, then a hit
			if err := c.Get(ctx, key, &p); err != nil || p.ID != 1 {
				t.Fatal(p, err)
			}
		}
		if _, ok := c.near.store.get(key, time.Now().UnixNano()); !ok {
			t.Fatal("not held after two reads")
		}
		written := time.Now()
		if err := other.Set(ctx, key, product{ID: 2}, time.Hour); err != nil {
			t.Fatal(err)
		}
		if !eventually(time.Second, func() bool { _, ok := c.near.store.get(key, time.Now().UnixNano()); return !ok }) {
			t.Fatalf("round %d: copy still held 1s after another client wrote the key", round)
		}
		t.Logf("round %d: invalidated %v after the write returned", round, time.Since(written))
		if err := c.Get(ctx, key, &p); err != nil || p.ID != 2 {
			t.Fatalf("read after invalidation: %+v %v", p, err)
		}
	}
	// A delete by someone else drops the copy too.
	if _, err := other.Delete(ctx, "product:0"); err != nil {
		t.Fatal(err)
	}
	if !eventually(time.Second, func() bool { return errors.Is(c.Get(ctx, "product:0", &product{}), ErrMiss) }) {
		t.Fatal("a key deleted elsewhere still reads from memory")
	}
	if n := c.Stats().Near.Invalidations; n < 6 {
		t.Errorf("near invalidations %d, want at least 6", n)
	}
}

func TestNearCacheReadsItsOwnWritesAtOnce(t *testing.T) {
	t.Parallel()
	c, _, _ := newNearCache(t, NearOptions{})
	ctx := context.Background()
	var p product
	for i := 0; i < 50; i++ {
		if err := c.Set(ctx, "product:1", product{ID: i}, time.Hour); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 2; j++ {
			if err := c.Get(ctx, "product:1", &p); err != nil || p.ID != i {
				t.Fatalf("write %d, read %d: got %+v %v", i, j, p, err)
			}
		}
	}
	if err := c.MSet(ctx, map[string]any{"product:1": product{ID: -1}}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, "product:1", &p); err != nil || p.ID != -1 {
		t.Fatalf("after MSet: %+v %v", p, err)
	}
	if _, err := c.Delete(ctx, "product:1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, "product:1", &p); !errors.Is(err, ErrMiss) {
		t.Fatalf("after Delete: %v", err)
	}
	_ = c.Set(ctx, "product:2", product{ID: 2}, time.Hour)
	_ = c.Get(ctx, "product:2", &p)
	if _, err := c.InvalidatePattern(ctx, "product:*", InvalidateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, "product:2", &p); !errors.Is(err, ErrMiss) {
		t.Fatalf("after InvalidatePattern: %v", err)
	}
}

// Losing the tracking connection means losing the invalidations sent while
// it was down: everything held is dropped, and nothing is served from
// memory until tracking is back.
func TestNearCacheFlushesWhenTrackingIsLost(t *testing.T) {
	t.Parallel()
	c, s, rdb := newNearCache(t, NearOptions{})
	ctx := context.Background()
	hold := func() {
		t.Helper()
		for i := 0; i < 10; i++ {
			key := fmt.Sprintf("k:%d", i)
			if err := c.Set(ctx, key, i, time.Hour); err != nil {
				t.Fatal(err)
			}
			settle(t, c)
			var v int
			if err := c.Get(ctx, key, &v); err != nil {
				t.Fatal(err)
			}
		}
		if n := c.Stats().Near.Entries; n != 10 {
			t.Fatalf("holding %d entries, want 10", n)
		}
	}

	hold()
	id := c.near.tracker.clientID()
	if err := rdb.ClientKillByFilter(ctx, "ID", fmt.Sprint(id)).Err(); err != nil {
		t.Fatal(err)
	}
	if !eventually(10*time.Second, func() bool { return c.Stats().Near.Flushes >= 1 }) {
		t.Fatalf("no flush after the tracking connection was killed: %+v", c.Stats().Near)
	}
	if n := c.Stats().Near.Entries; n != 0 {
		t.Fatalf("%d entries held after the flush", n)
	}
	waitNearOn(t, c)
	if c.near.tracker.clientID() == id {
		t.Fatal("tracking did not reconnect on a new connection")
	}

	// A restart loses the data, the tracking state and the connection.
	hold()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if !eventually(10*time.Second, func() bool { return c.Stats().Near.Flushes >= 2 }) {
		t.Fatalf("no flush after a restart: %+v", c.Stats().Near)
	}
	var v int
	if err := c.Get(ctx, "k:1", &v); !errors.Is(err, ErrMiss) && err != nil && !strings.Contains(err.Error(), "connect") {
		t.Fatalf("read after restart: %v", err)
	} else if err == nil {
		t.Fatalf("read after restart served %d from memory; the server has no such key", v)
	}
	waitNearOn(t, c)
	// Tracking works on the new connection.
	if err := c.Set(ctx, "k:1", 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	settle(t, c)
	if err := c.Get(ctx, "k:1", &v); err != nil {
		t.Fatal(err)
	}
	if c.Stats().Near.Entries != 1 {
		t.Fatal("not held after reconnecting")
	}
	if err := rdb.Set(ctx, "app:k:1", "foreign", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	if !eventually(time.Second, func() bool { return errors.Is(c.Get(ctx, "k:1", &v), ErrMiss) }) {
		t.Fatal("no invalidation after reconnecting")
	}
}

func TestNearCacheFlushesOnFlushAll(t *testing.T) {
	t.Parallel()
	c, _, rdb := newNearCache(t, NearOptions{})
	ctx := context.Background()
	_ = c.Set(ctx, "k", 1, time.Hour)
	settle(t, c)
	var v int
	_ = c.Get(ctx, "k", &v)
	if c.Stats().Near.Entries != 1 {
		t.Fatal("not held")
	}
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if !eventually(time.Second, func() bool { return c.Stats().Near.Entries == 0 }) {
		t.Fatal("FLUSHALL did not empty the near cache")
	}
	if err := c.Get(ctx, "k", &v); !errors.Is(err, ErrMiss) {
		t.Fatalf("after FLUSHALL: %v", err)
	}
}

func TestNearCacheStaysWithinItsBounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("entries", func(t *testing.T) {
		c, _, _ := newNearCache(t, NearOptions{MaxEntries: 64})
		for i := 0; i < 1000; i++ {
			key := fmt.Sprintf("k:%d", i)
			_ = c.Set(ctx, key, i, time.Hour)
			settle(t, c)
			var v int
			if err := c.Get(ctx, key, &v); err != nil || v != i {
				t.Fatal(v, err)
			}
		}
		s := c.Stats().Near
		if s.Entries > 64 || s.Entries < 32 {
			t.Errorf("holding %d entries, bound 64", s.Entries)
		}
		if s.Evictions < 1000-64 {
			t.Errorf("%d evictions, want at least %d", s.Evictions, 1000-64)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		const budget = 64 << 10
		c, _, _ := newNearCache(t, NearOptions{MaxBytes: budget})
		big := strings.Repeat("x", 1000)
		for i := 0; i < 500; i++ {
			key := fmt.Sprintf("k:%d", i)
			_ = c.Set(ctx, key, big, time.Hour)
			settle(t, c)
			var v string
			if err := c.Get(ctx, key, &v); err != nil || v != big {
				t.Fatal(err)
			}
		}
		s := c.Stats().Near
		if s.Bytes > budget || s.Entries == 0 {
			t.Errorf("holding %d bytes in %d entries, budget %d", s.Bytes, s.Entries, budget)
		}
		// A value larger than a shard's share is read but never held.
		huge := strings.Repeat("y", budget/nearShards+1)
		_ = c.Set(ctx, "huge", huge, time.Hour)
		var v string
		for i := 0; i < 2; i++ {
			if err := c.Get(ctx, "huge", &v); err != nil || v != huge {
				t.Fatal(err)
			}
		}
		if _, ok := c.near.store.get("huge", time.Now().UnixNano()); ok {
			t.Error("a value above the per-shard budget is held")
		}
	})
}

// A copy never outlives its key: its deadline is the key's PTTL.
func TestNearCacheCopyExpiresWithItsKey(t *testing.T) {
	t.Parallel()
	c, _, _ := newNearCache(t, NearOptions{})
	ctx := context.Background()
	if err := c.Set(ctx, "short", 1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	settle(t, c)
	var v int
	_ = c.Get(ctx, "short", &v)
	sh := c.near.store.shard("short")
	sh.mu.RLock()
	e := sh.entries["short"]
	sh.mu.RUnlock()
	if e == nil {
		t.Fatal("not held")
	}
	left := time.Until(time.Unix(0, e.expires))
	if left > 10*time.Second || left < 5*time.Second {
		t.Errorf("copy expires in %v, key's TTL is at most 10s (less jitter)", left)
	}
	if _, ok := c.near.store.get("short", time.Now().Add(11*time.Second).UnixNano()); ok {
		t.Error("copy served past its key's TTL")
	}
}

func TestNearCacheSaysWhyItIsOff(t *testing.T) {
	t.Parallel()
	t.Run("cluster client", func(t *testing.T) {
		cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
		defer cl.Close()
		c, err := New(Options{Redis: cl, Near: &NearOptions{}, Logger: quietLogger})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		n := c.Stats().Near
		if n.State != nearUnsupported || !strings.Contains(n.Reason, "Cluster") {
			t.Errorf("near %+v", n)
		}
	})
	t.Run("server without tracking", func(t *testing.T) {
		mr := miniredis.RunT(t)
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
		defer rdb.Close()
		c, err := New(Options{Redis: rdb, Near: &NearOptions{}, Logger: quietLogger})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if !eventually(10*time.Second, func() bool { return c.Stats().Near.State == nearUnsupported }) {
			t.Fatalf("near %+v", c.Stats().Near)
		}
		t.Logf("reason: %s", c.Stats().Near.Reason)
		ctx := context.Background()
		var v int
		if err := c.Set(ctx, "k", 7, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := c.Get(ctx, "k", &v); err != nil || v != 7 {
			t.Fatalf("reads must work without the near cache: %d %v", v, err)
		}
		if s := c.Stats(); s.Near.Hits != 0 || s.Near.Entries != 0 {
			t.Errorf("near cache used while unsupported: %+v", s.Near)
		}
	})
	t.Run("not configured", func(t *testing.T) {
		c, _ := newMiniCache(t, Options{})
		if s := c.Stats().Near.State; s != nearOff {
			t.Errorf("state %q", s)
		}
	})
}

// Readers in memory and a writer elsewhere, concurrently: once the writer
// stops, every reader sees its last value.
func TestNearCacheConvergesUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	c, s, _ := newNearCache(t, NearOptions{})
	ctx := context.Background()
	other, err := New(Options{Redis: s.Client(t), Namespace: "app", Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	_ = other.Set(ctx, "hot", 0, time.Hour)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var v int
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = c.Get(ctx, "hot", &v)
			}
		}()
	}
	const last = 300
	for i := 1; i <= last; i++ {
		if err := other.Set(ctx, "hot", i, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	ok := eventually(time.Second, func() bool {
		var v int
		return c.Get(ctx, "hot", &v) == nil && v == last
	})
	close(stop)
	wg.Wait()
	if !ok {
		var v int
		_ = c.Get(ctx, "hot", &v)
		t.Fatalf("reads still return %d a second after the last write (%d)", v, last)
	}
	if c.Stats().Near.Hits == 0 {
		t.Error("no read was served from memory")
	}
}

type tagged struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

type withOptional struct {
	A int `json:"a"`
	B int `json:"b,omitempty"`
}

// Hits hand out copies: what a caller does with its value never reaches
// the next caller, whether the value was copied from a kept decoded value
// (plain types) or decoded afresh (types with slices, maps, pointers).
func TestNearCacheHitsAreIndependentCopies(t *testing.T) {
	t.Parallel()
	c, _, _ := newNearCache(t, NearOptions{})
	ctx := context.Background()
	_ = c.Set(ctx, "plain", product{ID: 7, Name: "seven"}, time.Hour)
	_ = c.Set(ctx, "tagged", tagged{Name: "t", Tags: []string{"a", "b"}}, time.Hour)
	_ = c.Set(ctx, "partial", withOptional{A: 1}, time.Hour) // "b" is omitted
	settle(t, c)

	for i := 0; i < 3; i++ {
		var p product
		if err := c.Get(ctx, "plain", &p); err != nil || p != (product{ID: 7, Name: "seven"}) {
			t.Fatalf("read %d: %+v %v", i, p, err)
		}
		p.ID, p.Name = -1, "mutated"
		g, err := GetOrSet(ctx, c, "plain", time.Hour, func(context.Context) (product, error) { return product{}, errors.New("load") })
		if err != nil || g != (product{ID: 7, Name: "seven"}) {
			t.Fatalf("GetOrSet %d: %+v %v", i, g, err)
		}

		var tg tagged
		if err := c.Get(ctx, "tagged", &tg); err != nil || len(tg.Tags) != 2 || tg.Tags[0] != "a" {
			t.Fatalf("tagged read %d: %+v %v", i, tg, err)
		}
		tg.Tags[0] = "mutated"
		tg2, err := GetOrSet(ctx, c, "tagged", time.Hour, func(context.Context) (tagged, error) { return tagged{}, errors.New("load") })
		if err != nil || tg2.Tags[0] != "a" {
			t.Fatalf("tagged GetOrSet %d: %+v %v", i, tg2, err)
		}
		tg2.Tags[0] = "mutated"
	}
	if n := c.Stats().Near; n.Hits < 10 {
		t.Errorf("near hits %d", n.Hits)
	}
	// Decoding into a non-zero value keeps the fields the stored bytes
	// lack, as the codec does: the kept copy is not used then.
	var w withOptional
	for i := 0; i < 2; i++ {
		if err := c.Get(ctx, "partial", &w); err != nil {
			t.Fatal(err)
		}
	}
	w = withOptional{B: 5}
	if err := c.Get(ctx, "partial", &w); err != nil || w != (withOptional{A: 1, B: 5}) {
		t.Fatalf("decode into a non-zero value: %+v %v", w, err)
	}
}

func TestNearCacheMetrics(t *testing.T) {
	t.Parallel()
	c, _, _ := newNearCache(t, NearOptions{})
	ctx := context.Background()
	_ = c.Set(ctx, "k", 1, time.Hour)
	settle(t, c)
	var v int
	_ = c.Get(ctx, "k", &v) // miss, fill
	_ = c.Get(ctx, "k", &v) // hit
	_ = c.Get(ctx, "k", &v) // hit
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(c))
	expected := `
# HELP cache_near_entries Values held by the near cache.
# TYPE cache_near_entries gauge
cache_near_entries{cache="app"} 1
# HELP cache_near_hits_total Reads answered by the near cache.
# TYPE cache_near_hits_total counter
cache_near_hits_total{cache="app"} 2
# HELP cache_near_misses_total Reads the near cache sent to Redis.
# TYPE cache_near_misses_total counter
cache_near_misses_total{cache="app"} 1
# HELP cache_near_up 1 while the near cache is on, 0 otherwise.
# TYPE cache_near_up gauge
cache_near_up{cache="app"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expected),
		"cache_near_entries", "cache_near_hits_total", "cache_near_misses_total", "cache_near_up"); err != nil {
		t.Error(err)
	}
}
