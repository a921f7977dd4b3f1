package cachecore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// waitTelemetry polls until cond holds for the instances read.
func waitTelemetry(t *testing.T, rdb redis.UniversalClient, what string, cond func([]TelemetryInstance) bool) []TelemetryInstance {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := ReadTelemetry(context.Background(), rdb)
		if err != nil {
			t.Fatal(err)
		}
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; read %+v", what, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTelemetryFromTwoInstances(t *testing.T) {
	_, srv, reader := newRealCache(t, Options{})
	newInstance := func(id string) *Cache {
		rdb := redis.NewClient(srv.Options())
		t.Cleanup(func() { _ = rdb.Close() })
		c, err := New(Options{Redis: rdb, Telemetry: 100 * time.Millisecond, InstanceID: id, Logger: quietLogger})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a, b := newInstance("api-1"), newInstance("api-2")
	ctx := context.Background()
	lim := NewLimiter(a.rdb, LimiterOptions{})
	a.ReportLimiter(lim)

	var v int
	_ = a.Set(ctx, "product:1", 1, 0)
	for i := 0; i < 30; i++ {
		_ = a.Get(ctx, "product:1", &v) // 30 hits
	}
	for i := 0; i < 10; i++ {
		_ = a.Get(ctx, fmt.Sprintf("product:miss:%d", i), &v) // 10 misses
		_ = b.Get(ctx, fmt.Sprintf("user:%d", i), &v)         // 10 misses on b
	}
	for i := 0; i < 5; i++ {
		_, _ = lim.Allow(ctx, "login:alice", Limit{Algorithm: FixedWindow, Rate: 3, Period: time.Minute})
	}

	want := a.Stats()
	// Each instance reports on its own clock: wait for both final reports
	// (b may have reported before its last misses).
	got := waitTelemetry(t, reader, "both instances with their final counts", func(in []TelemetryInstance) bool {
		final := 0
		for _, i := range in {
			if i.ID == "api-1" && i.Namespaces["product"].Hits == 30 && i.Limiters["login"].Denied == 2 {
				final++
			}
			if i.ID == "api-2" && i.Total.Misses == 10 {
				final++
			}
		}
		return len(in) == 2 && final == 2
	})
	byID := map[string]TelemetryInstance{}
	for _, i := range got {
		byID[i.ID] = i
	}
	ia, ib := byID["api-1"], byID["api-2"]
	if ia.Namespaces["product"] != want.Namespaces["product"] {
		t.Errorf("api-1 product: %+v, want %+v", ia.Namespaces["product"], want.Namespaces["product"])
	}
	if hr, ok := ia.Namespaces["product"].HitRate(); !ok || hr != 0.75 {
		t.Errorf("api-1 product hit rate %v", hr)
	}
	if ib.Namespaces["user"].Misses != 10 || ib.Total.Misses != 10 {
		t.Errorf("api-2: %+v", ib.Namespaces)
	}
	if ia.Limiters["login"] != (LimiterCounts{Allowed: 3, Denied: 2}) {
		t.Errorf("limiter counts %+v", ia.Limiters)
	}
	if ia.Breaker != "closed" || ia.Interval != 100*time.Millisecond || ia.PID == 0 || ia.Host == "" {
		t.Errorf("instance fields %+v", ia)
	}

	// Every telemetry key has a TTL.
	for _, key := range []string{telemetryInstances, telemetryKey("api-1"), telemetryKey("api-2")} {
		if ttl := reader.PTTL(ctx, key).Val(); ttl <= 0 {
			t.Errorf("%s has no TTL (%v)", key, ttl)
		}
	}
	if ttl := reader.PTTL(ctx, telemetryKey("api-1")).Val(); ttl > 300*time.Millisecond {
		t.Errorf("instance hash lives %v, want at most three intervals", ttl)
	}

	// An instance that stops is dropped at once.
	_ = b.Close()
	_ = b.Close() // idempotent
	waitTelemetry(t, reader, "api-2 to disappear", func(in []TelemetryInstance) bool {
		return len(in) == 1 && in[0].ID == "api-1"
	})
}

func TestTelemetryReadIsBoundedWhateverTheKeyspace(t *testing.T) {
	_, srv, rdb := newRealCache(t, Options{})
	populate(t, rdb, "big:%d", 100_000)
	c, err := New(Options{Redis: rdb, Telemetry: 100 * time.Millisecond, InstanceID: "one", Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// An instance silent for hours is trimmed from the list by writers.
	rdb.ZAdd(context.Background(), telemetryInstances, redis.Z{Score: 1, Member: "ancient"})
	waitFor(t, "the ancient instance to be trimmed", 10*time.Second, func() bool {
		return rdb.ZScore(context.Background(), telemetryInstances, "ancient").Err() == redis.Nil
	})
	// A dead instance: listed recently, but its report expired.
	rdb.ZAdd(context.Background(), telemetryInstances, redis.Z{Score: float64(time.Now().UnixMilli()), Member: "dead"})

	reader := redis.NewClient(srv.Options())
	defer reader.Close()
	counter := countCommands(reader)
	got := waitTelemetry(t, reader, "one instance", func(in []TelemetryInstance) bool { return len(in) == 1 })
	if got[0].ID != "one" {
		t.Fatalf("read %+v", got)
	}
	before := counter.total()
	if _, err := ReadTelemetry(context.Background(), reader); err != nil {
		t.Fatal(err)
	}
	// ZREVRANGE, then one HGETALL per listed instance (2): 3 commands.
	if n := counter.total() - before; n != 3 {
		t.Fatalf("a read sent %d commands on a 100k-key server, want 3", n)
	}
}

func TestTelemetryIgnoresMalformedReports(t *testing.T) {
	_, _, rdb := newRealCache(t, Options{})
	ctx := context.Background()
	rdb.ZAdd(ctx, telemetryInstances, redis.Z{Score: 2, Member: "bad"}, redis.Z{Score: 1, Member: "future"})
	rdb.HSet(ctx, telemetryKey("bad"), "v", "1", "id", "bad\x1b[2J", "ns:x:hits", "lots", "ns:broken", "1", "lim::allowed", "4")
	rdb.HSet(ctx, telemetryKey("future"), "v", "2", "id", "future")
	got, err := ReadTelemetry(ctx, rdb)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "bad\x1b[2J" || got[0].Namespaces["x"].Hits != 0 || got[0].Limiters[""].Allowed != 4 {
		t.Fatalf("read %+v", got)
	}
	if got, err := ReadTelemetry(ctx, redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})); err == nil || got != nil {
		t.Fatal("an unreachable server must be an error")
	}
	if _, err := New(Options{Redis: rdb, Telemetry: -time.Second}); err == nil {
		t.Fatal("negative telemetry interval accepted")
	}
}
