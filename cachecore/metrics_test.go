package cachecore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestStatsAndCollectorExactCounts(t *testing.T) {
	c, _, _ := newRealCache(t, Options{Namespace: "shop"})
	ctx := context.Background()
	var p product
	_ = c.Set(ctx, "product:1", product{ID: 1}, 0)
	_ = c.Get(ctx, "product:1", &p) // hit
	_ = c.Get(ctx, "product:1", &p) // hit
	_ = c.Get(ctx, "product:2", &p) // miss
	_ = c.Get(ctx, "user:1", &p)    // miss
	_, _ = GetOrSet(ctx, c, "user:1", 0, func(context.Context) (product, error) {
		time.Sleep(3 * time.Millisecond)
		return product{ID: 9}, nil
	}) // miss + load + set
	_, _ = GetOrSet(ctx, c, "user:1", 0, func(context.Context) (product, error) { return product{}, nil }) // hit
	_, _ = GetOrSet(ctx, c, "user:2", 0, func(context.Context) (product, error) {
		return product{}, errors.New("db")
	}) // miss + load + load error
	_, _ = c.Delete(ctx, "product:1")

	s := c.Stats()
	want := map[string]Counts{
		"product": {Hits: 2, Misses: 1, Sets: 1, Invalidations: 1},
		"user":    {Hits: 1, Misses: 3, Sets: 1, Loads: 2, Errors: 1},
	}
	for ns, w := range want {
		got := s.Namespaces[ns]
		got.LoadTime = 0
		if got != w {
			t.Errorf("namespace %s: %+v, want %+v", ns, got, w)
		}
	}
	if s.Namespaces["user"].LoadTime < 3*time.Millisecond {
		t.Errorf("load time %v", s.Namespaces["user"].LoadTime)
	}
	if s.Hits != 3 || s.Misses != 4 || s.Errors != 1 || s.ErrorsByOp["load"] != 1 || s.LoadDurations.Count != 2 {
		t.Errorf("totals: %+v errors %v hist %+v", s.Counts, s.ErrorsByOp, s.LoadDurations)
	}

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(c))
	expected := `
# HELP cache_hits_total Cache lookups answered from Redis.
# TYPE cache_hits_total counter
cache_hits_total{cache="shop",namespace="product"} 2
cache_hits_total{cache="shop",namespace="user"} 1
# HELP cache_misses_total Cache lookups that found no usable value.
# TYPE cache_misses_total counter
cache_misses_total{cache="shop",namespace="product"} 1
cache_misses_total{cache="shop",namespace="user"} 3
# HELP cache_loads_total Loader calls made on misses.
# TYPE cache_loads_total counter
cache_loads_total{cache="shop",namespace="product"} 0
cache_loads_total{cache="shop",namespace="user"} 2
# HELP cache_circuit_breaker_state Circuit breaker state: 0 closed, 1 half-open, 2 open.
# TYPE cache_circuit_breaker_state gauge
cache_circuit_breaker_state{cache="shop"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expected),
		"cache_hits_total", "cache_misses_total", "cache_loads_total", "cache_circuit_breaker_state"); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "cache_errors_total"); err != nil || n != int(numOps) {
		t.Fatalf("cache_errors_total series = %d, %v", n, err)
	}
	if n, err := testutil.GatherAndCount(reg, "cache_load_duration_seconds"); err != nil || n != 1 {
		t.Fatalf("load duration histogram: %d, %v", n, err)
	}
}
