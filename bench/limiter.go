package main

import (
	"context"
	"fmt"

	"github.com/go-redis/redis_rate/v10"

	"github.com/cachescope/cachescope/cachecore"
)

// measureLimiter is measure 5: Allow decisions per second at cfg.conc
// goroutines over 1000 keys at 1000/s each (nearly all allowed, so every
// call writes), cachecore's three algorithms against redis_rate's GCRA.
// bench/limiter.sh has the fuller comparison (hot key, unbatched).
func measureLimiter(ctx context.Context, cfg config) ([]row, error) {
	e, err := startEnv(cfg.conc)
	if err != nil {
		return nil, err
	}
	defer e.close()
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("bench:%d", i)
	}
	pick := func(g, i int) string { return keys[(g*7919+i)%len(keys)] }
	rr := redis_rate.NewLimiter(e.goredis())
	cs := []contender{{name: "redis_rate GCRA", op: func(ctx context.Context, g, i int) error {
		_, err := rr.Allow(ctx, pick(g, i), redis_rate.PerSecond(1000))
		return err
	}}}
	algos := []cachecore.Algorithm{cachecore.GCRA, cachecore.FixedWindow, cachecore.SlidingWindow}
	for _, a := range algos {
		l := cachecore.NewLimiter(e.goredis(), cachecore.LimiterOptions{})
		limit := cachecore.PerSecond(1000)
		limit.Algorithm = a
		if a != cachecore.GCRA {
			limit.Burst = 0
		}
		cs = append(cs, contender{name: "cachecore " + a.String(), op: func(ctx context.Context, g, i int) error {
			_, err := l.Allow(ctx, pick(g, i), limit)
			return err
		}})
	}
	rates, err := rounds(ctx, cs, cfg.conc, cfg.rounds, cfg.d)
	if err != nil {
		return nil, err
	}
	var rows []row
	for i := 1; i < len(cs); i++ {
		ratio := pairedRatio(rates[i], rates[0])
		rows = append(rows, row{
			measure: fmt.Sprintf("5. rate limiter decisions, %d goroutines, 1000 keys: %s", cfg.conc, cs[i].name),
			ours:    perSec(median(rates[i])),
			peer:    fmt.Sprintf("redis_rate GCRA %s", perSec(median(rates[0]))),
			ratio:   ratio,
			target:  "≥ 1.5x",
			met:     verdict(ratio >= 1.5),
		})
	}
	return rows, nil
}
