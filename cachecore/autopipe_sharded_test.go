package cachecore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// A Ring spreads keys over servers and routes a command by its first key
// only, so neither a batch of concurrent reads nor MGet may be one MGET
// there: keys on the other shards would read as absent.
func TestConcurrentReadsAndMGetOnARing(t *testing.T) {
	t.Parallel()
	a, b := redistest.Start(t), redistest.Start(t)
	ring := redis.NewRing(&redis.RingOptions{
		Addrs:                 map[string]string{"a": a.Addr, "b": b.Addr},
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { _ = ring.Close() })
	c, err := New(Options{Redis: ring, Logger: quietLogger, OpTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const n = 200
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("ring:%d", i)
		if err := c.Set(ctx, keys[i], i, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	// Both shards hold some of the keys, or the test proves nothing.
	for _, s := range []*redistest.Server{a, b} {
		if size, err := s.Client(t).DBSize(ctx).Result(); err != nil || size == 0 {
			t.Fatalf("shard %s holds %d keys (%v)", s.Addr, size, err)
		}
	}

	var wg sync.WaitGroup
	var wrong atomic.Int64
	var first atomic.Value
	for g := 0; g < 50; g++ {
		wg.Go(func() {
			for i := 0; i < 100; i++ {
				want := (g*7 + i) % n
				var v int
				if err := c.Get(ctx, keys[want], &v); err != nil || v != want {
					wrong.Add(1)
					first.CompareAndSwap(nil, fmt.Sprintf("%s read %d, %v", keys[want], v, err))
				}
			}
		})
	}
	wg.Wait()
	if k := wrong.Load(); k > 0 {
		t.Fatalf("%d concurrent reads on a Ring were wrong, first: %v", k, first.Load())
	}

	got, err := MGet[int](ctx, c, keys...)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("MGet on a Ring found %d of %d keys", len(got), n)
	}
}

// On a pipeline of GETs (a cluster), each read of a batch gets its own
// key's outcome: a key holding another type fails its own read only, an
// absent key is a miss, and the other keys read fine whatever their
// position in the pipeline.
func TestABatchOnAClusterFailsOnlyTheReadsOfABadKey(t *testing.T) {
	t.Parallel()
	rdb := sharedCluster.Get(t).Client(t)
	ctx := context.Background()
	prefix := "batcherr:"
	if err := rdb.RPush(ctx, prefix+"list", "x").Err(); err != nil {
		t.Fatal(err)
	}
	good := []string{}
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("%sok:%d", prefix, i)
		if err := rdb.Set(ctx, k, fmt.Sprint(i), time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		good = append(good, k)
	}
	// The bad key first: the pipeline's own error is its WRONGTYPE.
	order := append([]string{prefix + "list", prefix + "absent"}, good...)
	batch := make([]*readCall, len(order))
	for i, k := range order {
		batch[i] = &readCall{ctx: ctx, key: k, done: make(chan struct{})}
	}
	b := newReadBatcher(rdb, true, 1)
	b.exec(batch)

	if err := batch[0].err; err == nil || errors.Is(err, redis.Nil) {
		t.Errorf("the list key read %q, %v; want a WRONGTYPE error", batch[0].raw, err)
	}
	if err := batch[1].err; !errors.Is(err, redis.Nil) {
		t.Errorf("the absent key: %v, want redis.Nil", err)
	}
	for i, c := range batch[2:] {
		if c.err != nil || string(c.raw) != fmt.Sprint(i) {
			t.Errorf("%s read %q, %v; want %d", c.key, c.raw, c.err, i)
		}
	}
}
