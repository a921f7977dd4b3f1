package cachecore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// patientTimeout is the client timeouts of the tests that hang a server:
// far longer than any bound they assert, so only OpTimeout can end a call
// to a hung server in time, not the client's ReadTimeout (3s by default)
// falling back in its place.
const patientTimeout = 30 * time.Second

// newPatientCache is newRealCache with a client that dials, reads and
// writes for up to patientTimeout (context deadlines stay honoured).
func newPatientCache(t *testing.T, opts Options) (*Cache, *redistest.Server, *redis.Client) {
	t.Helper()
	s := redistest.Start(t)
	o := s.Options()
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = patientTimeout, patientTimeout, patientTimeout
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	opts.Redis, opts.Logger = rdb, quietLogger
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, s, rdb
}

func TestRedisDownGetOrSetServesLoaderAndBreakerCycles(t *testing.T) {
	c, s, rdb := newPatientCache(t, Options{
		OpTimeout:        100 * time.Millisecond,
		BreakerThreshold: 3,
		BreakerCooldown:  300 * time.Millisecond,
	})
	counter := countCommands(rdb)
	ctx := context.Background()
	load := func(i int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { return i, nil }
	}
	if v, err := GetOrSet(ctx, c, "k:0", 0, load(0)); err != nil || v != 0 {
		t.Fatal(v, err)
	}

	// A hung server (SIGSTOP): every call still returns the loader's value,
	// bounded by OpTimeout per round trip rather than hanging.
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		start := time.Now()
		v, err := GetOrSet(ctx, c, fmt.Sprintf("k:%d", i), 0, load(i))
		if err != nil || v != i {
			t.Fatalf("GetOrSet with Redis hung = %v, %v", v, err)
		}
		// Far above 3 round trips of 100ms, far below patientTimeout: this
		// catches a call bounded by anything but OpTimeout, not slowness.
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("GetOrSet took %v with Redis hung: not bounded by OpTimeout", d)
		}
	}
	if st := c.Stats().Breaker; st.State != BreakerOpen || st.Opens != 1 {
		t.Fatalf("breaker after repeated failures: %+v", st)
	}

	// While open, calls fail fast without touching Redis.
	before := counter.total()
	for i := 10; i < 30; i++ {
		if v, err := GetOrSet(ctx, c, fmt.Sprintf("k:%d", i), 0, load(i)); err != nil || v != i {
			t.Fatal(v, err)
		}
	}
	if sent := counter.total() - before; sent != 0 {
		t.Fatalf("%d commands sent to Redis with the breaker open", sent)
	}
	var x int
	if err := c.Get(ctx, "k:0", &x); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("Get with breaker open: %v", err)
	}

	// Redis comes back: after the cooldown a probe succeeds and closes it.
	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "breaker to close", 10*time.Second, func() bool {
		_, _ = GetOrSet(ctx, c, "probe", 0, load(1))
		return c.Stats().Breaker.State == BreakerClosed
	})
	if err := c.Get(ctx, "k:0", &x); err != nil || x != 0 {
		t.Fatalf("Get after recovery: %v %v", x, err)
	}
}

func TestRedisStoppedGetOrSetStillServes(t *testing.T) {
	c, s, _ := newRealCache(t, Options{OpTimeout: 100 * time.Millisecond, BreakerThreshold: 2, BreakerCooldown: 200 * time.Millisecond})
	ctx := context.Background()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		v, err := GetOrSet(ctx, c, "k", 0, func(context.Context) (string, error) { return "from db", nil })
		if err != nil || v != "from db" {
			t.Fatalf("GetOrSet with Redis stopped: %q, %v", v, err)
		}
	}
	if c.Stats().Breaker.State != BreakerOpen {
		t.Fatal("breaker did not open with Redis stopped")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "recovery after restart", 10*time.Second, func() bool {
		_, _ = GetOrSet(ctx, c, "k", 0, func(context.Context) (string, error) { return "from db", nil })
		var v string
		return c.Get(ctx, "k", &v) == nil && v == "from db"
	})
}

func TestBreakerStateMachine(t *testing.T) {
	now := time.Unix(0, 0)
	b := breaker{threshold: 2, cooldown: time.Second, now: func() time.Time { return now }}
	fail := func() {
		ok, probe := b.allow()
		if !ok {
			t.Fatal("closed breaker refused a call")
		}
		b.record(outcomeFailure, probe)
	}
	fail()
	if b.stats().State != BreakerClosed {
		t.Fatal("opened below threshold")
	}
	fail()
	if b.stats().State != BreakerOpen {
		t.Fatal("did not open at threshold")
	}
	if ok, _ := b.allow(); ok {
		t.Fatal("open breaker let a call through before the cooldown")
	}
	now = now.Add(time.Second)
	ok, probe := b.allow()
	if !ok || !probe {
		t.Fatal("no probe after cooldown")
	}
	if ok, _ := b.allow(); ok {
		t.Fatal("second call let through while probing")
	}
	b.record(outcomeFailure, true)
	if b.stats().State != BreakerOpen || b.stats().Opens != 2 {
		t.Fatalf("failed probe: %+v", b.stats())
	}
	now = now.Add(time.Second)
	ok, probe = b.allow()
	// A caller that gives up says nothing: the next call probes again.
	b.record(outcomeUnknown, probe)
	ok, probe = b.allow()
	if !ok || !probe {
		t.Fatal("probe slot not released after an unknown outcome")
	}
	b.record(outcomeSuccess, probe)
	if b.stats().State != BreakerClosed {
		t.Fatal("successful probe did not close the breaker")
	}
}
