package cachecore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"
)

func TestNewRequiresClient(t *testing.T) {
	if _, err := New(Options{}); !errors.Is(err, errNoClient) {
		t.Fatalf("New without client: %v", err)
	}
}

func TestGetSetRoundTripAndMiss(t *testing.T) {
	c, _, rdb := newRealCache(t, Options{Namespace: "app"})
	ctx := context.Background()
	want := product{ID: 1, Name: "lamp", Price: 9.5}
	if err := c.Set(ctx, "product:1", want, time.Minute); err != nil {
		t.Fatal(err)
	}
	var got product
	if err := c.Get(ctx, "product:1", &got); err != nil || got != want {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, want)
	}
	// The namespace prefixes the real key.
	if n, _ := rdb.Exists(ctx, "app:product:1").Result(); n != 1 {
		t.Fatal("key not stored under the namespace prefix")
	}
	if err := c.Get(ctx, "product:2", &got); !errors.Is(err, ErrMiss) {
		t.Fatalf("Get of absent key = %v, want ErrMiss", err)
	}
	s := c.Stats()
	if s.Hits != 1 || s.Misses != 1 || s.Sets != 1 || s.Namespaces["product"].Hits != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestTTLRulesAndJitter(t *testing.T) {
	c, _, rdb := newRealCache(t, Options{DefaultTTL: 20 * time.Minute, TTLJitter: 0.2})
	ctx := context.Background()

	// Explicit TTL: jitter shortens it by less than 20%, never lengthens it.
	var min, max time.Duration = time.Hour, 0
	for i := 0; i < 200; i++ {
		key := fmt.Sprintf("k:%d", i)
		if err := c.Set(ctx, key, i, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		pttl := rdb.PTTL(ctx, key).Val()
		if pttl > 10*time.Second || pttl < 8*time.Second-50*time.Millisecond {
			t.Fatalf("PTTL %v outside [8s, 10s]", pttl)
		}
		min, max = minDur(min, pttl), maxDur(max, pttl)
	}
	if max-min < 200*time.Millisecond {
		t.Fatalf("TTLs of 200 keys spread over only %v: no jitter", max-min)
	}

	// TTL 0 means DefaultTTL.
	if err := c.Set(ctx, "d", 1, 0); err != nil {
		t.Fatal(err)
	}
	if pttl := rdb.PTTL(ctx, "d").Val(); pttl > 20*time.Minute || pttl < 16*time.Minute-time.Second {
		t.Fatalf("default TTL gave PTTL %v", pttl)
	}

	// Negative TTL is an error and writes nothing.
	if err := c.Set(ctx, "neg", 1, -time.Second); !errors.Is(err, ErrInvalidTTL) {
		t.Fatalf("negative TTL: %v", err)
	}
	if rdb.Exists(ctx, "neg").Val() != 0 {
		t.Fatal("negative TTL wrote the key")
	}

	// A sub-millisecond TTL becomes 1ms: accepted, and the key expires.
	if err := c.Set(ctx, "tiny", 1, 300*time.Microsecond); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for rdb.Exists(ctx, "tiny").Val() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("key with a sub-millisecond TTL never expired")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestJitterDisabled(t *testing.T) {
	c, _ := newMiniCache(t, Options{TTLJitter: -1})
	for i := 0; i < 50; i++ {
		if got := c.jitter(1500 * time.Millisecond); got != 1500*time.Millisecond {
			t.Fatalf("jitter disabled but got %v", got)
		}
	}
	if got := c.jitter(0); got != time.Millisecond {
		t.Fatalf("jitter(0) = %v, want the 1ms floor", got)
	}
}

func TestBadInputIsAnError(t *testing.T) {
	c, mr := newMiniCache(t, Options{})
	ctx := context.Background()
	var p product
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"get empty key", c.Get(ctx, "", &p), ErrInvalidKey},
		{"get nil dst", c.Get(ctx, "k", nil), ErrInvalidDestination},
		{"get non-pointer dst", c.Get(ctx, "k", p), ErrInvalidDestination},
		{"get typed nil pointer", c.Get(ctx, "k", (*product)(nil)), ErrInvalidDestination},
		{"set empty key", c.Set(ctx, "", 1, 0), ErrInvalidKey},
		{"set unencodable", c.Set(ctx, "k", func() {}, 0), ErrEncode},
		{"set channel", c.Set(ctx, "k", make(chan int), 0), ErrEncode},
		{"mset empty key", c.MSet(ctx, map[string]any{"a": 1, "": 2}, 0), ErrInvalidKey},
		{"mset negative ttl", c.MSet(ctx, map[string]any{"a": 1}, -1), ErrInvalidTTL},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if _, err := c.Delete(ctx, "a", ""); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("delete with empty key: %v", err)
	}
	if _, err := GetOrSet[int](ctx, c, "k", 0, nil); err == nil {
		t.Error("GetOrSet with nil loader: no error")
	}
	if _, err := GetOrSet(ctx, c, "", 0, func(context.Context) (int, error) { return 1, nil }); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("GetOrSet empty key: %v", err)
	}
	if _, err := MGet[int](ctx, c, "a", ""); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("MGet empty key: %v", err)
	}
	if len(mr.Keys()) != 0 {
		t.Fatalf("bad input wrote keys: %v", mr.Keys())
	}
}

func TestForeignValueIsACountedMiss(t *testing.T) {
	c, mr := newMiniCache(t, Options{})
	ctx := context.Background()
	mr.Set("legacy", `{"id":1}`) // written by another program: no header
	var p product
	if err := c.Get(ctx, "legacy", &p); !errors.Is(err, ErrMiss) {
		t.Fatalf("foreign value: %v, want ErrMiss", err)
	}
	// A header of an unknown future version is foreign too.
	mr.Set("future", string([]byte{envelopeMagic, 9, 0, '1'}))
	if err := c.Get(ctx, "future", &p); !errors.Is(err, ErrMiss) {
		t.Fatalf("future format: %v, want ErrMiss", err)
	}
	// A valid envelope that does not fit the destination type.
	if err := c.Set(ctx, "text", "not a product", 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, "text", &p); !errors.Is(err, ErrMiss) {
		t.Fatalf("mismatched type: %v, want ErrMiss", err)
	}
	s := c.Stats()
	if s.ErrorsByOp["decode"] != 3 || s.Misses != 3 || s.Hits != 0 {
		t.Fatalf("decode errors=%d misses=%d hits=%d", s.ErrorsByOp["decode"], s.Misses, s.Hits)
	}
	// GetOrSet replaces an undecodable value with a loaded one.
	got, err := GetOrSet(ctx, c, "legacy", time.Minute, func(context.Context) (product, error) {
		return product{ID: 1, Name: "fresh"}, nil
	})
	if err != nil || got.Name != "fresh" {
		t.Fatalf("GetOrSet over foreign value = %+v, %v", got, err)
	}
	if err := c.Get(ctx, "legacy", &p); err != nil || p.Name != "fresh" {
		t.Fatalf("value not replaced: %+v %v", p, err)
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	exp := time.UnixMilli(1_700_000_000_123)
	b := encodeEnvelope([]byte(`{"a":1}`), false, &refreshMeta{expiresAt: exp, load: 1500 * time.Microsecond})
	env, err := DecodeEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	if !env.ExpiresAt.Equal(exp) || env.LoadDuration != 1500*time.Microsecond || string(env.Payload) != `{"a":1}` || env.Negative {
		t.Fatalf("round trip: %+v", env)
	}
	neg, err := DecodeEnvelope(encodeEnvelope(nil, true, nil))
	if err != nil || !neg.Negative || len(neg.Payload) != 0 {
		t.Fatalf("negative: %+v %v", neg, err)
	}
	for _, bad := range [][]byte{nil, {envelopeMagic}, {envelopeMagic, envelopeVersion, flagMeta, 1, 2}, []byte("plain")} {
		if _, err := DecodeEnvelope(bad); err == nil {
			t.Errorf("DecodeEnvelope(%q) accepted", bad)
		}
	}
}

func TestDeleteCountsPerNamespace(t *testing.T) {
	c, _, rdb := newRealCache(t, Options{Namespace: "ns"})
	ctx := context.Background()
	for _, k := range []string{"a:1", "a:2", "b:1"} {
		if err := c.Set(ctx, k, 1, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Delete(ctx, "a:1"); err != nil || n != 1 {
		t.Fatalf("Delete one = %d, %v", n, err)
	}
	if n, err := c.Delete(ctx, "a:2", "b:1", "b:absent"); err != nil || n != 2 {
		t.Fatalf("Delete many = %d, %v", n, err)
	}
	if rdb.DBSize(ctx).Val() != 0 {
		t.Fatal("keys left after Delete")
	}
	s := c.Stats()
	if s.Namespaces["a"].Invalidations != 2 || s.Namespaces["b"].Invalidations != 1 || s.Invalidations != 3 {
		t.Fatalf("invalidations: %+v", s.Namespaces)
	}
}

func TestSafeGetNeverErrorsAndLogsRateLimited(t *testing.T) {
	logs := &logBuffer{}
	c, s, _ := newRealCache(t, Options{
		Logger:           slog.New(slog.NewTextHandler(logs, nil)),
		LogInterval:      time.Hour,
		BreakerThreshold: -1,
		OpTimeout:        50 * time.Millisecond,
	})
	ctx := context.Background()
	if err := c.Set(ctx, "k", 1, 0); err != nil {
		t.Fatal(err)
	}
	var v int
	if !c.SafeGet(ctx, "k", &v) || v != 1 {
		t.Fatal("SafeGet missed a present key")
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if c.SafeGet(ctx, "k", &v) {
			t.Fatal("SafeGet reported a hit with Redis down")
		}
	}
	st := c.Stats()
	if st.ErrorsByOp["get"] != 30 || st.Misses != 30 || st.Hits != 1 {
		t.Fatalf("errors=%d misses=%d hits=%d", st.ErrorsByOp["get"], st.Misses, st.Hits)
	}
	if n := len(logs.lines()); n != 1 {
		t.Fatalf("logged %d lines for 30 failures within one interval, want 1:\n%v", n, logs.lines())
	}
}

func TestCountersExactUnderConcurrency(t *testing.T) {
	c, _, _ := newRealCache(t, Options{})
	ctx := context.Background()
	if err := c.Set(ctx, "hot:1", 1, 0); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var v int
			for i := 0; i < 40; i++ {
				_ = c.Get(ctx, "hot:1", &v)
				_ = c.Get(ctx, fmt.Sprintf("cold:%d:%d", g, i), &v)
			}
		}(g)
	}
	wg.Wait()
	s := c.Stats()
	if s.Namespaces["hot"].Hits != 2000 || s.Namespaces["cold"].Misses != 2000 || s.Hits != 2000 || s.Misses != 2000 {
		t.Fatalf("counts not exact: %+v", s.Namespaces)
	}
}

func TestNamespaceCardinalityCap(t *testing.T) {
	c, _ := newMiniCache(t, Options{MaxNamespaces: 3})
	ctx := context.Background()
	var v int
	for i := 0; i < 10; i++ {
		_ = c.Get(ctx, fmt.Sprintf("ns%d:key", i), &v)
	}
	_ = c.Get(ctx, "nocolon", &v)
	s := c.Stats()
	if len(s.Namespaces) != 4 { // 3 named + other
		t.Fatalf("namespaces = %v", s.Namespaces)
	}
	if s.Namespaces[overflowNamespace].Misses != 8 || s.Misses != 11 {
		t.Fatalf("overflow misses = %d, total %d", s.Namespaces[overflowNamespace].Misses, s.Misses)
	}
}

func minDur(a, b time.Duration) time.Duration {
	if a < b {
		return a
	}
	return b
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}
