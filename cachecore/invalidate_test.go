package cachecore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// populate writes n keys named fmt.Sprintf(format, i) with MSET pipelines.
func populate(t testing.TB, rdb redis.Cmdable, format string, n int) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += 1000 {
		args := make([]any, 0, 2000)
		for i := start; i < min(start+1000, n); i++ {
			args = append(args, fmt.Sprintf(format, i), "v")
		}
		if err := rdb.MSet(ctx, args...).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// countMatching counts keys matching pattern with SCAN on a test server.
func countMatching(t testing.TB, rdb *redis.Client, pattern string) int {
	t.Helper()
	seen := map[string]bool{}
	iter := rdb.Scan(context.Background(), 0, pattern, 1000).Iterator()
	for iter.Next(context.Background()) {
		seen[iter.Val()] = true
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return len(seen)
}

func TestInvalidatePatternDeletesExactlyTheMatchingKeys(t *testing.T) {
	c, _, rdb := newRealCache(t, Options{Namespace: "shop"})
	ctx := context.Background()
	populate(t, rdb, "shop:product:%d", 100_000)
	// 100k keys that must survive, some of them deceptively close.
	populate(t, rdb, "shop:products:%d", 40_000)
	populate(t, rdb, "shop:Product:%d", 20_000)
	populate(t, rdb, "shop:xproduct:%d", 20_000)
	populate(t, rdb, "other:product:%d", 10_000)
	populate(t, rdb, "shopproduct:%d", 10_000)

	// Dry run: reports, deletes nothing.
	dry, err := c.InvalidatePattern(ctx, "product:*", InvalidateOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Deleted != 0 || rdb.DBSize(ctx).Val() != 200_000 {
		t.Fatalf("dry run deleted keys: %+v, dbsize %d", dry, rdb.DBSize(ctx).Val())
	}
	// SCAN may repeat a key while the table rehashes, so allow a sliver.
	if dry.Matched < 100_000 || dry.Matched > 100_500 || dry.Scanned != 200_000 || !dry.DryRun {
		t.Fatalf("dry run result %+v", dry)
	}
	if len(dry.Sample) != 10 || dry.Sample[0][:8] != "product:" {
		t.Fatalf("sample %q", dry.Sample)
	}

	var progress []InvalidateResult
	res, err := c.InvalidatePattern(ctx, "product:*", InvalidateOptions{
		Progress: func(r InvalidateResult) { progress = append(progress, r) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 100_000 {
		t.Fatalf("deleted %d, want 100000 (%+v)", res.Deleted, res)
	}
	if n := rdb.DBSize(ctx).Val(); n != 100_000 {
		t.Fatalf("DBSIZE after invalidation = %d, want 100000", n)
	}
	for pattern, want := range map[string]int{
		"shop:product:*": 0, "shop:products:*": 40_000, "shop:Product:*": 20_000,
		"shop:xproduct:*": 20_000, "other:product:*": 10_000, "shopproduct:*": 10_000,
	} {
		if got := countMatching(t, rdb, pattern); got != want {
			t.Errorf("%s: %d keys left, want %d", pattern, got, want)
		}
	}
	if len(progress) < 2 {
		t.Fatalf("progress called %d times", len(progress))
	}
	for i := 1; i < len(progress); i++ {
		if progress[i].Deleted < progress[i-1].Deleted || progress[i].Scanned < progress[i-1].Scanned {
			t.Fatalf("progress went backwards: %+v then %+v", progress[i-1], progress[i])
		}
	}
	if st := c.Stats(); st.Namespaces["product"].Invalidations != 100_000 {
		t.Fatalf("invalidations counted: %+v", st.Namespaces["product"])
	}
}

func TestInvalidatePatternCancelStopsPromptly(t *testing.T) {
	c, _, rdb := newRealCache(t, Options{})
	populate(t, rdb, "k:%d", 50_000)
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	res, err := c.InvalidatePattern(ctx, "k:*", InvalidateOptions{
		MaxRate: 20_000, // 2.5s for everything: plenty of time to cancel
		Progress: func(r InvalidateResult) {
			if r.Deleted > 0 {
				once.Do(func() { time.AfterFunc(100*time.Millisecond, cancel) })
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled invalidation returned %v", err)
	}
	if res.Deleted == 0 || res.Deleted >= 50_000 {
		t.Fatalf("partial result %+v", res)
	}
	left := rdb.DBSize(context.Background()).Val()
	if left+res.Deleted != 50_000 {
		t.Fatalf("result says %d deleted but %d keys remain", res.Deleted, left)
	}
	time.Sleep(200 * time.Millisecond)
	if again := rdb.DBSize(context.Background()).Val(); again != left {
		t.Fatalf("deletions continued after return: %d -> %d", left, again)
	}
}

func TestInvalidatePatternPaced(t *testing.T) {
	c, _, rdb := newRealCache(t, Options{})
	populate(t, rdb, "k:%d", 1000)
	start := time.Now()
	res, err := c.InvalidatePattern(context.Background(), "k:*", InvalidateOptions{MaxRate: 2000})
	if err != nil || res.Deleted != 1000 {
		t.Fatal(res, err)
	}
	// 1000 keys at 2000/s cannot finish in much less than half a second.
	// (A lower bound: load on the machine can only make it slower.)
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("1000 keys at 2000/s took only %v: not paced", d)
	}
}

func TestInvalidatePatternBeforeDeleteAndEscaping(t *testing.T) {
	c, mr := newMiniCache(t, Options{Namespace: "n*s"})
	ctx := context.Background()
	for _, k := range []string{"n*s:a:1", "n*s:a:2", "nXs:a:1", "n*s:b:1"} {
		mr.Set(k, "v")
	}
	var seen []string
	res, err := c.InvalidatePattern(ctx, "a:*", InvalidateOptions{
		BeforeDelete: func(ctx context.Context, node redis.Cmdable, keys []string) error {
			seen = append(seen, keys...)
			return nil
		},
	})
	if err != nil || res.Deleted != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	// The namespace's * is literal: nXs:a:1 is not in the namespace.
	if !mr.Exists("nXs:a:1") || !mr.Exists("n*s:b:1") || len(seen) != 2 {
		t.Fatalf("wrong keys deleted; hook saw %q, left %q", seen, mr.Keys())
	}

	mr.Set("n*s:a:3", "v")
	_, err = c.InvalidatePattern(ctx, "a:*", InvalidateOptions{
		BeforeDelete: func(context.Context, redis.Cmdable, []string) error { return errors.New("disk full") },
	})
	if err == nil || !mr.Exists("n*s:a:3") {
		t.Fatalf("a failing BeforeDelete must stop the deletion: %v", err)
	}
	if _, err := c.InvalidatePattern(ctx, "", InvalidateOptions{}); err == nil {
		t.Fatal("empty pattern accepted")
	}
	if _, err := c.InvalidatePattern(ctx, "*", InvalidateOptions{BatchSize: -1}); err == nil {
		t.Fatal("negative batch size accepted")
	}
}
