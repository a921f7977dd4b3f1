// Command limiterbench compares the decisions per second of cachecore's
// rate limiter algorithms with github.com/go-redis/redis_rate/v10 (GCRA) on
// one redis-server that it starts itself, at the same concurrency, in the
// same run. Rounds interleave the contenders (rotating their order) so load
// changes on the machine hit them alike; it prints the median rate of each
// and the median of the per-round ratios against redis_rate.
//
// Every contender uses its own go-redis client with the same options
// (PoolSize = concurrency) and the same limit. cachecore runs each
// algorithm twice: with its default batching (LimiterOptions.MaxInFlight
// 0) and unbatched (-1, one EVALSHA round trip per call, as redis_rate
// does), so the table separates what the scripts cost from what batching
// saves.
//
//	go run ./limiterbench [-c 50] [-rounds 5] [-d 2s] [-keys 1000] [-inflight 0]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
	"github.com/cachescope/cachescope/internal/redisproc"
)

type contender struct {
	name  string
	allow func(ctx context.Context, key string) (allowed bool, err error)
}

type scenario struct {
	name string
	keys int
	rate int // per second, per key
}

func main() {
	conc := flag.Int("c", 50, "concurrent goroutines")
	rounds := flag.Int("rounds", 5, "rounds; each runs every contender once")
	dur := flag.Duration("d", 2*time.Second, "duration of one contender's run in a round")
	keys := flag.Int("keys", 1000, "distinct keys in the many-keys scenario")
	inFlight := flag.Int("inflight", 0, "cachecore LimiterOptions.MaxInFlight (0: its default)")
	verbose := flag.Bool("v", false, "print every round's rates")
	addr := flag.String("addr", "", "use this redis-server instead of starting one (it must be a throwaway: the benchmark writes to it)")
	flag.Parse()

	if *addr == "" {
		srv, err := redisproc.Start(redisproc.Config{})
		if err != nil {
			log.Fatal(err)
		}
		defer srv.Close()
		*addr = srv.Addr
	}
	ctx := context.Background()
	newClient := func() *redis.Client {
		// PoolSize is set to the concurrency so no contender waits for a
		// connection: the comparison is of the scripts and clients, not of
		// pool contention.
		return redis.NewClient(&redis.Options{Addr: *addr, PoolSize: *conc})
	}

	scenarios := []scenario{
		{name: fmt.Sprintf("%d keys, 1000/s each (mostly allowed)", *keys), keys: *keys, rate: 1000},
		{name: "1 hot key, 100/s (mostly denied)", keys: 1, rate: 100},
	}
	printHeader(*addr, *conc, *rounds, *dur)
	for _, sc := range scenarios {
		var cs []contender
		rrClient := newClient()
		rr := redis_rate.NewLimiter(rrClient)
		cs = append(cs, contender{"redis_rate GCRA", func(ctx context.Context, key string) (bool, error) {
			res, err := rr.Allow(ctx, key, redis_rate.PerSecond(sc.rate))
			if err != nil {
				return false, err
			}
			return res.Allowed > 0, nil
		}})
		// For reference: redis_rate on go-redis's own (experimental)
		// AutoPipeline, which batches concurrent commands too.
		if ap, err := newClient().AutoPipeline(); err == nil {
			rrAP := redis_rate.NewLimiter(ap)
			cs = append(cs, contender{"redis_rate GCRA on go-redis AutoPipeline", func(ctx context.Context, key string) (bool, error) {
				res, err := rrAP.Allow(ctx, key, redis_rate.PerSecond(sc.rate))
				if err != nil {
					return false, err
				}
				return res.Allowed > 0, nil
			}})
		} else {
			log.Printf("go-redis AutoPipeline unavailable: %v", err)
		}
		for _, batched := range []bool{true, false} {
			for _, a := range []cachecore.Algorithm{cachecore.GCRA, cachecore.FixedWindow, cachecore.SlidingWindow} {
				opts := cachecore.LimiterOptions{MaxInFlight: *inFlight}
				name := "cachecore " + a.String()
				if !batched {
					opts.MaxInFlight = -1
					name += ", unbatched"
				}
				l := cachecore.NewLimiter(newClient(), opts)
				limit := cachecore.PerSecond(sc.rate)
				limit.Algorithm = a
				if a != cachecore.GCRA {
					limit.Burst = 0
				}
				cs = append(cs, contender{name, func(ctx context.Context, key string) (bool, error) {
					res, err := l.Allow(ctx, key, limit)
					return res.Allowed, err
				}})
			}
		}
		runScenario(ctx, sc, cs, *conc, *rounds, *dur, *verbose)
	}
}

func runScenario(ctx context.Context, sc scenario, cs []contender, conc, rounds int, dur time.Duration, verbose bool) {
	keyNames := make([]string, sc.keys)
	for i := range keyNames {
		keyNames[i] = fmt.Sprintf("bench:%d", i)
	}
	rates := make([][]float64, len(cs)) // per contender, per round
	allowed := make([]float64, len(cs)) // share of allowed decisions
	for _, c := range cs {              // warm up: load scripts, fill pools
		measure(ctx, c, keyNames, conc, 300*time.Millisecond)
	}
	for r := 0; r < rounds; r++ {
		for i := range cs {
			// rotate the order each round so no contender always runs first
			j := (i + r) % len(cs)
			n, a := measure(ctx, cs[j], keyNames, conc, dur)
			rates[j] = append(rates[j], float64(n)/dur.Seconds())
			if verbose {
				fmt.Printf("round %d %-45s %8.0f/s  %5.1f%% allowed\n", r, cs[j].name, float64(n)/dur.Seconds(), 100*float64(a)/float64(n))
			}
			allowed[j] += float64(a) / float64(n) / float64(rounds)
		}
	}
	fmt.Printf("\n### %s\n\n", sc.name)
	fmt.Println("| limiter | decisions/s (median) | min..max | allowed | vs redis_rate (median of per-round ratios) |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for i, c := range cs {
		ratios := make([]float64, rounds)
		for r := range ratios {
			ratios[r] = rates[i][r] / rates[0][r]
		}
		lo, hi := minMax(rates[i])
		fmt.Printf("| %s | %.0f | %.0f..%.0f | %.0f%% | %.2fx |\n", c.name, median(rates[i]), lo, hi, 100*allowed[i], median(ratios))
	}
}

// measure runs c from conc goroutines for d and returns the decisions made
// and how many of them were allowed. An error stops the benchmark: a
// failing contender would look fast.
func measure(ctx context.Context, c contender, keys []string, conc int, d time.Duration) (n, allowedN int64) {
	var total, allowed atomic.Int64
	var next atomic.Uint64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for g := 0; g < conc; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine, ok int64
			for time.Now().Before(deadline) {
				key := keys[next.Add(1)%uint64(len(keys))]
				a, err := c.allow(ctx, key)
				if err != nil {
					log.Fatalf("%s: %v", c.name, err)
				}
				mine++
				if a {
					ok++
				}
			}
			total.Add(mine)
			allowed.Add(ok)
		}()
	}
	wg.Wait()
	return total.Load(), allowed.Load()
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minMax(xs []float64) (float64, float64) {
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

func printHeader(addr string, conc, rounds int, dur time.Duration) {
	fmt.Printf("limiterbench: %s, GOMAXPROCS %d, %s\n", cpuModel(), runtime.GOMAXPROCS(0), runtime.Version())
	if out, err := exec.Command("redis-server", "--version").Output(); err == nil {
		fmt.Printf("server: %s at %s\n", strings.TrimSpace(string(out)), addr)
	}
	fmt.Printf("%d goroutines, %d rounds x %v per limiter\n", conc, rounds, dur)
}

// cpuModel reads the CPU model from /proc/cpuinfo (Linux), or says so.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "cpu unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "cpu unknown"
}
