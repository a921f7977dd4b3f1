package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
)

// The workload plays a small shop's backend: product pages read through
// the cache from a slow database with a skewed popularity (a few products
// are very popular), sessions with TTLs, carts, a leaderboard, periodic
// bulk warm-ups of categories, reports large enough to push memory to
// maxmemory (so evictions happen), an occasional invalidation of a range of
// products (the hit rate dips, then recovers) and an occasional SMEMBERS on
// a big set (it shows in the slowlog).
const (
	products        = 20_000
	missingProducts = 1_000 // ids past products-missingProducts do not exist
	workers         = 3
)

type product struct {
	ID       int      `json:"id"`
	Name     string   `json:"name"`
	Price    float64  `json:"price"`
	Stock    int      `json:"stock"`
	Tags     []string `json:"tags"`
	Category int      `json:"category"`
}

type workload struct {
	rdb     *redis.Client
	cache   *cachecore.Cache
	limiter *cachecore.Limiter
	log     *slog.Logger
	pace    float64
	mu      sync.Mutex
	zipf    *rand.Zipf
	dbLoad  func(ctx context.Context, id int) (product, error)
}

func newWorkload(rdb *redis.Client, opts Options) (*workload, error) {
	cache, err := cachecore.New(cachecore.Options{Redis: rdb, DefaultTTL: 2 * time.Minute, Logger: opts.Logger,
		Telemetry: 2 * time.Second, InstanceID: "demo-shop-api"})
	if err != nil {
		return nil, err
	}
	limiter := cachecore.NewLimiter(rdb, cachecore.LimiterOptions{})
	cache.ReportLimiter(limiter)
	w := &workload{rdb: rdb, cache: cache, limiter: limiter, log: opts.Logger, pace: opts.Pace,
		zipf: rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.07, 8, products-1)}
	w.dbLoad = fakeDatabase
	return w, nil
}

// fakeDatabase is a slow product table.
func fakeDatabase(ctx context.Context, id int) (product, error) {
	select {
	case <-time.After(time.Duration(2+rand.IntN(8)) * time.Millisecond):
	case <-ctx.Done():
		return product{}, ctx.Err()
	}
	if id >= products-missingProducts {
		return product{}, fmt.Errorf("product %d: %w", id, cachecore.ErrNotFound)
	}
	return product{ID: id, Name: fmt.Sprintf("Product %d", id), Price: float64(id%500) + 0.99,
		Stock: id % 37, Tags: []string{"demo", fmt.Sprintf("t%d", id%11)}, Category: id % 40}, nil
}

func (w *workload) run(ctx context.Context) {
	defer w.cache.Close()
	// A consumer of the shop's events, as a real backend has: it makes the
	// channels show subscribers.
	if sub, err := cachecore.PSubscribe(ctx, w.cache, func(string, map[string]any) {}, "events:*"); err == nil {
		defer sub.Close()
	}
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w.worker(ctx, i)
		}(i)
	}
	every := func(d time.Duration, f func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(time.Duration(float64(d) / w.pace))
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					f(ctx)
				}
			}
		}()
	}
	every(15*time.Second, w.warmCategories)
	every(40*time.Second, w.invalidateRange)
	every(200*time.Millisecond, w.writeReport)
	every(20*time.Second, w.slowCommand)
	wg.Wait()
}

// seed writes the keys that exist from the start, including a few with
// awkward names, as real keyspaces have.
func (w *workload) seed(ctx context.Context) {
	p := w.rdb.Pipeline()
	for i := 0; i < 50_000; i++ {
		p.SAdd(ctx, "tags:all", fmt.Sprintf("tag-%d", i))
	}
	p.Set(ctx, "config:feature-flags", `{"checkout_v2":true,"banner":"winter sale"}`, 0)
	p.Set(ctx, "config:currency", "EUR", 0)
	p.Set(ctx, "weird:key with spaces", "v", time.Hour)
	p.Set(ctx, "weird:unicode:café-☕", "v", time.Hour)
	p.Set(ctx, "weird:newline\nin-key", "v", time.Hour)
	p.Set(ctx, "weird:\x1b[31mescape\x1b[0m", "terminal escape in a key name", time.Hour)
	if _, err := p.Exec(ctx); err != nil && ctx.Err() == nil {
		w.log.Warn("demo seed", "error", err)
	}
}

func (w *workload) worker(ctx context.Context, n int) {
	rng := rand.New(rand.NewPCG(uint64(n), 99))
	for ctx.Err() == nil {
		switch r := rng.IntN(100); {
		case r < 65:
			w.productPage(ctx)
		case r < 80:
			w.session(ctx, rng)
		case r < 90:
			w.cart(ctx, rng)
		case r < 95:
			w.rateLimited(ctx, rng)
		default:
			w.rdb.ZIncrBy(ctx, "leaderboard:daily", 1, fmt.Sprintf("user:%d", rng.IntN(500)))
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(float64(2*time.Millisecond) / w.pace)):
		}
	}
}

func (w *workload) productPage(ctx context.Context) {
	w.mu.Lock()
	id := int(w.zipf.Uint64())
	w.mu.Unlock()
	_, err := cachecore.GetOrSet(ctx, w.cache, fmt.Sprintf("product:%d", id), time.Duration(60+id%60)*time.Second,
		func(ctx context.Context) (product, error) { return w.dbLoad(ctx, id) })
	if err != nil && !errors.Is(err, cachecore.ErrNotFound) && ctx.Err() == nil {
		w.log.Warn("demo product", "error", err)
	}
}

// rateLimited plays API clients behind a limiter (a few of them far too
// eager) and login attempts, some of them a password-guessing bot.
func (w *workload) rateLimited(ctx context.Context, rng *rand.Rand) {
	client := rng.IntN(40)
	if rng.IntN(4) == 0 {
		client = 0 // the noisy client
	}
	_, _ = w.limiter.Allow(ctx, fmt.Sprintf("api:client-%d", client), cachecore.PerSecond(20))
	user := fmt.Sprintf("user%d", rng.IntN(200))
	if rng.IntN(3) == 0 {
		user = "admin" // a bot guessing passwords
	}
	_, _ = w.limiter.Allow(ctx, "login:"+user, cachecore.Limit{Algorithm: cachecore.SlidingWindow, Rate: 5, Period: time.Minute})
}

func (w *workload) session(ctx context.Context, rng *rand.Rand) {
	key := fmt.Sprintf("session:%04x", rng.IntN(3000))
	var s map[string]any
	if !w.cache.SafeGet(ctx, key, &s) {
		_ = w.cache.Set(ctx, key, map[string]any{"user": rng.IntN(100_000), "cart": rng.IntN(5)}, 30*time.Second)
	}
}

func (w *workload) cart(ctx context.Context, rng *rand.Rand) {
	key := fmt.Sprintf("cart:%d", rng.IntN(800))
	p := w.rdb.Pipeline()
	p.LPush(ctx, key, fmt.Sprintf("product:%d", rng.IntN(products)))
	p.LTrim(ctx, key, 0, 19)
	p.Expire(ctx, key, 10*time.Minute)
	_, _ = p.Exec(ctx)
	_, _ = cachecore.Publish(ctx, w.cache, "events:cart", map[string]any{"cart": key, "at": time.Now().UnixMilli()})
}

func (w *workload) warmCategories(ctx context.Context) {
	items := make(map[string]any, 40)
	for c := 0; c < 40; c++ {
		items[fmt.Sprintf("category:%d", c)] = map[string]any{"id": c, "products": 500, "updated": time.Now().Unix()}
	}
	if err := w.cache.MSet(ctx, items, 5*time.Minute); err != nil && ctx.Err() == nil {
		w.log.Warn("demo warm-up", "error", err)
	}
}

func (w *workload) invalidateRange(ctx context.Context) {
	_, _ = cachecore.Publish(ctx, w.cache, "cache:invalidations", map[string]string{"pattern": "product:1*"})
	_, err := w.cache.InvalidatePattern(ctx, "product:1*", cachecore.InvalidateOptions{MaxRate: 5000})
	if err != nil && ctx.Err() == nil {
		w.log.Warn("demo invalidation", "error", err)
	}
}

var reportBody = strings.Repeat("x", 100_000)

func (w *workload) writeReport(ctx context.Context) {
	key := fmt.Sprintf("report:%d", time.Now().UnixNano())
	_ = w.rdb.Set(ctx, key, reportBody, 30*time.Minute).Err()
}

func (w *workload) slowCommand(ctx context.Context) {
	_ = w.rdb.SMembers(ctx, "tags:all").Err()
}
