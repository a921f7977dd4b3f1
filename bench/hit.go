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

// product is the small JSON value every cache measure reads.
type product struct {
	ID    int     `json:"id"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

func productOf(i int) product {
	return product{ID: i, Name: fmt.Sprintf("a reasonably named product %d", i), Price: 19.99}
}

// hitContenders fills nkeys keys for every contender (each under its own
// prefix, written the way that contender writes) and returns the
// contenders reading them: raw go-redis GET + json.Unmarshal, go-redis's
// AutoPipeline, rueidis without client cache, go-redis/cache without local
// cache, and cachecore's Get and GetOrSet. The first contender is the raw
// baseline.
func hitContenders(ctx context.Context, env *env, nkeys int) ([]contender, error) {
	keys := func(prefix string) []string {
		ks := make([]string, nkeys)
		for i := range ks {
			ks[i] = fmt.Sprintf("%sproduct:%d", prefix, i)
		}
		return ks
	}
	pick := func(ks []string, g, i int) string { return ks[(g*7919+i)%len(ks)] }

	rdb := env.goredis()
	rawKeys := keys("raw:")
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range rawKeys {
			b, _ := json.Marshal(productOf(i))
			p.Set(ctx, k, b, time.Hour)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	getJSON := func(c redis.Cmdable) func(ctx context.Context, g, i int) error {
		return func(ctx context.Context, g, i int) error {
			b, err := c.Get(ctx, pick(rawKeys, g, i)).Bytes()
			if err != nil {
				return err
			}
			var p product
			return json.Unmarshal(b, &p)
		}
	}
	cs := []contender{{name: "go-redis GET + json", op: getJSON(rdb)}}

	ap, err := env.goredis().AutoPipeline()
	if err != nil {
		return nil, fmt.Errorf("go-redis AutoPipeline: %w", err)
	}
	env.onClose(func() { _ = ap.Close() })
	cs = append(cs, contender{name: "go-redis AutoPipeline", op: getJSON(ap)})

	rc, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{env.addr}, DisableCache: true})
	if err != nil {
		return nil, fmt.Errorf("rueidis: %w", err)
	}
	env.onClose(rc.Close)
	cs = append(cs, contender{name: "rueidis", op: func(ctx context.Context, g, i int) error {
		b, err := rc.Do(ctx, rc.B().Get().Key(pick(rawKeys, g, i)).Build()).AsBytes()
		if err != nil {
			return err
		}
		var p product
		return json.Unmarshal(b, &p)
	}})

	gc := gocache.New(&gocache.Options{Redis: env.goredis()})
	gcKeys := keys("gocache:")
	for i, k := range gcKeys {
		if err := gc.Set(&gocache.Item{Ctx: ctx, Key: k, Value: productOf(i), TTL: time.Hour}); err != nil {
			return nil, fmt.Errorf("go-redis/cache: %w", err)
		}
	}
	cs = append(cs, contender{name: "go-redis/cache", op: func(ctx context.Context, g, i int) error {
		var p product
		return gc.Get(ctx, pick(gcKeys, g, i), &p)
	}})

	cache, err := env.cache(cachecore.Options{Namespace: "cc"})
	if err != nil {
		return nil, err
	}
	ccKeys := keys("")
	items := make(map[string]any, nkeys)
	for i, k := range ccKeys {
		items[k] = productOf(i)
	}
	if err := cache.MSet(ctx, items, time.Hour); err != nil {
		return nil, err
	}
	cs = append(cs, contender{name: "cachecore Get", op: func(ctx context.Context, g, i int) error {
		var p product
		return cache.Get(ctx, pick(ccKeys, g, i), &p)
	}})
	load := func(context.Context) (product, error) { return product{}, fmt.Errorf("loader called on a warm key") }
	cs = append(cs, contender{name: "cachecore GetOrSet", op: func(ctx context.Context, g, i int) error {
		_, err := cachecore.GetOrSet(ctx, cache, pick(ccKeys, g, i), time.Hour, load)
		return err
	}})
	return cs, nil
}
