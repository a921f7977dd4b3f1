package monitor

import (
	"context"

	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// benchKeysServer starts a server holding n keys "bench:0".. (8-byte
// values) and returns a client for it.
func benchKeysServer(b *testing.B, n int) *redis.Client {
	b.Helper()
	s := redistest.Start(b, "--enable-debug-command", "yes")
	admin := s.Client(b)
	populate(b, admin, n, "bench")
	rdb := s.Client(b)
	redistest.ForbidDangerous(b, rdb)
	return rdb
}

// BenchmarkFirstPage1M is the time to the keys view's first page on a
// 1M-key server: a new browse session's first page (100 keys), then the
// metadata of those rows; and the first page of a pattern that matches
// nothing, which stops at the examined-keys budget.
func BenchmarkFirstPage1M(b *testing.B) {
	rdb := benchKeysServer(b, 1_000_000)
	k := NewKeys(rdb, KeysOptions{})
	ctx := context.Background()
	first := func(b *testing.B, q Query, meta bool) {
		for i := 0; i < b.N; i++ {
			br, err := k.Browse(q)
			if err != nil {
				b.Fatal(err)
			}
			p, err := br.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if meta {
				if _, err := k.Meta(ctx, p.Keys); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("keys", func(b *testing.B) { first(b, Query{}, false) })
	b.Run("keys+meta", func(b *testing.B) { first(b, Query{}, true) })
	b.Run("rare-pattern-budget", func(b *testing.B) { first(b, Query{Pattern: "nothing:*"}, false) })
}

// BenchmarkAnalyze100k analyzes 100k keys at the default pace while a
// pinger on another connection sends one PING per millisecond; it reports
// the pinger's latency percentiles during the analysis, and before it (the
// baseline on the same server, same run).
func BenchmarkAnalyze100k(b *testing.B) {
	rdb := benchKeysServer(b, 100_000)
	k := NewKeys(rdb, KeysOptions{})
	pingClient := redis.NewClient(&redis.Options{Addr: rdb.Options().Addr, PoolSize: 1})
	b.Cleanup(func() { _ = pingClient.Close() })
	idle := pingFor(pingClient, 2*time.Second)
	b.ResetTimer()
	var during []time.Duration
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var lat []time.Duration
		wg.Add(1)
		go func() { defer wg.Done(); lat = pingUntil(ctx, pingClient) }()
		a, err := k.Analyze(context.Background(), AnalyzeOptions{})
		cancel()
		wg.Wait()
		if err != nil || a.Keys != 100_000 {
			b.Fatalf("analysis: %d keys, %v", a.Keys, err)
		}
		during = append(during, lat...)
	}
	b.StopTimer()
	b.ReportMetric(percentile(idle, 0.99), "idle-p99-ms")
	b.ReportMetric(percentile(during, 0.50), "p50-ms")
	b.ReportMetric(percentile(during, 0.99), "p99-ms")
	b.ReportMetric(percentile(during, 1), "max-ms")
}

func pingFor(c *redis.Client, d time.Duration) []time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return pingUntil(ctx, c)
}

// pingUntil sends one PING per millisecond until ctx ends and returns the
// round trips.
func pingUntil(ctx context.Context, c *redis.Client) []time.Duration {
	var out []time.Duration
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
		start := time.Now()
		if c.Ping(context.Background()).Err() == nil {
			out = append(out, time.Since(start))
		}
	}
}

// percentile returns the q-quantile of d in milliseconds.
func percentile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q * float64(len(s)-1))
	return float64(s[i]) / float64(time.Millisecond)
}

// BenchmarkPagerMemory1M pages through 1M keys in pages of 1000, keeping
// only the newest 10,000 rows (the UI's cap), and reports the heap left
// after a GC: the browse session's de-duplication table (8 bytes per slot)
// plus the capped rows.
func BenchmarkPagerMemory1M(b *testing.B) {
	rdb := benchKeysServer(b, 1_000_000)
	k := NewKeys(rdb, KeysOptions{PageSize: 1000})
	ctx := context.Background()
	var retained uint64
	for i := 0; i < b.N; i++ {
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		br, err := k.Browse(Query{})
		if err != nil {
			b.Fatal(err)
		}
		rows := make([]string, 0, 10_000)
		total := 0
		for !br.Done() {
			p, err := br.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			total += len(p.Keys)
			rows = append(rows, p.Keys...)
			if len(rows) > 10_000 {
				rows = append(rows[:0:0], rows[len(rows)-10_000:]...)
			}
		}
		if total != 1_000_000 {
			b.Fatalf("%d keys", total)
		}
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		retained = after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
		runtime.KeepAlive(br)
		runtime.KeepAlive(rows)
	}
	b.ReportMetric(float64(retained)/(1<<20), "retained-MiB")
}
