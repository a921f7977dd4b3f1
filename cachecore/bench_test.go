package cachecore

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// Each benchmark runs cachecore beside its baseline on the same server in
// the same run: raw go-redis doing the same work by hand. Ratios are in
// BENCHMARKS.md; scripts/bench-cachecore.sh prints them.

func benchCache(b *testing.B) (*Cache, *redis.Client) {
	b.Helper()
	s := redistest.Start(b)
	rdb := s.Client(b)
	c, err := New(Options{Redis: rdb, Logger: quietLogger})
	if err != nil {
		b.Fatal(err)
	}
	return c, rdb
}

var benchValue = product{ID: 42, Name: "a reasonably named product", Price: 19.99}

func BenchmarkGetHit(b *testing.B) {
	c, rdb := benchCache(b)
	ctx := context.Background()
	if err := c.Set(ctx, "product:42", benchValue, time.Hour); err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(benchValue)
	rdb.Set(ctx, "raw:product:42", raw, time.Hour)

	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, err := rdb.Get(ctx, "raw:product:42").Bytes()
			if err != nil {
				b.Fatal(err)
			}
			var p product
			if err := json.Unmarshal(data, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cachecore", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p product
			if err := c.Get(ctx, "product:42", &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cachecore-getorset", func(b *testing.B) {
		b.ReportAllocs()
		load := func(context.Context) (product, error) { return benchValue, nil }
		for b.Loop() {
			if _, err := GetOrSet(ctx, c, "product:42", time.Hour, load); err != nil {
				b.Fatal(err)
			}
		}
	})
}

const bulkN = 100_000

func BenchmarkBulk(b *testing.B) {
	c, rdb := benchCache(b)
	ctx := context.Background()
	keys := make([]string, bulkN)
	items := make(map[string]any, bulkN)
	for i := range keys {
		keys[i] = fmt.Sprintf("product:%d", i)
		items[keys[i]] = benchValue
	}

	b.Run("mset/raw-pipeline", func(b *testing.B) {
		for b.Loop() {
			for start := 0; start < bulkN; start += 1000 {
				_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
					for _, k := range keys[start:min(start+1000, bulkN)] {
						v, _ := json.Marshal(items[k])
						p.Set(ctx, "raw:"+k, v, time.Hour)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(bulkN*b.N)/b.Elapsed().Seconds(), "keys/s")
	})
	b.Run("mset/cachecore", func(b *testing.B) {
		for b.Loop() {
			if err := c.MSet(ctx, items, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(bulkN*b.N)/b.Elapsed().Seconds(), "keys/s")
	})
	b.Run("mget/raw-pipeline", func(b *testing.B) {
		for b.Loop() {
			out := make(map[string]product, bulkN)
			for start := 0; start < bulkN; start += 1000 {
				chunk := keys[start:min(start+1000, bulkN)]
				cmds := make([]*redis.StringCmd, len(chunk))
				_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
					for i, k := range chunk {
						cmds[i] = p.Get(ctx, "raw:"+k)
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				for i, cmd := range cmds {
					var p product
					if json.Unmarshal([]byte(cmd.Val()), &p) == nil {
						out[chunk[i]] = p
					}
				}
			}
			if len(out) != bulkN {
				b.Fatalf("%d hits", len(out))
			}
		}
		b.ReportMetric(float64(bulkN*b.N)/b.Elapsed().Seconds(), "keys/s")
	})
	b.Run("mget/cachecore", func(b *testing.B) {
		for b.Loop() {
			out, err := MGet[product](ctx, c, keys...)
			if err != nil || len(out) != bulkN {
				b.Fatal(len(out), err)
			}
		}
		b.ReportMetric(float64(bulkN*b.N)/b.Elapsed().Seconds(), "keys/s")
	})
}
