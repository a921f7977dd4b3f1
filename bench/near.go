package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	gocache "github.com/go-redis/cache/v9"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/cachescope/cachescope/cachecore"
)

// nearContenders reads nhot hot keys: raw go-redis GET + json.Unmarshal
// (the baseline, first), cachecore with its near cache, and the other
// in-process caches a Go team could pick: rueidis' client-side cache
// (coherent, CLIENT TRACKING), go-redis' own client-side cache
// (ClientSideCacheConfig, coherent) and go-redis/cache with its TinyLFU
// local cache (not coherent: a copy lives until its local TTL).
func nearContenders(ctx context.Context, e *env, nhot int) (cs []contender, cache *cachecore.Cache, err error) {
	keys := make([]string, nhot)
	for i := range keys {
		keys[i] = fmt.Sprintf("hot:%d", i)
	}
	pick := func(g, i int) (int, string) { j := (g*7919 + i) % nhot; return j, keys[j] }

	rdb := e.goredis()
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			b, _ := json.Marshal(productOf(i))
			p.Set(ctx, "raw:"+k, b, time.Hour)
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	decode := func(b []byte, err error) error {
		if err != nil {
			return err
		}
		var p product
		return json.Unmarshal(b, &p)
	}
	cs = []contender{{name: "go-redis GET + json", op: func(ctx context.Context, g, i int) error {
		_, k := pick(g, i)
		return decode(rdb.Get(ctx, "raw:"+k).Bytes())
	}}}

	cache, err = e.cache(cachecore.Options{Namespace: "near", Near: &cachecore.NearOptions{}})
	if err != nil {
		return nil, nil, err
	}
	if err := waitNear(cache); err != nil {
		return nil, nil, err
	}
	items := make(map[string]any, nhot)
	for i, k := range keys {
		items[k] = productOf(i)
	}
	if err := cache.MSet(ctx, items, time.Hour); err != nil {
		return nil, nil, err
	}
	cs = append(cs, contender{name: "cachecore Get, near cache", op: func(ctx context.Context, g, i int) error {
		j, k := pick(g, i)
		var p product
		if err := cache.Get(ctx, k, &p); err != nil {
			return err
		}
		if p.ID != j {
			return fmt.Errorf("read %d for %s", p.ID, k)
		}
		return nil
	}})

	rc, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{e.addr}})
	if err != nil {
		return nil, nil, fmt.Errorf("rueidis: %w", err)
	}
	e.onClose(rc.Close)
	cs = append(cs, contender{name: "rueidis client-side cache", op: func(ctx context.Context, g, i int) error {
		_, k := pick(g, i)
		return decode(rc.DoCache(ctx, rc.B().Get().Key("raw:"+k).Cache(), time.Minute).AsBytes())
	}})

	csc := redis.NewClient(&redis.Options{Addr: e.addr, Protocol: 3, PoolSize: e.conc, ContextTimeoutEnabled: true,
		ClientSideCacheConfig: &redis.ClientSideCacheConfig{MaxEntries: 10_000}})
	e.onClose(func() { _ = csc.Close() })
	cs = append(cs, contender{name: "go-redis client-side cache", op: func(ctx context.Context, g, i int) error {
		_, k := pick(g, i)
		return decode(csc.Get(ctx, "raw:"+k).Bytes())
	}})

	// Last: a type with a slice, which the near cache decodes on every hit
	// (it keeps a decoded copy only of types without pointers, slices or
	// maps, whose copy cannot alias the held one), as the peers do.
	defer func() {
		cs = append(cs, contender{name: "cachecore Get, near cache, a type with a slice", op: func(ctx context.Context, g, i int) error {
			j, k := pick(g, i)
			var p taggedProduct
			if err := cache.Get(ctx, k, &p); err != nil {
				return err
			}
			if p.ID != j {
				return fmt.Errorf("read %d for %s", p.ID, k)
			}
			return nil
		}})
	}()

	gc := gocache.New(&gocache.Options{Redis: e.goredis(), LocalCache: gocache.NewTinyLFU(10_000, time.Minute)})
	for i, k := range keys {
		if err := gc.Set(&gocache.Item{Ctx: ctx, Key: "gocache:" + k, Value: productOf(i), TTL: time.Hour}); err != nil {
			return nil, nil, err
		}
	}
	cs = append(cs, contender{name: "go-redis/cache + TinyLFU (not coherent)", op: func(ctx context.Context, g, i int) error {
		_, k := pick(g, i)
		var p product
		return gc.Get(ctx, "gocache:"+k, &p)
	}})
	return cs, cache, nil
}

// taggedProduct reads the same JSON as product into a type with a slice.
type taggedProduct struct {
	product
	Tags []string `json:"tags"`
}

func waitNear(c *cachecore.Cache) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if n := c.Stats().Near; n.State == "on" {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("near cache not on: %+v", c.Stats().Near)
}

// nearInvalidationDelay writes a held key from another client n times and
// measures how long until the near cache's reader sees the new value
// (polling Get, so the figure includes the poll's own granularity). It
// returns the median and the maximum.
func nearInvalidationDelay(ctx context.Context, e *env, n int) (med, worst time.Duration, err error) {
	reader, err := e.cache(cachecore.Options{Namespace: "inval", Near: &cachecore.NearOptions{}})
	if err != nil {
		return 0, 0, err
	}
	writer, err := e.cache(cachecore.Options{Namespace: "inval"})
	if err != nil {
		return 0, 0, err
	}
	if err := waitNear(reader); err != nil {
		return 0, 0, err
	}
	var delays []time.Duration
	for i := 0; i < n; i++ {
		if err := writer.Set(ctx, "k", i, time.Hour); err != nil {
			return 0, 0, err
		}
		// Read until the value is held (the first fill after a write may
		// be dropped by the write's own report), then write elsewhere.
		held := false
		for try := 0; try < 1000 && !held; try++ {
			var v int
			_ = reader.Get(ctx, "k", &v)
			held = reader.Stats().Near.Entries > 0 && v == i
			time.Sleep(100 * time.Microsecond)
		}
		if !held {
			return 0, 0, fmt.Errorf("near cache never held the key")
		}
		start := time.Now()
		if err := writer.Set(ctx, "k", i+1_000_000, time.Hour); err != nil {
			return 0, 0, err
		}
		for {
			var v int
			if err := reader.Get(ctx, "k", &v); err != nil {
				return 0, 0, err
			}
			if v == i+1_000_000 {
				break
			}
			// Poll, but leave the CPU to the server and the tracking
			// connection's reader: a tight loop on 2 cores delays them.
			time.Sleep(20 * time.Microsecond)
			if time.Since(start) > time.Second {
				return 0, 0, fmt.Errorf("a write elsewhere was not seen within 1s")
			}
		}
		delays = append(delays, time.Since(start))
	}
	worst = delays[0]
	for _, d := range delays {
		worst = max(worst, d)
	}
	return medianDur(delays), worst, nil
}
