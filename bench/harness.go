package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// contender is one way of doing a measure's operation. op does one
// operation and reads its result; i is a per-goroutine counter the op may
// use to pick a key.
type contender struct {
	name string
	op   func(ctx context.Context, g, i int) error
}

// throughput runs c from conc goroutines for d and returns executed
// operations per second over the timed region: from the start of the
// first goroutine to the end of the last, so work that finishes after the
// deadline is part of the region, never free.
func throughput(ctx context.Context, c contender, conc int, d time.Duration) (float64, error) {
	var total atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for g := 0; g < conc; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for i := 0; ; i++ {
				if i%16 == 0 && time.Now().After(deadline) {
					break
				}
				if err := c.op(ctx, g, i); err != nil {
					firstErr.CompareAndSwap(nil, fmt.Errorf("%s: %w", c.name, err))
					break
				}
				n++
			}
			total.Add(int64(n))
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(total.Load()) / elapsed.Seconds(), nil
}

// rounds runs every contender once per round, rotating the order so no
// contender always goes first, and returns each one's rates per round.
func rounds(ctx context.Context, cs []contender, conc, n int, d time.Duration) ([][]float64, error) {
	for _, c := range cs { // warm up: pools, scripts, JIT-like caches
		if _, err := throughput(ctx, c, conc, min(d/4, 300*time.Millisecond)); err != nil {
			return nil, err
		}
	}
	rates := make([][]float64, len(cs))
	for r := 0; r < n; r++ {
		for i := range cs {
			j := (i + r) % len(cs)
			x, err := throughput(ctx, cs[j], conc, d)
			if err != nil {
				return nil, err
			}
			rates[j] = append(rates[j], x)
		}
	}
	return rates, nil
}

// pairedRatio is the median over rounds of a[r]/b[r]: measured in the same
// round, the two saw the same machine load.
func pairedRatio(a, b []float64) float64 {
	r := make([]float64, len(a))
	for i := range a {
		r[i] = a[i] / b[i]
	}
	return median(r)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianDur(xs []time.Duration) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
