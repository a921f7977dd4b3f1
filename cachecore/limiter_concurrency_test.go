package cachecore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/redis/go-redis/v9"
)

type limiterEvent struct {
	at      int64 // server µs since limiterEpoch
	allowed bool
}

// limiterHammer runs goroutines spread over the limiters against one key
// until the server clock passes the end of the third full window after the
// first decision, and returns every decision.
func limiterHammer(t *testing.T, ls []*Limiter, key string, limit Limit, goroutines int) []limiterEvent {
	t.Helper()
	p := limit.Period.Microseconds()
	var end atomic.Int64 // set from the first decision
	var stop atomic.Bool
	var mu sync.Mutex
	var events []limiterEvent
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(l *Limiter) {
			defer wg.Done()
			var mine []limiterEvent
			for !stop.Load() {
				r, err := l.Allow(context.Background(), key, limit)
				if err != nil {
					errs <- err
					stop.Store(true)
					break
				}
				at := limiterMicros(r)
				end.CompareAndSwap(0, (at/p+4)*p)
				if at >= end.Load() {
					stop.Store(true)
				}
				mine = append(mine, limiterEvent{at, r.Allowed})
			}
			mu.Lock()
			events = append(events, mine...)
			mu.Unlock()
		}(ls[g%len(ls)])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("%v under concurrency: %v", limit.Algorithm, err)
	}
	slices.SortFunc(events, func(a, b limiterEvent) int { return int(a.at - b.at) })
	return events
}

func limiterAdmitted(events []limiterEvent) []int64 {
	var at []int64
	for _, e := range events {
		if e.allowed {
			at = append(at, e.at)
		}
	}
	return at
}

// 200 goroutines over two Limiters on separate connections (one batching,
// one not) hit one key for three windows. Exactness is checked against the
// server time of every decision.
func TestLimiterExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	c1, c2 := srv.Client(t), srv.Client(t)
	batched := NewLimiter(c1, LimiterOptions{})
	var keysSeen atomic.Int64
	direct := NewLimiter(c2, LimiterOptions{MaxInFlight: -1})
	const rate = 30
	period := 300 * time.Millisecond
	p := period.Microseconds()

	t.Run("fixed", func(t *testing.T) {
		limit := Limit{Algorithm: FixedWindow, Rate: rate, Period: period}
		events := limiterHammer(t, []*Limiter{batched, direct}, "exact-fixed:k", limit, 200)
		// Right away: the keys live about one period (300ms), and a
		// loaded machine can be slower than that to reach the end.
		keysSeen.Add(int64(limiterAssertAllKeysHaveTTL(t, c1)))
		perWindow := map[int64]int{}
		for _, at := range limiterAdmitted(events) {
			perWindow[at/p]++
		}
		full := 0
		for w, n := range perWindow {
			if n > rate {
				t.Errorf("window %d admitted %d, limit %d", w, n, rate)
			}
			if n == rate {
				full++
			}
		}
		if full == 0 {
			t.Errorf("no window reached the limit (%v): the test did not saturate it", perWindow)
		}
		limiterCheckStats(t, events, "exact-fixed", batched, direct)
	})

	t.Run("sliding", func(t *testing.T) {
		limit := Limit{Algorithm: SlidingWindow, Rate: rate, Period: period}
		events := limiterHammer(t, []*Limiter{batched, direct}, "exact-sliding:k", limit, 200)
		// Right away: the keys live about one period (300ms), and a
		// loaded machine can be slower than that to reach the end.
		keysSeen.Add(int64(limiterAssertAllKeysHaveTTL(t, c1)))
		admitted := limiterAdmitted(events)
		perWindow := map[int64]int{}
		for _, at := range admitted {
			perWindow[at/p]++
		}
		for w, n := range perWindow {
			if n > rate {
				t.Errorf("window %d admitted %d, limit %d", w, n, rate)
			}
		}
		// The documented bound: at most rate*(1 + t/period) in any
		// interval of length t <= period.
		for i := range admitted {
			for j := i; j < len(admitted) && admitted[j]-admitted[i] <= p; j++ {
				if n, span := int64(j-i+1), admitted[j]-admitted[i]; n*p > rate*(p+span) {
					t.Fatalf("%d admitted within %dµs, bound %.2f", n, span, float64(rate)*(1+float64(span)/float64(p)))
				}
			}
		}
		if len(admitted) < rate {
			t.Errorf("only %d admitted: the test did not reach the limit", len(admitted))
		}
		limiterCheckStats(t, events, "exact-sliding", batched, direct)
	})

	t.Run("gcra", func(t *testing.T) {
		const burst = 5
		limit := Limit{Algorithm: GCRA, Rate: rate, Period: period, Burst: burst}
		events := limiterHammer(t, []*Limiter{batched, direct}, "exact-gcra:k", limit, 200)
		// Right away: the keys live about one period (300ms), and a
		// loaded machine can be slower than that to reach the end.
		keysSeen.Add(int64(limiterAssertAllKeysHaveTTL(t, c1)))
		admitted := limiterAdmitted(events)
		// GCRA's promise: at most burst + (t_j-t_i)/T admitted between
		// any two admissions, T = period/rate; in integers:
		// (count - burst) * period <= span * rate.
		for i := range admitted {
			for j := i; j < len(admitted); j++ {
				if n, span := int64(j-i+1), admitted[j]-admitted[i]; (n-burst)*p > span*rate {
					t.Fatalf("%d admitted within %dµs, GCRA allows %.2f", n, span, burst+float64(span*rate)/float64(p))
				}
			}
		}
		if len(admitted) < 2*rate {
			t.Errorf("only %d admitted over three windows: the test did not reach the limit", len(admitted))
		}
		limiterCheckStats(t, events, "exact-gcra", batched, direct)
	})

	if keysSeen.Load() == 0 {
		t.Error("no keys found after the runs")
	}
}

// limiterCheckStats compares the limiters' counts for name with the
// decisions the goroutines saw.
func limiterCheckStats(t *testing.T, events []limiterEvent, name string, ls ...*Limiter) {
	t.Helper()
	var want LimiterCounts
	for _, e := range events {
		if e.allowed {
			want.Allowed++
		} else {
			want.Denied++
		}
	}
	var got LimiterCounts
	for _, l := range ls {
		c := l.Stats().ByName[name]
		got.Allowed += c.Allowed
		got.Denied += c.Denied
		got.Errors += c.Errors
	}
	if got != want {
		t.Errorf("stats for %s: %+v, the callers saw %+v", name, got, want)
	}
}

const limiterChildEnv = "CACHESCOPE_LIMITER_CHILD_ADDR"

// TestLimiterKillChild is the process TestLimiterKilledMidRun kills: it
// makes limiter calls in a loop until killed (or, if never killed, for a
// minute).
func TestLimiterKillChild(t *testing.T) {
	addr := os.Getenv(limiterChildEnv)
	if addr == "" {
		t.Skip("helper process of TestLimiterKilledMidRunLeavesNoKeyWithoutTTL")
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	l := NewLimiter(rdb, LimiterOptions{})
	deadline := time.Now().Add(time.Minute)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				limit := Limit{Algorithm: limiterAlgorithms[i%3], Rate: 5, Period: time.Duration(1+i%7) * time.Minute}
				_, _ = l.AllowN(context.Background(), fmt.Sprintf("kill%d:%d", g, i%400), limit, 1+i%2)
			}
		}()
	}
	wg.Wait()
}

func TestLimiterKilledMidRunLeavesNoKeyWithoutTTL(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()

	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestLimiterKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), limiterChildEnv+"="+srv.Addr)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// Kill it mid-run, once it has written plenty of keys.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, err := rdb.DBSize(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n >= 1000 {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("child exited before it was killed (%v): %s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("child wrote only %d keys: %s", n, out.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited

	persistent, seen := limiterKeysWithoutTTL(ctx, t, rdb)
	if len(persistent) > 0 {
		t.Errorf("after the kill %d of %d keys have no TTL, e.g. %q", len(persistent), seen, persistent[0])
	}
	if seen < 1000 {
		t.Errorf("SCAN saw only %d keys", seen)
	}
	// The check itself finds a key without a TTL.
	if err := rdb.Set(ctx, "planted", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if persistent, _ := limiterKeysWithoutTTL(ctx, t, rdb); !slices.Contains(persistent, "planted") {
		t.Errorf("the TTL check missed a key without a TTL: %v", persistent)
	}
}
