package cachecore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/cachescope/cachescope/cachecore"
	"github.com/redis/go-redis/v9"
)

// limiterExampleRedis gives the examples an in-memory Redis (miniredis)
// whose clock stands still, so their output is the same on every run, and
// a function that moves that clock. A program connects to a real server:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
func limiterExampleRedis() (rdb *redis.Client, advance func(time.Duration), stop func()) {
	mr, err := miniredis.Run()
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	mr.SetTime(now)
	rdb = redis.NewClient(&redis.Options{Addr: mr.Addr()})
	advance = func(d time.Duration) { now = now.Add(d); mr.SetTime(now) }
	return rdb, advance, func() { _ = rdb.Close(); mr.Close() }
}

func ExampleNewLimiter() {
	// ContextTimeoutEnabled lets a ctx deadline bound the socket I/O, so a
	// hung Redis cannot hold a request longer than the caller allows.
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	limiter := cachecore.NewLimiter(rdb, cachecore.LimiterOptions{
		FailOpen: true, // when Redis is down, let requests through (and log)
	})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := limiter.Allow(ctx, "api:"+"10.0.0.1", cachecore.PerSecond(20))
	if err != nil {
		log.Printf("rate limiter: %v (decided without Redis: allowed=%v)", err, res.Allowed)
	}
	if !res.Allowed {
		fmt.Printf("429, retry after %v\n", res.RetryAfter)
	}
}

func ExampleLimiter_Allow() {
	rdb, advance, stop := limiterExampleRedis()
	defer stop()
	limiter := cachecore.NewLimiter(rdb, cachecore.LimiterOptions{})
	ctx := context.Background()
	limit := cachecore.PerMinute(3) // GCRA: 3 a minute, in bursts of up to 3

	for i := 0; i < 4; i++ {
		res, err := limiter.Allow(ctx, "login:alice", limit)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("allowed=%v remaining=%d retry after %v\n", res.Allowed, res.Remaining, res.RetryAfter)
	}
	advance(20 * time.Second) // a unit comes back every 20s
	res, _ := limiter.Allow(ctx, "login:alice", limit)
	fmt.Println("20s later:", res.Allowed)
	// Output:
	// allowed=true remaining=2 retry after 0s
	// allowed=true remaining=1 retry after 0s
	// allowed=true remaining=0 retry after 0s
	// allowed=false remaining=0 retry after 20s
	// 20s later: true
}

func ExampleLimiter_AllowN() {
	rdb, _, stop := limiterExampleRedis()
	defer stop()
	limiter := cachecore.NewLimiter(rdb, cachecore.LimiterOptions{})
	ctx := context.Background()
	// 100 units a minute, counted in windows aligned to the minute.
	limit := cachecore.Limit{Algorithm: cachecore.FixedWindow, Rate: 100, Period: time.Minute}

	res, _ := limiter.AllowN(ctx, "export:team-7", limit, 30) // an export costing 30
	fmt.Println(res.Allowed, res.Remaining, res.ResetAfter)

	peek, _ := limiter.AllowN(ctx, "export:team-7", limit, 0) // look, spend nothing
	fmt.Println(peek.Allowed, peek.Remaining)

	_, err := limiter.AllowN(ctx, "export:team-7", limit, 101)
	fmt.Println(errors.Is(err, cachecore.ErrExceedsBurst))
	// Output:
	// true 70 1m0s
	// true 70
	// true
}

func ExampleLimit() {
	rdb, advance, stop := limiterExampleRedis()
	defer stop()
	limiter := cachecore.NewLimiter(rdb, cachecore.LimiterOptions{})
	ctx := context.Background()
	// At most 4 a second; a request at fraction f of a window also counts
	// the previous window's requests, weighted by 1-f.
	limit := cachecore.Limit{Algorithm: cachecore.SlidingWindow, Rate: 4, Period: time.Second}

	res, _ := limiter.AllowN(ctx, "search:bob", limit, 4)
	fmt.Println(res.Allowed, res.Remaining)
	advance(time.Second) // next window: the 4 still weigh 4*(1-0)
	res, _ = limiter.Allow(ctx, "search:bob", limit)
	fmt.Println(res.Allowed, res.RetryAfter)
	advance(res.RetryAfter) // a quarter in: they weigh 3
	res, _ = limiter.Allow(ctx, "search:bob", limit)
	fmt.Println(res.Allowed, res.Remaining)
	// Output:
	// true 0
	// false 250ms
	// true 0
}

func ExampleLimiter_Stats() {
	rdb, _, stop := limiterExampleRedis()
	defer stop()
	limiter := cachecore.NewLimiter(rdb, cachecore.LimiterOptions{})
	ctx := context.Background()
	for _, user := range []string{"alice", "alice", "alice", "bob"} {
		_, _ = limiter.Allow(ctx, "login:"+user, cachecore.PerHour(2))
	}
	_, _ = limiter.Allow(ctx, "search:alice", cachecore.PerHour(2))

	st := limiter.Stats()
	fmt.Printf("login %+v\n", st.ByName["login"])
	fmt.Printf("search %+v\n", st.ByName["search"])
	// Output:
	// login {Allowed:3 Denied:1 Errors:0}
	// search {Allowed:1 Denied:0 Errors:0}
}
