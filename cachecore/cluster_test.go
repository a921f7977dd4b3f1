package cachecore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestOnCluster runs the multi-key operations on a real 3-master Redis
// Cluster, where keys of one call land in different hash slots.
func TestOnCluster(t *testing.T) {
	t.Parallel()
	cl := sharedCluster.Get(t)
	rdb := cl.Client(t)
	// The cluster is shared and outlives a run: names of this run's own
	// keep -count=N runs from seeing the last one's keys and limits.
	ns := fmt.Sprintf("oncluster%d", time.Now().UnixNano())
	c, err := New(Options{Redis: rdb, Namespace: ns, Logger: quietLogger, OpTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("MSetMGetAcrossSlots", func(t *testing.T) {
		items := map[string]any{}
		keys := []string{}
		for i := 0; i < 3000; i++ {
			k := fmt.Sprintf("item:%d", i)
			items[k] = i
			keys = append(keys, k)
		}
		if err := c.MSet(ctx, items, time.Minute); err != nil {
			t.Fatal(err)
		}
		got, err := MGet[int](ctx, c, append(keys, "item:absent")...)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3000 || got["item:2999"] != 2999 {
			t.Fatalf("MGet on cluster: %d hits", len(got))
		}
	})

	t.Run("DeleteAcrossSlots", func(t *testing.T) {
		n, err := c.Delete(ctx, "item:1", "item:2", "item:3", "item:absent")
		if err != nil || n != 3 {
			t.Fatalf("Delete = %d, %v", n, err)
		}
	})

	t.Run("InvalidatePatternOnEveryMaster", func(t *testing.T) {
		if err := c.MSet(ctx, map[string]any{"keep:1": 1, "keep:2": 2}, time.Minute); err != nil {
			t.Fatal(err)
		}
		dry, err := c.InvalidatePattern(ctx, "item:*", InvalidateOptions{DryRun: true})
		if err != nil || dry.Matched != 2997 || dry.Deleted != 0 {
			t.Fatalf("dry run %+v, %v", dry, err)
		}
		res, err := c.InvalidatePattern(ctx, "item:*", InvalidateOptions{BatchSize: 100})
		if err != nil || res.Deleted != 2997 {
			t.Fatalf("invalidate %+v, %v", res, err)
		}
		var left atomic.Int64
		_ = rdb.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			iter := node.Scan(ctx, 0, ns+":*", 1000).Iterator()
			for iter.Next(ctx) {
				left.Add(1)
			}
			return iter.Err()
		})
		if left.Load() != 2 {
			t.Fatalf("%d keys of the cache left on the masters, want the 2 keep:* keys", left.Load())
		}
	})

	t.Run("LimiterKeysAreHashTagged", func(t *testing.T) {
		l := NewLimiter(rdb, LimiterOptions{Prefix: ns + "-limit"})
		for _, alg := range []Algorithm{GCRA, FixedWindow, SlidingWindow} {
			limit := PerMinute(3)
			limit.Algorithm = alg
			for i := 0; i < 4; i++ {
				res, err := l.Allow(ctx, fmt.Sprintf("user:%d", i%2), limit)
				if err != nil {
					t.Fatalf("%v: %v", alg, err) // CROSSSLOT if a script's keys spanned slots
				}
				if !res.Allowed {
					t.Fatalf("%v: call %d denied", alg, i)
				}
			}
		}
	})

	t.Run("TelemetryIsReadBack", func(t *testing.T) {
		tc, err := New(Options{Redis: rdb, Namespace: ns + "-tel", Logger: quietLogger, Telemetry: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		var v int
		_ = tc.Get(ctx, "x", &v)
		waitFor(t, "telemetry on the cluster", 10*time.Second, func() bool {
			in, err := ReadTelemetry(ctx, rdb)
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range in {
				if i.ID == tc.InstanceID() && i.Total.Misses == 1 {
					return true
				}
			}
			return false
		})
	})

	t.Run("VersionsAndGetOrSet", func(t *testing.T) {
		k, err := c.VersionedKey(ctx, "catalog", "p:1")
		if err != nil {
			t.Fatal(err)
		}
		v, err := GetOrSet(ctx, c, k, 0, func(context.Context) (string, error) { return "x", nil })
		if err != nil || v != "x" {
			t.Fatal(v, err)
		}
		if _, err := c.BumpVersion(ctx, "catalog"); err != nil {
			t.Fatal(err)
		}
	})
}
