package cachecore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/redis/go-redis/v9"
)

func TestLimiterFailOpenAndClosed(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	// Without retries, so a refused connection fails at once.
	opts := srv.Options()
	opts.MaxRetries, opts.DialerRetries = -1, 1
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	open := NewLimiter(rdb, LimiterOptions{FailOpen: true})
	closed := NewLimiter(rdb, LimiterOptions{})
	ctx := context.Background()
	limit := PerSecond(10)
	for _, l := range []*Limiter{open, closed} {
		if _, err := l.Allow(ctx, "login:x", limit); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*Limiter{open, closed} {
		for _, a := range limiterAlgorithms {
			limit.Algorithm = a
			limit.Burst = 0
			res, err := l.Allow(ctx, "login:x", limit)
			if err == nil {
				t.Fatalf("FailOpen=%v %v: no error with Redis stopped", l.failOpen, a)
			}
			if errors.Is(err, ErrInvalidLimit) || errors.Is(err, ErrInvalidKey) {
				t.Fatalf("FailOpen=%v: a Redis failure reported as bad input: %v", l.failOpen, err)
			}
			if res.Allowed != l.failOpen {
				t.Errorf("FailOpen=%v %v: Allowed=%v", l.failOpen, a, res.Allowed)
			}
			if res.Remaining != 0 || res.RetryAfter != 0 || res.ResetAfter != 0 {
				t.Errorf("FailOpen=%v: made-up numbers without Redis: %+v", l.failOpen, res)
			}
		}
		if err := l.Reset(ctx, "login:x"); err == nil {
			t.Errorf("Reset with Redis stopped: no error")
		}
	}
	if st := open.Stats().ByName["login"]; st != (LimiterCounts{Allowed: 4, Errors: 3}) {
		t.Errorf("fail-open stats %+v", st)
	}
	if st := closed.Stats().ByName["login"]; st != (LimiterCounts{Allowed: 1, Denied: 3, Errors: 3}) {
		t.Errorf("fail-closed stats %+v", st)
	}
}

func TestLimiterHungServerHonoursDeadlines(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t) // ContextTimeoutEnabled
	for _, inFlight := range []int{-1, 1} {
		l := NewLimiter(rdb, LimiterOptions{FailOpen: true, MaxInFlight: inFlight})
		limit := PerSecond(1000)
		if _, err := l.Allow(context.Background(), "hung:k", limit); err != nil {
			t.Fatal(err)
		}
		if err := srv.Pause(); err != nil {
			t.Fatal(err)
		}
		// More callers than MaxInFlight, so some wait in the batch queue.
		errs := make(chan error, 20)
		for i := 0; i < 20; i++ {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				res, err := l.Allow(ctx, "hung:k", limit)
				if err == nil || !res.Allowed {
					err = fmt.Errorf("paused server: Allowed=%v err=%v, want fail-open with an error", res.Allowed, err)
				} else {
					err = nil
				}
				errs <- err
			}()
		}
		for i := 0; i < 20; i++ {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		if err := srv.Resume(); err != nil {
			t.Fatal(err)
		}
		// The limiter recovers: no slot stays stuck on the paused server.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		for {
			_, err := l.Allow(ctx, "hung:k", limit)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("MaxInFlight=%d: no decision after the server resumed: %v", inFlight, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
	}
}

func TestLimiterNoScriptFallback(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	for _, inFlight := range []int{-1, 1} {
		l := NewLimiter(rdb, LimiterOptions{MaxInFlight: inFlight})
		for _, a := range limiterAlgorithms {
			limit := Limit{Algorithm: a, Rate: 1000, Period: time.Second}
			if _, err := l.Allow(ctx, "ns:k", limit); err != nil {
				t.Fatal(err)
			}
			if err := rdb.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			// Concurrent calls, so with MaxInFlight 1 most go through a
			// pipeline whose EVALSHAs all answer NOSCRIPT.
			errs := make(chan error, 30)
			for i := 0; i < 30; i++ {
				go func() { _, err := l.Allow(ctx, "ns:k", limit); errs <- err }()
			}
			for i := 0; i < 30; i++ {
				if err := <-errs; err != nil {
					t.Fatalf("MaxInFlight=%d %v after SCRIPT FLUSH: %v", inFlight, a, err)
				}
			}
			sha := limiterScriptFor(a).Hash()
			if ok, err := rdb.ScriptExists(ctx, sha).Result(); err != nil || !ok[0] {
				t.Fatalf("%v: script not cached again after the fallback (%v, %v)", a, ok, err)
			}
		}
	}
	// Decisions normally go by EVALSHA; EVAL is only the fallback.
	l := NewLimiter(rdb, LimiterOptions{})
	limiterAllowN(t, l, "ns:seq", PerSecond(1000), 1) // caches the GCRA script again
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		limiterAllowN(t, l, "ns:seq", PerSecond(1000), 1)
	}
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	if evalsha, eval := limiterCommandCalls(info, "evalsha"), limiterCommandCalls(info, "eval"); evalsha != 20 || eval != 0 {
		t.Errorf("20 decisions made %d EVALSHA and %d EVAL, want 20 and 0", evalsha, eval)
	}
}

// limiterCommandCalls reads calls=N of cmdstat_<name> from INFO
// commandstats.
func limiterCommandCalls(info, name string) int {
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+name+":calls="); ok {
			var n int
			fmt.Sscanf(rest, "%d", &n)
			return n
		}
	}
	return 0
}

func TestLimiterCorruptStateIsAnError(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	for _, failOpen := range []bool{false, true} {
		l := NewLimiter(rdb, LimiterOptions{FailOpen: failOpen})
		for _, a := range limiterAlgorithms {
			limit := Limit{Algorithm: a, Rate: 5, Period: time.Minute}
			for _, bad := range []func(key string) error{
				func(key string) error { return rdb.Set(ctx, key, "not a state", time.Minute).Err() },
				func(key string) error { return rdb.Set(ctx, key, "nan:inf:nan", time.Minute).Err() },
				func(key string) error { return rdb.Set(ctx, key, "1:1e999", time.Minute).Err() },
				func(key string) error { return rdb.RPush(ctx, key, "x").Err() },
			} {
				_ = rdb.Del(ctx, l.stateKey("bad:k", a))
				if err := bad(l.stateKey("bad:k", a)); err != nil {
					t.Fatal(err)
				}
				res, err := l.Allow(ctx, "bad:k", limit)
				if err == nil {
					t.Errorf("FailOpen=%v %v: corrupt state gave %+v and no error", failOpen, a, res)
				}
				if res.Allowed != failOpen {
					t.Errorf("FailOpen=%v %v: Allowed=%v", failOpen, a, res.Allowed)
				}
			}
		}
	}
}
