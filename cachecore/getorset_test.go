package cachecore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestGetOrSetLoadsOnceForThousandCallers(t *testing.T) {
	c, s, _ := newRealCache(t, Options{OpTimeout: 5 * time.Second})
	// Enough connections that 1000 simultaneous reads do not time out
	// waiting for the pool on a loaded machine.
	c.rdb = redis.NewClient(&redis.Options{Addr: s.Addr, PoolSize: 100, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.rdb.Close() })

	var calls atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			v, err := GetOrSet(context.Background(), c, "product:1", time.Minute, func(context.Context) (product, error) {
				calls.Add(1)
				time.Sleep(50 * time.Millisecond)
				return product{ID: 1, Name: "lamp"}, nil
			})
			if err == nil && v.Name != "lamp" {
				err = fmt.Errorf("got %+v", v)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("loader called %d times, want 1", n)
	}
	st := c.Stats()
	if st.Loads != 1 || st.Hits+st.Misses != 1000 || st.Sets != 1 {
		t.Fatalf("loads=%d hits=%d misses=%d sets=%d", st.Loads, st.Hits, st.Misses, st.Sets)
	}
}

func TestGetOrSetLoaderPanicIsAnErrorForAllWaiters(t *testing.T) {
	c, _ := newMiniCache(t, Options{})
	var wg sync.WaitGroup
	release := make(chan struct{})
	var panics atomic.Int64
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := GetOrSet(context.Background(), c, "boom", 0, func(context.Context) (int, error) {
				<-release
				panic("database on fire")
			})
			if errors.Is(err, ErrLoaderPanic) && strings.Contains(err.Error(), "database on fire") {
				panics.Add(1)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the callers join one flight
	close(release)
	wg.Wait()
	if panics.Load() != 20 {
		t.Fatalf("%d of 20 callers got ErrLoaderPanic", panics.Load())
	}
	if c.Stats().ErrorsByOp["load"] == 0 {
		t.Fatal("loader panic not counted as a load error")
	}
	// Nothing was cached: the next call loads again.
	v, err := GetOrSet(context.Background(), c, "boom", 0, func(context.Context) (int, error) { return 7, nil })
	if err != nil || v != 7 {
		t.Fatalf("after panic: %v %v", v, err)
	}
}

func TestGetOrSetFirstCallerCancellingDoesNotFailOthers(t *testing.T) {
	c, _ := newMiniCache(t, Options{})
	var calls atomic.Int64
	loaderCtxErr := make(chan error, 1)
	load := func(ctx context.Context) (string, error) {
		calls.Add(1)
		time.Sleep(200 * time.Millisecond)
		loaderCtxErr <- ctx.Err()
		return "value", nil
	}
	firstCtx, cancel := context.WithCancel(context.Background())
	firstDone := make(chan error, 1)
	go func() {
		_, err := GetOrSet(firstCtx, c, "k", 0, load)
		firstDone <- err
	}()
	time.Sleep(30 * time.Millisecond) // the first caller started the load
	var wg sync.WaitGroup
	results := make(chan string, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := GetOrSet(context.Background(), c, "k", 0, load)
			if err != nil {
				v = err.Error()
			}
			results <- v
		}()
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-firstDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller got %v", err)
	}
	wg.Wait()
	close(results)
	for v := range results {
		if v != "value" {
			t.Fatalf("other caller got %q", v)
		}
	}
	if err := <-loaderCtxErr; err != nil {
		t.Fatalf("loader's context was cancelled with the first caller: %v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("loader called %d times", calls.Load())
	}
}

func TestGetOrSetLoadTimeoutBoundsTheLoad(t *testing.T) {
	c, _ := newMiniCache(t, Options{LoadTimeout: 50 * time.Millisecond})
	_, err := GetOrSet(context.Background(), c, "slow", 0, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("load beyond LoadTimeout: %v", err)
	}
}

func TestGetOrSetNegativeCaching(t *testing.T) {
	c, _, rdb := newRealCache(t, Options{NegativeTTL: 2 * time.Second})
	ctx := context.Background()
	var calls atomic.Int64
	load := func(context.Context) (product, error) {
		calls.Add(1)
		return product{}, fmt.Errorf("product 404: %w", ErrNotFound)
	}
	if _, err := GetOrSet(ctx, c, "product:404", time.Minute, load); !errors.Is(err, ErrNotFound) {
		t.Fatalf("first call: %v", err)
	}
	if _, err := GetOrSet(ctx, c, "product:404", time.Minute, load); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second call: %v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("loader called %d times; the negative answer was not cached", calls.Load())
	}
	if pttl := rdb.PTTL(ctx, "product:404").Val(); pttl <= 0 || pttl > 2*time.Second {
		t.Fatalf("negative entry PTTL %v, want within NegativeTTL", pttl)
	}
	var p product
	if err := c.Get(ctx, "product:404", &p); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of negative entry: %v", err)
	}
	if st := c.Stats(); st.Hits != 2 || st.Misses != 1 || st.Loads != 1 {
		t.Fatalf("stats %+v", st.Counts)
	}
	// Other loader errors are not cached.
	var failures atomic.Int64
	fail := func(context.Context) (int, error) { failures.Add(1); return 0, errors.New("db down") }
	for i := 0; i < 3; i++ {
		if _, err := GetOrSet(ctx, c, "flaky", 0, fail); err == nil || err.Error() != "db down" {
			t.Fatalf("loader error: %v", err)
		}
	}
	if failures.Load() != 3 {
		t.Fatalf("a failed load was cached: %d calls", failures.Load())
	}
}

func TestGetOrSetLeaseLoadsOnceAcrossProcesses(t *testing.T) {
	_, s, _ := newRealCache(t, Options{})
	var calls atomic.Int64
	caches := make([]*Cache, 2)
	for i := range caches {
		// Separate clients: separate connections, as two processes have.
		rdb := redis.NewClient(s.Options())
		t.Cleanup(func() { _ = rdb.Close() })
		c, err := New(Options{Redis: rdb, Lease: true, Logger: quietLogger, OpTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		caches[i] = c
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(c *Cache) {
			defer wg.Done()
			<-start
			v, err := GetOrSet(context.Background(), c, "report:daily", time.Minute, func(context.Context) (string, error) {
				calls.Add(1)
				time.Sleep(300 * time.Millisecond)
				return "big report", nil
			})
			if err != nil || v != "big report" {
				t.Errorf("got %q, %v", v, err)
			}
		}(caches[i%2])
	}
	close(start)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("loader called %d times across two caches, want 1", n)
	}
	// The lease is released after the load.
	if n := caches[0].rdb.Exists(context.Background(), caches[0].leaseKey("report:daily")).Val(); n != 0 {
		t.Fatal("lease left behind")
	}
}

func TestGetOrSetLeaseOfCrashedHolderExpires(t *testing.T) {
	c, _, rdb := newRealCache(t, Options{Lease: true, LeaseWait: 10 * time.Second})
	ctx := context.Background()
	// A holder that crashed: its lease exists and no value will come.
	if err := rdb.Set(ctx, c.leaseKey("k"), "dead-owner", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	v, err := GetOrSet(ctx, c, "k", 0, func(context.Context) (int, error) { calls.Add(1); return 42, nil })
	if err != nil || v != 42 || calls.Load() != 1 {
		t.Fatalf("got %v, %v after %d loads", v, err, calls.Load())
	}
}

func TestEarlyRefreshBeforeExpiryUnderSteadyReads(t *testing.T) {
	c, _, _ := newRealCache(t, Options{EarlyRefresh: true, EarlyRefreshBeta: 4, TTLJitter: -1})
	ctx := context.Background()
	var loads atomic.Int64
	load := func(context.Context) (int64, error) {
		time.Sleep(50 * time.Millisecond)
		return loads.Add(1), nil
	}
	stop := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(stop) {
		if _, err := GetOrSet(ctx, c, "hot", time.Second, load); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := c.Stats()
	// One miss (the cold start); every later read was a hit, although the
	// TTL ran out more than twice: the refreshes came before expiry.
	if st.Misses != 1 {
		t.Fatalf("%d misses under steady reads: the key expired before a refresh", st.Misses)
	}
	if n := loads.Load(); n < 3 {
		t.Fatalf("only %d loads in 2.5s with a 1s TTL", n)
	}
}

func TestShouldRefreshOnlyNearExpiry(t *testing.T) {
	now := time.Unix(1000, 0)
	c, _ := newMiniCache(t, Options{EarlyRefresh: true})
	c.opts.now = func() time.Time { return now }
	far := Envelope{ExpiresAt: now.Add(time.Hour), LoadDuration: 10 * time.Millisecond}
	past := Envelope{ExpiresAt: now.Add(-time.Millisecond), LoadDuration: 10 * time.Millisecond}
	noMeta := Envelope{}
	for i := 0; i < 1000; i++ {
		if c.shouldRefresh(far) {
			t.Fatal("refreshed an hour before expiry after a 10ms load")
		}
		if !c.shouldRefresh(past) {
			t.Fatal("did not refresh an expired entry")
		}
		if c.shouldRefresh(noMeta) {
			t.Fatal("refreshed an entry without metadata")
		}
	}
}
