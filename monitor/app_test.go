package monitor

import (
	"context"
	"fmt"
	"math"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
)

// roundTrips counts what a client sends: each command sent alone and each
// pipeline is one round trip.
type roundTrips struct{ trips, commands atomic.Int64 }

func (c *roundTrips) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.trips.Add(1)
		c.commands.Add(1)
		return next(ctx, cmd)
	}
}

func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.trips.Add(1)
		c.commands.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func newTelemetryCache(t *testing.T, s *testServer, id string) *cachecore.Cache {
	t.Helper()
	rdb := redis.NewClient(s.Options())
	t.Cleanup(func() { _ = rdb.Close() })
	c, err := cachecore.New(cachecore.Options{Redis: rdb, Telemetry: 100 * time.Millisecond, InstanceID: id})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func instanceByID(s *AppSnapshot, id string) *AppInstance {
	for i := range s.Instances {
		if s.Instances[i].ID == id {
			return &s.Instances[i]
		}
	}
	return nil
}

func namespace(list []NamespaceRates, name string) NamespaceRates {
	for _, n := range list {
		if n.Name == name {
			return n
		}
	}
	return NamespaceRates{}
}

func TestAppPollerAgainstTwoCaches(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := context.Background()
	a, b := newTelemetryCache(t, s, "api-1"), newTelemetryCache(t, s, "api-2")
	lim := cachecore.NewLimiter(s.admin, cachecore.LimiterOptions{})
	a.ReportLimiter(lim)
	if err := a.Set(ctx, "product:1", 1, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, "product:1", 1, 0); err != nil {
		t.Fatal(err)
	}

	counter := &roundTrips{}
	s.watched.AddHook(counter)
	p := NewAppPoller(s.watched, AppOptions{Window: time.Hour})
	if first := p.Poll(ctx); first.Err != nil {
		t.Fatal(first.Err)
	}
	// The baseline: both instances seen before the traffic.
	eventually(t, "both instances", func() bool { return len(p.Poll(ctx).Instances) == 2 })

	var v int
	for i := 0; i < 30; i++ {
		_ = a.Get(ctx, "product:1", &v)
		_ = b.Get(ctx, fmt.Sprintf("product:miss:%d", i), &v)
	}
	for i := 0; i < 10; i++ {
		_ = a.Get(ctx, fmt.Sprintf("product:miss:%d", i), &v)
		_ = b.Get(ctx, "product:1", &v)
		_ = b.Get(ctx, fmt.Sprintf("user:%d", i), &v)
	}
	for i := 0; i < 5; i++ {
		_, _ = lim.Allow(ctx, "login:alice", cachecore.Limit{Algorithm: cachecore.FixedWindow, Rate: 3, Period: time.Minute})
	}
	wantA, wantB := a.Stats(), b.Stats()
	var snap *AppSnapshot
	eventually(t, "reports with the final counts", func() bool {
		snap = p.Poll(ctx)
		ia, ib := instanceByID(snap, "api-1"), instanceByID(snap, "api-2")
		return ia != nil && ib != nil && ia.RatesValid && ib.RatesValid &&
			namespace(ia.Namespaces, "product").Counts == wantA.Namespaces["product"] &&
			namespace(ib.Namespaces, "product").Counts == wantB.Namespaces["product"] &&
			namespace(ib.Namespaces, "user").Counts == wantB.Namespaces["user"] &&
			len(ia.Limiters) == 1 && ia.Limiters[0].Counts.Denied == 2
	})

	ia, ib := instanceByID(snap, "api-1"), instanceByID(snap, "api-2")
	pa, pb := namespace(ia.Namespaces, "product"), namespace(ib.Namespaces, "product")
	if !pa.HitRateValid || pa.HitRate != 0.75 || !pb.HitRateValid || pb.HitRate != 0.25 {
		t.Fatalf("instance hit rates: api-1 %v, api-2 %v", pa.HitRate, pb.HitRate)
	}
	if math.Abs(pa.HitsPerSec/pa.MissesPerSec-3) > 1e-9 || pa.ErrorsPerSec != 0 {
		t.Fatalf("api-1 rates %+v", pa)
	}
	if snap.Live != 2 || snap.NoInstances || ia.Stale || ia.Breaker != "closed" || ia.Interval != 100*time.Millisecond {
		t.Fatalf("snapshot: live %d, instance %+v", snap.Live, ia)
	}
	// Summed over the instances: 40 hits and 40 misses on product, 10
	// misses on user; the limiter denied 2 of 5.
	sp, su := namespace(snap.Namespaces, "product"), namespace(snap.Namespaces, "user")
	if sp.HitRate != 0.5 || !sp.HitRateValid || sp.Counts.Hits != 40 || sp.Counts.Misses != 40 {
		t.Fatalf("product summed: %+v", sp)
	}
	if !su.HitRateValid || su.HitRate != 0 || su.MissesPerSec <= 0 {
		t.Fatalf("user summed: %+v", su)
	}
	if snap.Total.Counts.Hits != 40 || snap.Total.Counts.Misses != 50 || math.Abs(snap.Total.HitRate-40.0/90) > 1e-12 {
		t.Fatalf("total: %+v", snap.Total)
	}
	if len(snap.Limiters) != 1 || snap.Limiters[0].Name != "login" || snap.Limiters[0].DenyRatio != 0.4 {
		t.Fatalf("limiters %+v", snap.Limiters)
	}
	n := len(snap.HistoryTimes)
	if n < 3 || len(sp.History.HitRate) != n || len(snap.Total.History.HitsPerSec) != n || len(snap.Limiters[0].History.DenyRatio) != n {
		t.Fatalf("history lengths: %d times, %d, %d", n, len(sp.History.HitRate), len(snap.Total.History.HitsPerSec))
	}
	if last := sp.History.HitRate[n-1]; last != 0.5 {
		t.Fatalf("last hit-rate point %v", last)
	}

	// Every read is ReadTelemetry's two round trips (ZREVRANGE, then one
	// pipeline of an HGETALL per instance), whatever the keyspace holds.
	measure := func() (int64, int64) {
		trips, cmds := counter.trips.Load(), counter.commands.Load()
		p.Poll(ctx)
		return counter.trips.Load() - trips, counter.commands.Load() - cmds
	}
	if trips, cmds := measure(); trips != 2 || cmds != 3 {
		t.Fatalf("a read took %d round trips, %d commands; want 2 and 3", trips, cmds)
	}
	for i := 0; i < 20; i++ {
		pipe := s.admin.Pipeline()
		for j := 0; j < 1000; j++ {
			pipe.Set(ctx, fmt.Sprintf("filler:%d:%d", i, j), "x", 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if trips, cmds := measure(); trips != 2 || cmds != 3 {
		t.Fatalf("with 20,000 more keys a read took %d round trips, %d commands; want 2 and 3", trips, cmds)
	}

	// An instance that stops is dropped.
	_ = b.Close()
	eventually(t, "api-2 to be dropped", func() bool {
		snap = p.Poll(ctx)
		return len(snap.Instances) == 1 && snap.Instances[0].ID == "api-1"
	})

	// An instance that restarts (same id, new process) is rebaselined:
	// never a negative rate.
	_ = a.Close()
	a2 := newTelemetryCache(t, s, "api-1")
	eventually(t, "the restarted api-1", func() bool {
		snap = p.Poll(ctx)
		i := instanceByID(snap, "api-1")
		return i != nil && !i.Stale && namespace(i.Namespaces, "product").Counts.Hits == 0
	})
	i := instanceByID(snap, "api-1")
	if i.RatesValid {
		t.Fatalf("rates across a restart: %+v", i)
	}
	_ = a2.Get(ctx, "product:1", &v)
	eventually(t, "rates after the restart", func() bool {
		snap = p.Poll(ctx)
		i = instanceByID(snap, "api-1")
		return i != nil && i.RatesValid && namespace(i.Namespaces, "product").Counts.Hits == 1
	})
	if pr := namespace(i.Namespaces, "product"); pr.HitRate != 1 || pr.HitsPerSec <= 0 || pr.MissesPerSec != 0 {
		t.Fatalf("after the restart: %+v", pr)
	}

	// When nothing reports, the snapshot says so.
	_ = a2.Close()
	eventually(t, "no instance", func() bool { return p.Poll(ctx).NoInstances })
}
