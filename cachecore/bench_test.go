package cachecore

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// Each benchmark runs cachecore beside its baseline on the same server in
// the same run: raw go-redis doing the same work by hand. Ratios are in
// BENCHMARKS.md; scripts/bench-cachecore.sh prints them.

// benchServer returns a client of a fresh real server.
func benchServer(b *testing.B) *redis.Client {
	b.Helper()
	return redistest.Start(b).Client(b)
}

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

// BenchmarkBulk writes and reads 100k keys with MSet and MGet, alternating
// in the same loop with the same work done by hand with a raw go-redis
// pipeline (JSON included), and reports each side's time and the
// throughput ratio (raw time / cachecore time: above 1 is faster).
func BenchmarkBulk(b *testing.B) {
	c, rdb := benchCache(b)
	ctx := context.Background()
	keys := make([]string, bulkN)
	items := make(map[string]any, bulkN)
	for i := range keys {
		keys[i] = fmt.Sprintf("product:%d", i)
		items[keys[i]] = benchValue
	}
	rawMSet := func() {
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
	rawMGet := func() {
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
			b.Fatalf("raw: %d hits", len(out))
		}
	}
	libMSet := func() {
		if err := c.MSet(ctx, items, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	libMGet := func() {
		out, err := MGet[product](ctx, c, keys...)
		if err != nil || len(out) != bulkN {
			b.Fatal(len(out), err)
		}
	}
	timed := func(f func()) time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
	var rawSet, libSet, rawGet, libGet time.Duration
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			rawSet += timed(rawMSet)
			libSet += timed(libMSet)
			rawGet += timed(rawMGet)
			libGet += timed(libMGet)
		} else {
			libSet += timed(libMSet)
			rawSet += timed(rawMSet)
			libGet += timed(libMGet)
			rawGet += timed(rawMGet)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(rawSet.Milliseconds())/n, "raw-mset-ms")
	b.ReportMetric(float64(libSet.Milliseconds())/n, "cachecore-mset-ms")
	b.ReportMetric(float64(rawSet)/float64(libSet), "mset-throughput-ratio")
	b.ReportMetric(float64(rawGet.Milliseconds())/n, "raw-mget-ms")
	b.ReportMetric(float64(libGet.Milliseconds())/n, "cachecore-mget-ms")
	b.ReportMetric(float64(rawGet)/float64(libGet), "mget-throughput-ratio")
}

// BenchmarkGetHitPaired runs a raw GET + json.Unmarshal, a cachecore Get
// and a cachecore GetOrSet hit in turn in the same loop (rotating which
// goes first) and reports each one's latency and their ratios to the raw
// round trip: drift in the machine's load (shared CI, other jobs) hits all
// three alike, which separate sub-benchmarks cannot promise.
func BenchmarkGetHitPaired(b *testing.B) {
	c, rdb := benchCache(b)
	ctx := context.Background()
	if err := c.Set(ctx, "product:42", benchValue, time.Hour); err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(benchValue)
	rdb.Set(ctx, "raw:product:42", raw, time.Hour)
	load := func(context.Context) (product, error) { return benchValue, nil }
	ops := []func(){
		func() {
			data, err := rdb.Get(ctx, "raw:product:42").Bytes()
			var p product
			if err != nil || json.Unmarshal(data, &p) != nil {
				b.Fatal(err)
			}
		},
		func() {
			var p product
			if err := c.Get(ctx, "product:42", &p); err != nil {
				b.Fatal(err)
			}
		},
		func() {
			if _, err := GetOrSet(ctx, c, "product:42", time.Hour, load); err != nil {
				b.Fatal(err)
			}
		},
	}
	var total [3]time.Duration
	for i := 0; b.Loop(); i++ {
		for j := range ops {
			k := (i + j) % len(ops)
			start := time.Now()
			ops[k]()
			total[k] += time.Since(start)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(total[0].Nanoseconds())/n, "raw-ns/op")
	b.ReportMetric(float64(total[1].Nanoseconds())/n, "get-ns/op")
	b.ReportMetric(float64(total[2].Nanoseconds())/n, "getorset-ns/op")
	b.ReportMetric(float64(total[1])/float64(total[0]), "get-ratio")
	b.ReportMetric(float64(total[2])/float64(total[0]), "getorset-ratio")
}

// BenchmarkGetHitConcurrent reads 10k keys from 50 goroutines (25 per
// GOMAXPROCS on 2 cores): raw go-redis GET + json.Unmarshal, the same on
// go-redis's blocking AutoPipeline, and cachecore's Get, which batches
// concurrent reads. bench/run.sh holds the comparison with the other
// peers; this one catches a regression of cachecore's concurrent path.
func BenchmarkGetHitConcurrent(b *testing.B) {
	c, rdb := benchCache(b)
	ctx := context.Background()
	keys := make([]string, 10_000)
	items := make(map[string]any, len(keys))
	for i := range keys {
		keys[i] = fmt.Sprintf("product:%d", i)
		items[keys[i]] = benchValue
	}
	if err := c.MSet(ctx, items, time.Hour); err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(benchValue)
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Set(ctx, "raw:"+k, raw, time.Hour)
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	ap, err := rdb.AutoPipeline()
	if err != nil {
		b.Fatal(err)
	}
	rawGet := func(cl redis.Cmdable) func(i int) error {
		return func(i int) error {
			data, err := cl.Get(ctx, "raw:"+keys[i%len(keys)]).Bytes()
			if err != nil {
				return err
			}
			var p product
			return json.Unmarshal(data, &p)
		}
	}
	for _, bc := range []struct {
		name string
		op   func(i int) error
	}{
		{"raw", rawGet(rdb)},
		{"autopipeline", rawGet(ap)},
		{"cachecore", func(i int) error { var p product; return c.Get(ctx, keys[i%len(keys)], &p) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetParallelism(25)
			b.ReportAllocs()
			var seed atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(seed.Add(7919))
				for pb.Next() {
					if err := bc.op(i); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
		})
	}
}
