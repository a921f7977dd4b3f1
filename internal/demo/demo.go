// Package demo runs `cachescope demo`: a throwaway Redis with a realistic
// cache workload going through cachecore, so the dashboard has something
// to show with nothing installed.
//
// The server is a redis-server from PATH on a free loopback port (no
// persistence, its files in a temporary directory) when there is one, and
// otherwise an in-process miniredis, which does not report memory,
// evictions, latency or the slowlog. Close stops the workload and the
// server and removes every file.
package demo

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redisproc"
)

// Options configure a demo.
type Options struct {
	// Embedded forces the in-process server even when redis-server exists.
	Embedded bool
	// Logger receives the workload's errors; nil discards them.
	Logger *slog.Logger
	// Pace scales the workload's speed; 0 means 1.
	Pace float64
}

// Demo is a running demo.
type Demo struct {
	// Addr is the server's loopback address.
	Addr string
	// Embedded is true when the server is the in-process one.
	Embedded bool

	cancel context.CancelFunc
	wg     sync.WaitGroup
	stop   func()
	once   sync.Once
}

// Start starts the server and the workload.
func Start(ctx context.Context, opts Options) (*Demo, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Pace <= 0 {
		opts.Pace = 1
	}
	d := &Demo{}
	var mr *miniredis.Miniredis
	if _, err := redisproc.Binary(); err == nil && !opts.Embedded {
		srv, err := redisproc.Start(redisproc.Config{Args: []string{
			"--maxmemory", "48mb", "--maxmemory-policy", "allkeys-lru",
			"--slowlog-log-slower-than", "1000", "--latency-monitor-threshold", "2",
		}})
		if err != nil {
			return nil, err
		}
		d.Addr, d.stop = srv.Addr, func() { _ = srv.Close() }
	} else {
		m, err := miniredis.Run()
		if err != nil {
			return nil, errors.Join(errors.New("demo: cannot start the embedded server"), err)
		}
		mr = m
		d.Addr, d.Embedded, d.stop = m.Addr(), true, m.Close
	}

	ctx, d.cancel = context.WithCancel(ctx)
	rdb := redis.NewClient(&redis.Options{Addr: d.Addr, ContextTimeoutEnabled: true, PoolSize: 16, ClientName: "demo-app"})
	w, err := newWorkload(rdb, opts)
	if err != nil {
		d.Close()
		return nil, err
	}
	// Seed before the dashboard starts, so its bulk writes do not show as
	// a spike that dwarfs the steady workload on the charts.
	w.seed(ctx)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer rdb.Close()
		w.run(ctx)
	}()
	if mr != nil {
		// miniredis only expires keys when its clock moves.
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					mr.FastForward(time.Second)
				}
			}
		}()
	}
	return d, nil
}

// Close stops the workload and the server. It is safe to call twice.
func (d *Demo) Close() {
	d.once.Do(func() {
		if d.cancel != nil {
			d.cancel()
		}
		d.wg.Wait()
		d.stop()
	})
}
