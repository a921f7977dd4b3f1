package main

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/monitor"
)

// measureExplorer is measure 8: the Keys view's backend (monitor.Keys) on
// 10M keys: time to the first page, a page of a pattern that matches
// nothing (bounded by the examined-keys budget), and the heap retained
// after scrolling 1M keys while keeping the newest 10,000 rows as the view
// does.
func measureExplorer(ctx context.Context, cfg config) ([]row, error) {
	e, err := startEnv(cfg.conc, "--enable-debug-command", "yes")
	if err != nil {
		return nil, err
	}
	defer e.close()
	rdb := e.goredis()
	const total = 10_000_000
	fill := time.Now()
	// DEBUG POPULATE of 10M keys takes longer than go-redis' default read
	// timeout.
	filler := redis.NewClient(&redis.Options{Addr: e.addr, ReadTimeout: 5 * time.Minute})
	defer filler.Close()
	if err := filler.Do(ctx, "DEBUG", "POPULATE", total, "bench").Err(); err != nil {
		return nil, err
	}
	fillTime := time.Since(fill)
	keys := monitor.NewKeys(rdb, monitor.KeysOptions{})

	var firsts, rares []time.Duration
	var rareExamined int64
	for i := 0; i < 5; i++ {
		br, err := keys.Browse(monitor.Query{})
		if err != nil {
			return nil, err
		}
		start := time.Now()
		p, err := br.Next(ctx)
		if err != nil {
			return nil, err
		}
		firsts = append(firsts, time.Since(start))
		if len(p.Keys) == 0 {
			return nil, fmt.Errorf("first page is empty")
		}
		br, err = keys.Browse(monitor.Query{Pattern: "nomatch:*"})
		if err != nil {
			return nil, err
		}
		start = time.Now()
		p, err = br.Next(ctx)
		if err != nil {
			return nil, err
		}
		rares = append(rares, time.Since(start))
		if !p.Budget || len(p.Keys) != 0 {
			return nil, fmt.Errorf("rare pattern page: budget %v, %d keys", p.Budget, len(p.Keys))
		}
		rareExamined = p.Examined
	}

	// redis-cli's first screenful, for reference: --scan piped to head.
	start := time.Now()
	cli := exec.CommandContext(ctx, "sh", "-c", fmt.Sprintf("redis-cli -p %d --scan | head -n 100 >/dev/null", e.srv.Port))
	if err := cli.Run(); err != nil {
		return nil, err
	}
	cliFirst := time.Since(start)

	// Scroll 1M keys, 1000 a page, keeping the newest 10,000 rows.
	scroller := monitor.NewKeys(rdb, monitor.KeysOptions{PageSize: 1000})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	br, err := scroller.Browse(monitor.Query{})
	if err != nil {
		return nil, err
	}
	rows := make([]string, 0, 10_000)
	seen := 0
	start = time.Now()
	for seen < 1_000_000 {
		p, err := br.Next(ctx)
		if err != nil {
			return nil, err
		}
		seen += len(p.Keys)
		rows = append(rows, p.Keys...)
		if len(rows) > 10_000 {
			rows = append(rows[:0:0], rows[len(rows)-10_000:]...)
		}
	}
	scroll := time.Since(start)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	retained := after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
	runtime.KeepAlive(br)
	runtime.KeepAlive(rows)

	first := medianDur(firsts)
	return []row{
		{
			measure: "8. keyspace explorer, 10M keys: first page (100 keys)",
			ours:    dur(first),
			peer:    fmt.Sprintf("redis-cli --scan | head -n 100 %s", dur(cliFirst)),
			ratio:   float64(cliFirst) / float64(first),
			target:  "< 100 ms",
			met:     verdict(first < 100*time.Millisecond),
			note:    fmt.Sprintf("median of 5; DEBUG POPULATE of 10M keys took %s", dur(fillTime)),
		},
		{
			measure: "8. keyspace explorer, 10M keys: page of a pattern matching nothing",
			ours:    fmt.Sprintf("%s, %s keys examined", dur(medianDur(rares)), strconv.FormatInt(rareExamined, 10)),
			target:  "bounded by the budget (50,000 examined)",
			met:     verdict(rareExamined <= 50_000+1000),
			note:    "the page stops at the examined-keys budget and returns its cursor; redis-cli --scan --pattern would walk all 10M keys",
		},
		{
			measure: "8. keyspace explorer: heap retained after scrolling 1M of 10M keys",
			ours:    fmt.Sprintf("%s (scrolled in %s)", mib(retained), dur(scroll)),
			target:  "bounded",
			met:     verdict(retained < 64<<20),
			note:    "the browse session's de-duplication table (bounded by KeysOptions.MaxTracked, 1M keys) and the newest 10,000 rows",
		},
	}, nil
}
