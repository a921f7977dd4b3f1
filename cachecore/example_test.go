package cachecore_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
)

type Product struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// newExampleRedis stands in for a real server so the examples run anywhere.
func newExampleRedis() (*redis.Client, func()) {
	mr, err := miniredis.Run()
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	return rdb, func() { rdb.Close(); mr.Close() }
}

func Example() {
	rdb, stop := newExampleRedis()
	defer stop()
	ctx := context.Background()

	cache, err := cachecore.New(cachecore.Options{Redis: rdb, Namespace: "shop"})
	if err != nil {
		log.Fatal(err)
	}
	if err := cache.Set(ctx, "product:1", Product{ID: 1, Name: "lamp"}, 10*time.Minute); err != nil {
		log.Fatal(err)
	}
	var p Product
	if err := cache.Get(ctx, "product:1", &p); err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Name)

	err = cache.Get(ctx, "product:2", &p)
	fmt.Println(err == cachecore.ErrMiss)
	// Output:
	// lamp
	// true
}

func ExampleGetOrSet() {
	rdb, stop := newExampleRedis()
	defer stop()
	ctx := context.Background()
	cache, _ := cachecore.New(cachecore.Options{Redis: rdb, Namespace: "shop"})

	loadProduct := func(id int) func(context.Context) (Product, error) {
		return func(ctx context.Context) (Product, error) {
			fmt.Println("loading product", id, "from the database")
			if id > 100 {
				return Product{}, cachecore.ErrNotFound // remembered briefly too
			}
			return Product{ID: id, Name: "desk"}, nil
		}
	}
	for i := 0; i < 2; i++ {
		p, err := cachecore.GetOrSet(ctx, cache, "product:7", time.Hour, loadProduct(7))
		fmt.Println(p.Name, err)
	}
	_, err := cachecore.GetOrSet(ctx, cache, "product:404", time.Hour, loadProduct(404))
	fmt.Println(err)
	// Output:
	// loading product 7 from the database
	// desk <nil>
	// desk <nil>
	// loading product 404 from the database
	// cachecore: not found
}

func ExampleMGet() {
	rdb, stop := newExampleRedis()
	defer stop()
	ctx := context.Background()
	cache, _ := cachecore.New(cachecore.Options{Redis: rdb})

	err := cache.MSet(ctx, map[string]any{
		"product:1": Product{ID: 1, Name: "lamp"},
		"product:2": Product{ID: 2, Name: "desk"},
	}, time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	hits, err := cachecore.MGet[Product](ctx, cache, "product:1", "product:2", "product:3")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(hits), hits["product:2"].Name)
	fmt.Println(cache.Stats().Namespaces["product"].Misses)
	// Output:
	// 2 desk
	// 1
}

func ExampleCache_InvalidatePattern() {
	rdb, stop := newExampleRedis()
	defer stop()
	ctx := context.Background()
	cache, _ := cachecore.New(cachecore.Options{Redis: rdb, Namespace: "shop"})
	_ = cache.MSet(ctx, map[string]any{"product:1": 1, "product:2": 2, "user:1": 3}, time.Hour)

	preview, _ := cache.InvalidatePattern(ctx, "product:*", cachecore.InvalidateOptions{DryRun: true})
	fmt.Println("would delete", preview.Matched)

	res, err := cache.InvalidatePattern(ctx, "product:*", cachecore.InvalidateOptions{MaxRate: 10_000})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("deleted", res.Deleted)

	// A literal key part from user input must not act as a pattern.
	pattern := "user:" + cachecore.EscapeGlob("1*") + ":*"
	fmt.Println(pattern)
	// Output:
	// would delete 2
	// deleted 2
	// user:1\*:*
}

func ExampleCache_BumpVersion() {
	rdb, stop := newExampleRedis()
	defer stop()
	ctx := context.Background()
	cache, _ := cachecore.New(cachecore.Options{Redis: rdb})

	key, _ := cache.VersionedKey(ctx, "catalog", "product:1")
	_ = cache.Set(ctx, key, "old price", time.Hour)

	// A new catalog was imported: every catalog entry becomes stale at once.
	_, _ = cache.BumpVersion(ctx, "catalog")
	key, _ = cache.VersionedKey(ctx, "catalog", "product:1")
	var price string
	fmt.Println(cache.Get(ctx, key, &price) == cachecore.ErrMiss)
	// Output:
	// true
}

func ExampleNewCollector() {
	rdb, stop := newExampleRedis()
	defer stop()
	cache, _ := cachecore.New(cachecore.Options{Redis: rdb, Namespace: "shop"})

	reg := prometheus.NewRegistry()
	reg.MustRegister(cachecore.NewCollector(cache))
	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	var p Product
	_ = cache.Get(context.Background(), "product:1", &p)
	families, _ := reg.Gather()
	for _, f := range families {
		if f.GetName() == "cache_misses_total" {
			fmt.Println(f.GetName(), f.GetMetric()[0].GetCounter().GetValue())
		}
	}
	// Output:
	// cache_misses_total 1
}

func ExampleReadTelemetry() {
	rdb, stop := newExampleRedis()
	defer stop()
	ctx := context.Background()

	// The service: telemetry every 5s, so the dashboard sees its hit rates.
	cache, _ := cachecore.New(cachecore.Options{Redis: rdb, Telemetry: 5 * time.Second, InstanceID: "api-1"})
	defer cache.Close()
	var p Product
	_ = cache.Get(ctx, "product:1", &p)

	// The dashboard: two round trips, whatever the size of the keyspace.
	var instances []cachecore.TelemetryInstance
	for len(instances) == 0 { // the first report is written in the background
		time.Sleep(10 * time.Millisecond)
		instances, _ = cachecore.ReadTelemetry(ctx, rdb)
	}
	fmt.Println(instances[0].ID, instances[0].Interval)
	// Output:
	// api-1 5s
}
