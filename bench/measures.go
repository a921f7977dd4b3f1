package main

import (
	"context"
	"fmt"
	"time"
)

// config is what every measure reads from the command line.
type config struct {
	conc   int
	rounds int
	d      time.Duration
	self   string // this binary, re-executed for the stampede's processes
	root   string // the main module's directory (for go test ./ui)
}

// measureHits is measure 1: cache hits at cfg.conc goroutines, 10k keys.
func measureHits(ctx context.Context, cfg config) ([]row, error) {
	e, err := startEnv(cfg.conc)
	if err != nil {
		return nil, err
	}
	defer e.close()
	cs, err := hitContenders(ctx, e, 10_000)
	if err != nil {
		return nil, err
	}
	rates, err := rounds(ctx, cs, cfg.conc, cfg.rounds, cfg.d)
	if err != nil {
		return nil, err
	}
	const raw, rueidisIdx, peers = 0, 2, 4
	var rows []row
	for i := peers; i < len(cs); i++ {
		b := best(rates[:peers], 0)
		vsRaw, vsRueidis := pairedRatio(rates[i], rates[raw]), pairedRatio(rates[i], rates[rueidisIdx])
		rows = append(rows, row{
			measure: fmt.Sprintf("1. cache hit, %d goroutines, 10k keys: %s", cfg.conc, cs[i].name),
			ours:    perSec(median(rates[i])),
			peer:    fmt.Sprintf("%s %s", cs[b].name, perSec(median(rates[b]))),
			ratio:   pairedRatio(rates[i], rates[b]),
			target:  "≥ 2.0x go-redis, ≥ 1.2x rueidis",
			met:     verdict(vsRaw >= 2.0 && vsRueidis >= 1.2),
			note:    fmt.Sprintf("%.2fx go-redis GET + json, %.2fx rueidis; peers: %s", vsRaw, vsRueidis, peerList(cs[:peers], rates[:peers])),
		})
	}
	return rows, nil
}

func peerList(cs []contender, rates [][]float64) string {
	s := ""
	for i, c := range cs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %s", c.name, perSec(median(rates[i])))
	}
	return s
}

// measureNear is measure 2: hot-key reads through the near cache, and the
// delay until a write elsewhere is seen.
func measureNear(ctx context.Context, cfg config) ([]row, error) {
	e, err := startEnv(cfg.conc)
	if err != nil {
		return nil, err
	}
	defer e.close()
	cs, cache, err := nearContenders(ctx, e, 100)
	if err != nil {
		return nil, err
	}
	rates, err := rounds(ctx, cs, cfg.conc, cfg.rounds, cfg.d)
	if err != nil {
		return nil, err
	}
	st := cache.Stats().Near
	sliced := len(cs) - 1 // cachecore on a type with a slice, last
	b := best(rates[:sliced], 2)
	vsRaw := pairedRatio(rates[1], rates[0])
	rows := []row{{
		measure: fmt.Sprintf("2. near cache: hot-key reads, %d goroutines, 100 keys", cfg.conc),
		ours:    perSec(median(rates[1])),
		peer:    fmt.Sprintf("%s %s", cs[b].name, perSec(median(rates[b]))),
		ratio:   pairedRatio(rates[1], rates[b]),
		target:  "≥ 20x go-redis",
		met:     verdict(vsRaw >= 20),
		note: fmt.Sprintf("%.1fx go-redis GET + json (%s); %.1f%% of reads from memory; peers: %s", vsRaw, perSec(median(rates[0])),
			100*float64(st.Hits)/float64(max(1, st.Hits+st.Misses)), peerList(cs[2:sliced], rates[2:sliced])),
	}, {
		measure: fmt.Sprintf("2. near cache: hot-key reads of a type with a slice, %d goroutines, 100 keys", cfg.conc),
		ours:    perSec(median(rates[sliced])),
		peer:    fmt.Sprintf("%s %s", cs[b].name, perSec(median(rates[b]))),
		ratio:   pairedRatio(rates[sliced], rates[b]),
		target:  "≥ 20x go-redis",
		met:     verdict(pairedRatio(rates[sliced], rates[0]) >= 20),
		note: fmt.Sprintf("%.1fx go-redis GET + json; the value is JSON-decoded on every hit, as the peers' client-side caches do (a type without pointers, slices or maps gets a copy of one decoded value)",
			pairedRatio(rates[sliced], rates[0])),
	}}
	med, worst, err := nearInvalidationDelay(ctx, e, 50)
	if err != nil {
		return nil, err
	}
	rows = append(rows, row{
		measure: "2. near cache: a write elsewhere seen by the next reads (50 writes)",
		ours:    fmt.Sprintf("median %s, max %s", dur(med), dur(worst)),
		target:  "a few ms",
		met:     verdict(med < 5*time.Millisecond),
		note:    "time from the writer's SET returning to the reader's Get returning the new value, polling",
	})
	return rows, nil
}
