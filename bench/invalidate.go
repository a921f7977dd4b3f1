package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
)

// measureInvalidation is measure 6: deleting the 500k keys matching a
// pattern out of 1M, cachecore's InvalidatePattern against the shell
// pipeline people use (redis-cli --scan | xargs redis-cli unlink), each on
// a fresh fill, alternating; then paced mode with a pinger on its own
// connection, whose PING p99 must stay under 2 ms.
func measureInvalidation(ctx context.Context, cfg config) ([]row, error) {
	e, err := startEnv(cfg.conc, "--enable-debug-command", "yes")
	if err != nil {
		return nil, err
	}
	defer e.close()
	rdb := e.goredis()
	cache, err := e.cache(cachecore.Options{OpTimeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	const total, half = 1_000_000, 500_000
	fill := func() error {
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			return err
		}
		if err := rdb.Do(ctx, "DEBUG", "POPULATE", half, "match").Err(); err != nil {
			return err
		}
		return rdb.Do(ctx, "DEBUG", "POPULATE", total-half, "keep").Err()
	}
	check := func(what string) error {
		if n := rdb.DBSize(ctx).Val(); n != total-half {
			return fmt.Errorf("%s left %d keys, want %d", what, n, total-half)
		}
		return nil
	}
	shell := fmt.Sprintf("redis-cli -p %d --scan --pattern 'match:*' | xargs -n 1000 redis-cli -p %d unlink >/dev/null", e.srv.Port, e.srv.Port)
	runCLI := func() error {
		cmd := exec.CommandContext(ctx, "sh", "-c", shell)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return err
		}
		return check("redis-cli pipeline")
	}
	runLib := func() error {
		res, err := cache.InvalidatePattern(ctx, "match:*", cachecore.InvalidateOptions{})
		if err != nil {
			return err
		}
		if res.Deleted != half {
			return fmt.Errorf("InvalidatePattern deleted %d, want %d", res.Deleted, half)
		}
		return check("InvalidatePattern")
	}
	var cli, lib []float64
	for r := 0; r < 2; r++ {
		type side struct {
			run   func() error
			times *[]float64
		}
		sides := []side{{runCLI, &cli}, {runLib, &lib}}
		if r%2 == 1 {
			slices.Reverse(sides)
		}
		for _, s := range sides {
			if err := fill(); err != nil {
				return nil, err
			}
			start := time.Now()
			if err := s.run(); err != nil {
				return nil, err
			}
			*s.times = append(*s.times, time.Since(start).Seconds())
		}
	}
	speedup := pairedRatio(cli, lib)
	rows := []row{{
		measure: "6. invalidate 500k of 1M keys, unpaced",
		ours:    dur(time.Duration(median(lib) * 1e9)),
		peer:    fmt.Sprintf("redis-cli --scan | xargs -n 1000 redis-cli unlink %s", dur(time.Duration(median(cli)*1e9))),
		ratio:   speedup,
		target:  "≥ 3x faster",
		met:     verdict(speedup >= 3),
	}}

	// Paced: a pinger on its own connection, idle first, then during a
	// paced invalidation (stopped after a few seconds) and, for contrast,
	// during an unpaced one.
	pinger := redis.NewClient(&redis.Options{Addr: e.addr, PoolSize: 1})
	defer pinger.Close()
	if err := fill(); err != nil {
		return nil, err
	}
	idle, err := pingP99(ctx, pinger, 2*time.Second, nil)
	if err != nil {
		return nil, err
	}
	// The rate `cachescope invalidate` uses by default (--rate 5000).
	const pacedRate = 5000
	paced, err := pingP99(ctx, pinger, 3*time.Second, func(ctx context.Context) error {
		_, err := cache.InvalidatePattern(ctx, "match:*", cachecore.InvalidateOptions{MaxRate: pacedRate})
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := fill(); err != nil {
		return nil, err
	}
	unpaced, err := pingP99(ctx, pinger, 3*time.Second, func(ctx context.Context) error {
		_, err := cache.InvalidatePattern(ctx, "match:*", cachecore.InvalidateOptions{})
		return err
	})
	if err != nil {
		return nil, err
	}
	rows = append(rows, row{
		measure: fmt.Sprintf("6. invalidate paced at %d keys/s: a concurrent pinger's PING p99", pacedRate),
		ours:    dur(paced),
		target:  "< 2 ms",
		met:     verdict(paced < 2*time.Millisecond),
		note:    fmt.Sprintf("same pinger idle: p99 %s; during an unpaced invalidation: p99 %s", dur(idle), dur(unpaced)),
	})
	return rows, nil
}

// pingP99 sends PINGs (one per millisecond) on c for d while work runs
// (cancelled when d is over; nil: idle) and returns the PING p99.
func pingP99(ctx context.Context, c *redis.Client, d time.Duration, work func(context.Context) error) (time.Duration, error) {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	done := make(chan error, 1)
	if work != nil {
		go func() { done <- work(wctx) }()
	}
	var lat []time.Duration
	for wctx.Err() == nil {
		start := time.Now()
		if err := c.Ping(ctx).Err(); err != nil {
			return 0, err
		}
		lat = append(lat, time.Since(start))
		time.Sleep(time.Millisecond)
	}
	if work != nil {
		if err := <-done; err != nil && wctx.Err() == nil {
			return 0, err
		}
	}
	slices.Sort(lat)
	return lat[len(lat)*99/100], nil
}
