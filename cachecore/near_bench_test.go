package cachecore

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkNearGetHit reads 100 hot keys held by the near cache from
// parallel goroutines: the cost of a hit served from memory (lookup,
// envelope, JSON decode, counters). bench/run.sh compares it with raw
// go-redis and other client-side caches.
func BenchmarkNearGetHit(b *testing.B) {
	s := benchServer(b)
	c, err := New(Options{Redis: s, Namespace: "near", Near: &NearOptions{}, Logger: quietLogger})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Stats().Near.State != nearOn; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal(c.Stats().Near)
		}
	}
	ctx := context.Background()
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("product:%d", i)
		if err := c.Set(ctx, keys[i], benchValue, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	c.near.tracker.sync(ctx)
	for _, k := range keys {
		var p product
		_ = c.Get(ctx, k, &p)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			var p product
			if err := c.Get(ctx, keys[i%len(keys)], &p); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.StopTimer()
	if n := c.Stats().Near; n.Hits < int64(b.N)*9/10 {
		b.Fatalf("only %d of %d reads served from memory", n.Hits, b.N)
	}
}
