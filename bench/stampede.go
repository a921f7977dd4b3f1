package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	gocache "github.com/go-redis/cache/v9"
	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
)

// The stampede (measure 3): stampedeProcs processes (this binary, re-run
// with stampedeChildCmd) start stampedeGoroutines goroutines each, all
// released at the same instant on one cold key. The loader counts its
// calls in Redis and takes stampedeLoad, like a database query.
const (
	stampedeChildCmd   = "stampede-child"
	stampedeProcs      = 3
	stampedeGoroutines = 1000
	stampedeLoad       = 50 * time.Millisecond
)

type stampedeResult struct {
	AllDone time.Duration `json:"all_done_ns"` // from the release to the last goroutine's value
	Errors  int           `json:"errors"`
}

var stampedeModes = []struct{ mode, name string }{
	{"cachecore-lease", "cachecore GetOrSet, Lease"},
	{"cachecore", "cachecore GetOrSet"},
	{"gocache", "go-redis/cache Once"},
	{"raw", "go-redis cache-aside by hand"},
}

func measureStampede(ctx context.Context, cfg config) ([]row, error) {
	e, err := startEnv(cfg.conc)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rdb := e.goredis()
	type outcome struct {
		loads   int64
		allDone time.Duration
	}
	results := make([]outcome, len(stampedeModes))
	const runs = 3
	for i, m := range stampedeModes {
		var times []time.Duration
		for run := 0; run < runs; run++ {
			key := fmt.Sprintf("stampede:%s:%d", m.mode, run)
			loads, all, err := stampedeRun(ctx, cfg, e.addr, m.mode, key)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.mode, err)
			}
			got, err := rdb.Get(ctx, key+":loads").Int64()
			if err != nil || got != loads {
				return nil, fmt.Errorf("%s: loader count %d in Redis, %d reported: %v", m.mode, got, loads, err)
			}
			results[i].loads = max(results[i].loads, loads) // the worst run
			times = append(times, all)
		}
		results[i].allDone = medianDur(times)
	}
	bestPeer := 2
	for i := 2; i < len(results); i++ {
		if results[i].allDone < results[bestPeer].allDone {
			bestPeer = i
		}
	}
	peerLoads := fmt.Sprintf("loader calls: %s %d, %s %d", stampedeModes[2].name, results[2].loads, stampedeModes[3].name, results[3].loads)
	var rows []row
	for i, target := range []int64{1, stampedeProcs} {
		r := results[i]
		rows = append(rows, row{
			measure: fmt.Sprintf("3. stampede %dx%d goroutines, one cold key, %v loader: %s", stampedeProcs, stampedeGoroutines, stampedeLoad, stampedeModes[i].name),
			ours:    fmt.Sprintf("%d loader calls, all served in %s", r.loads, dur(r.allDone)),
			peer:    fmt.Sprintf("%s: %d calls, %s", stampedeModes[bestPeer].name, results[bestPeer].loads, dur(results[bestPeer].allDone)),
			ratio:   float64(results[bestPeer].allDone) / float64(r.allDone),
			target:  fmt.Sprintf("loader calls ≤ %d", target),
			met:     verdict(r.loads <= target),
			note:    fmt.Sprintf("loader calls: the most in %d runs; time until all have the value: the median; ", 3) + peerLoads,
		})
	}
	return rows, nil
}

// stampedeRun starts the processes, waits until each has connected,
// releases them all at one instant and returns the loader calls they made
// and the time until the last goroutine had the value.
func stampedeRun(ctx context.Context, cfg config, addr, mode, key string) (int64, time.Duration, error) {
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   bytes.Buffer
	}
	children := make([]*child, stampedeProcs)
	ready := make(chan error, stampedeProcs)
	for p := range children {
		c := &child{cmd: exec.CommandContext(ctx, cfg.self, stampedeChildCmd, "-addr", addr, "-mode", mode, "-key", key)}
		c.cmd.Stdout = &c.out
		stdin, err := c.cmd.StdinPipe()
		if err != nil {
			return 0, 0, err
		}
		stderr, err := c.cmd.StderrPipe()
		if err != nil {
			return 0, 0, err
		}
		c.stdin = stdin
		if err := c.cmd.Start(); err != nil {
			return 0, 0, err
		}
		children[p] = c
		go func() {
			sc := bufio.NewScanner(stderr)
			signalled := false
			for sc.Scan() {
				if !signalled && sc.Text() == "ready" {
					ready <- nil
					signalled = true
					continue
				}
				fmt.Fprintln(os.Stderr, sc.Text())
			}
			if !signalled {
				ready <- fmt.Errorf("a stampede process exited before it was ready")
			}
		}()
	}
	defer func() {
		for _, c := range children {
			if c != nil {
				_ = c.stdin.Close()
				_ = c.cmd.Wait()
			}
		}
	}()
	for range children {
		if err := <-ready; err != nil {
			return 0, 0, err
		}
	}
	release := time.Now().Add(20 * time.Millisecond)
	for _, c := range children {
		fmt.Fprintln(c.stdin, release.UnixNano())
	}
	var all time.Duration
	for _, c := range children {
		if err := c.cmd.Wait(); err != nil {
			return 0, 0, err
		}
		var r stampedeResult
		if err := json.Unmarshal(c.out.Bytes(), &r); err != nil {
			return 0, 0, err
		}
		if r.Errors > 0 {
			return 0, 0, fmt.Errorf("%d goroutines failed", r.Errors)
		}
		all = max(all, r.AllDone)
	}
	children = nil
	admin := redis.NewClient(&redis.Options{Addr: addr})
	defer admin.Close()
	loads, err := admin.Get(ctx, key+":loads").Int64()
	return loads, all, err
}

// stampedeChild is one process of the stampede: it prints a
// stampedeResult as JSON.
func stampedeChild(args []string) {
	fs := flag.NewFlagSet(stampedeChildCmd, flag.ExitOnError)
	addr := fs.String("addr", "", "redis-server")
	mode := fs.String("mode", "", "cachecore-lease, cachecore, gocache or raw")
	key := fs.String("key", "", "the cold key")
	_ = fs.Parse(args)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: *addr, ContextTimeoutEnabled: true, PoolSize: 100})
	defer rdb.Close()
	load := func(ctx context.Context) (product, error) {
		if err := rdb.Incr(ctx, *key+":loads").Err(); err != nil {
			return product{}, err
		}
		time.Sleep(stampedeLoad)
		return productOf(42), nil
	}
	var get func(ctx context.Context) (product, error)
	switch *mode {
	case "cachecore", "cachecore-lease":
		c, err := cachecore.New(cachecore.Options{Redis: rdb, Lease: *mode == "cachecore-lease", Logger: quiet})
		if err != nil {
			log.Fatal(err)
		}
		get = func(ctx context.Context) (product, error) { return cachecore.GetOrSet(ctx, c, *key, time.Hour, load) }
		defer func() {
			if s := c.Stats(); s.Errors > 0 {
				fmt.Fprintf(os.Stderr, "stampede %s: errors %v\n", *mode, s.ErrorsByOp)
			}
		}()
	case "gocache":
		gc := gocache.New(&gocache.Options{Redis: rdb})
		get = func(ctx context.Context) (product, error) {
			var p product
			err := gc.Once(&gocache.Item{Ctx: ctx, Key: *key, Value: &p, TTL: time.Hour,
				Do: func(*gocache.Item) (any, error) { return load(ctx) }})
			return p, err
		}
	case "raw":
		get = func(ctx context.Context) (product, error) {
			b, err := rdb.Get(ctx, *key).Bytes()
			if err == nil {
				var p product
				return p, json.Unmarshal(b, &p)
			}
			if !errors.Is(err, redis.Nil) {
				return product{}, err
			}
			p, err := load(ctx)
			if err != nil {
				return p, err
			}
			b, _ = json.Marshal(p)
			return p, rdb.Set(ctx, *key, b, time.Hour).Err()
		}
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
	// Connect before the release, as a running service would be, say so,
	// and read the release instant (unix nanoseconds) from stdin.
	if err := rdb.Ping(ctx).Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "ready")
	var releaseNs int64
	if _, err := fmt.Fscan(os.Stdin, &releaseNs); err != nil {
		log.Fatal(err)
	}
	release := time.Unix(0, releaseNs)
	var wg sync.WaitGroup
	var failed atomic.Int64
	var last atomic.Int64
	for g := 0; g < stampedeGoroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(release))
			p, err := get(ctx)
			if err != nil || p.ID != 42 {
				failed.Add(1)
				return
			}
			done := time.Since(release).Nanoseconds()
			for {
				cur := last.Load()
				if done <= cur || last.CompareAndSwap(cur, done) {
					break
				}
			}
		}()
	}
	wg.Wait()
	_ = json.NewEncoder(os.Stdout).Encode(stampedeResult{AllDone: time.Duration(last.Load()), Errors: int(failed.Load())})
}
