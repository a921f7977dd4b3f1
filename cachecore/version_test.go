package cachecore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVersionedKeysAndBump(t *testing.T) {
	c, _, rdb := newRealCache(t, Options{Namespace: "app"})
	ctx := context.Background()
	k1, err := c.VersionedKey(ctx, "catalog", "product:1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k1, "catalog:v") || !strings.HasSuffix(k1, ":product:1") {
		t.Fatalf("versioned key %q", k1)
	}
	if again, _ := c.VersionedKey(ctx, "catalog", "product:1"); again != k1 {
		t.Fatalf("version changed without a bump: %q then %q", k1, again)
	}
	if err := c.Set(ctx, k1, "old", time.Minute); err != nil {
		t.Fatal(err)
	}
	v1, _ := c.Version(ctx, "catalog")
	v2, err := c.BumpVersion(ctx, "catalog")
	if err != nil || v2 != v1+1 {
		t.Fatalf("BumpVersion = %d, %v; was %d", v2, err, v1)
	}
	k2, _ := c.VersionedKey(ctx, "catalog", "product:1")
	if k2 == k1 {
		t.Fatal("bump did not change the key")
	}
	var s string
	if err := c.Get(ctx, k2, &s); !errors.Is(err, ErrMiss) {
		t.Fatalf("new version sees old data: %q %v", s, err)
	}
	// The old entry is unreachable through the API but still expires by TTL.
	if ttl := rdb.PTTL(ctx, "app:"+k1).Val(); ttl <= 0 {
		t.Fatalf("old entry has no TTL: %v", ttl)
	}
	// Versions of other names are independent.
	other, _ := c.VersionedKey(ctx, "users", "1")
	if strings.HasPrefix(other, "catalog") {
		t.Fatal(other)
	}

	// Losing the counter never brings an old version back: it restarts
	// from the clock, above any version reached by bumps.
	rdb.Del(ctx, c.versionKey("catalog"))
	v3, err := c.Version(ctx, "catalog")
	if err != nil || v3 <= v2 {
		t.Fatalf("version after losing the counter = %d (was %d), %v", v3, v2, err)
	}
	if _, err := c.VersionedKey(ctx, "", "x"); !errors.Is(err, ErrInvalidKey) {
		t.Fatal("empty name accepted")
	}
	if _, err := c.BumpVersion(ctx, ""); !errors.Is(err, ErrInvalidKey) {
		t.Fatal("empty name accepted")
	}
}

func TestHealth(t *testing.T) {
	c, s, _ := newRealCache(t, Options{})
	ctx := context.Background()
	h := c.Health(ctx)
	if h.Status != "up" || h.Latency <= 0 || h.Error != "" || h.Breaker != "closed" {
		t.Fatalf("health up: %+v", h)
	}
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	h = c.Health(ctx)
	if h.Status != "down" || h.Error == "" {
		t.Fatalf("health of a hung server: %+v", h)
	}
	if d := time.Since(start); d > 5*time.Second { // a hang detector, not a speed test
		t.Fatalf("health check took %v", d)
	}
	_ = s.Resume()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if h = c.Health(ctx); h.Status != "down" || !strings.Contains(h.Error, "refused") {
		t.Fatalf("health of a stopped server: %+v", h)
	}
}
