package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
)

const bulkKeys = 100_000

// measureBulk is measure 4: MSet and MGet of 100k keys against the same
// work by hand with a raw go-redis pipeline (JSON, chunks of 1000, sent
// one after the other as a hand-written loop would). The sides alternate
// within each round, in rotating order.
func measureBulk(ctx context.Context, cfg config) ([]row, error) {
	e, err := startEnv(cfg.conc)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rdb := e.goredis()
	cache, err := e.cache(cachecore.Options{Namespace: "bulk", OpTimeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	keys := make([]string, bulkKeys)
	items := make(map[string]any, bulkKeys)
	for i := range keys {
		keys[i] = fmt.Sprintf("product:%d", i)
		items[keys[i]] = productOf(i)
	}
	rawMSet := func() error {
		for start := 0; start < bulkKeys; start += 1000 {
			if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys[start:min(start+1000, bulkKeys)] {
					v, _ := json.Marshal(items[k])
					p.Set(ctx, "raw:"+k, v, time.Hour)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	}
	rawMGet := func() error {
		out := make(map[string]product, bulkKeys)
		for start := 0; start < bulkKeys; start += 1000 {
			chunk := keys[start:min(start+1000, bulkKeys)]
			cmds := make([]*redis.StringCmd, len(chunk))
			if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, k := range chunk {
					cmds[i] = p.Get(ctx, "raw:"+k)
				}
				return nil
			}); err != nil {
				return err
			}
			for i, cmd := range cmds {
				var p product
				if json.Unmarshal([]byte(cmd.Val()), &p) == nil {
					out[chunk[i]] = p
				}
			}
		}
		if len(out) != bulkKeys {
			return fmt.Errorf("raw MGet: %d hits", len(out))
		}
		return nil
	}
	libMSet := func() error { return cache.MSet(ctx, items, time.Hour) }
	libMGet := func() error {
		out, err := cachecore.MGet[product](ctx, cache, keys...)
		if err == nil && len(out) != bulkKeys {
			err = fmt.Errorf("MGet: %d hits", len(out))
		}
		return err
	}
	timed := func(f func() error) (time.Duration, error) {
		start := time.Now()
		err := f()
		return time.Since(start), err
	}
	var raws, libs [2][]float64 // per op, per round: seconds
	// More rounds than the throughput measures: a round is short (about a
	// second) and a single one swings widely on a shared machine.
	for r := 0; r < 2*cfg.rounds+2; r++ {
		order := []int{0, 1}
		if r%2 == 1 {
			order = []int{1, 0}
		}
		for op, fs := range [][2]func() error{{rawMSet, libMSet}, {rawMGet, libMGet}} {
			var t [2]time.Duration
			for _, side := range order {
				d, err := timed(fs[side])
				if err != nil {
					return nil, err
				}
				t[side] = d
			}
			if r == 0 {
				continue // warm-up: the first MGet side must find the keys written
			}
			raws[op] = append(raws[op], t[0].Seconds())
			libs[op] = append(libs[op], t[1].Seconds())
		}
	}
	var rows []row
	for op, name := range []string{"MSet", "MGet"} {
		// throughput ratio = raw time / cachecore time, per round
		ratio := pairedRatio(raws[op], libs[op])
		rows = append(rows, row{
			measure: fmt.Sprintf("4. bulk %s of 100k keys", name),
			ours:    fmt.Sprintf("%s (%s)", dur(time.Duration(median(libs[op])*1e9)), perSec(bulkKeys/median(libs[op]))),
			peer:    fmt.Sprintf("go-redis pipeline %s", dur(time.Duration(median(raws[op])*1e9))),
			ratio:   ratio,
			target:  "≥ 0.95x",
			met:     verdict(ratio >= 0.95),
		})
	}
	return rows, nil
}
