package monitor

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestExplorerLookupsDoNotMoveTheHitRate: while the keys explorer browses,
// inspects and reads values (each of which counts keyspace hits or misses
// on the server), the poller that shares its Lookups counter reports only
// the application's lookups.
func TestExplorerLookupsDoNotMoveTheHitRate(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	app := appClient(t, s.Server)
	app.Set(ctx, "present", "v", 0)
	for i := 0; i < 200; i++ {
		s.admin.Set(ctx, fmt.Sprintf("k:%d", i), i, time.Hour)
	}
	lookups := new(Lookups)
	keys := NewKeys(s.watched, KeysOptions{Lookups: lookups})
	clock := newFakeClock()
	p := clockedPoller(s.watched, Options{Lookups: lookups}, clock)
	pollAfter(t, p, clock, 0)

	traffic(t, app, 30, 10) // the application: 30 hits, 10 misses
	b, err := keys.Browse(Query{Pattern: "k:*"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := b.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Meta(ctx, append(page.Keys, "gone:1", "gone:2")); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.ReadValue(ctx, page.Keys[0], TypeString, ValueAt{}); err != nil {
		t.Fatal(err)
	}
	if h, m := lookups.Load(); h < 100 || m < 2 {
		t.Fatalf("the explorer counted only %d hits and %d misses", h, m)
	}
	snap := pollAfter(t, p, clock, time.Second)
	if snap.Rates.Hits != 30 || snap.Rates.Misses != 10 || snap.Rates.HitRate != 0.75 {
		t.Fatalf("rates counted the explorer's lookups: %d hits, %d misses, hit rate %v",
			snap.Rates.Hits, snap.Rates.Misses, snap.Rates.HitRate)
	}
}
