package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/monitor"
)

// tapRun is one run of the pub/sub tap under a paced publisher.
type tapRun struct {
	rate        int
	achieved    float64
	published   int64
	stats       monitor.TapStats
	heapGrowth  uint64
	heapRetaind uint64
}

// measureTap is measure 9: the highest publish rate the tap follows
// without a drop (4 publishers, pipelines of PUBLISH of 100 bytes on 20
// channels, a UI-like snapshot every 100 ms), and its memory at twice that
// rate.
func measureTap(ctx context.Context, cfg config) ([]row, error) {
	e, err := startEnv(cfg.conc)
	if err != nil {
		return nil, err
	}
	defer e.close()
	followed := 0
	var reached float64 // the publish rate the last run without a drop achieved
	var runs []tapRun
	steps := []int{50_000, 100_000, 150_000, 200_000}
	for _, rate := range steps {
		// Two tries per rate: a 2 s run on a shared 2-core machine can be
		// hit by a stall that has nothing to do with the rate.
		var r tapRun
		for try := 0; try < 2; try++ {
			var err error
			if r, err = runTap(ctx, e, rate, 2*time.Second); err != nil {
				return nil, err
			}
			runs = append(runs, r)
			if r.stats.Dropped == 0 && r.stats.Disconnects == 0 {
				break
			}
		}
		if r.stats.Dropped > 0 || r.stats.Disconnects > 0 {
			break
		}
		followed, reached = rate, r.achieved
	}
	if followed == 0 {
		return []row{{measure: "9. pub/sub tap", ours: "dropped at 50k/s", met: "NO"}}, nil
	}
	double, err := runTap(ctx, e, 2*followed, 2*time.Second)
	if err != nil {
		return nil, err
	}
	var tried []string
	for _, r := range runs {
		tried = append(tried, fmt.Sprintf("%dk/s (reached %s): %d dropped", r.rate/1000, perSec(r.achieved), r.stats.Dropped))
	}
	return []row{
		{
			measure: "9. pub/sub tap: highest publish rate followed without drops",
			ours:    tapFollowed(reached, followed, steps[len(steps)-1]),
			target:  "measured",
			met:     "-",
			note:    strings.Join(tried, ", ") + " (2 s each, rates tried in steps, a second try after drops; this machine also runs the server and the publishers)",
		},
		{
			measure: fmt.Sprintf("9. pub/sub tap: memory at 2x that rate (%s)", perSec(double.achieved)),
			ours:    fmt.Sprintf("peak heap growth %s, %d dropped (counted), %d disconnects", mib(double.heapGrowth), double.stats.Dropped, double.stats.Disconnects),
			target:  "bounded",
			met:     verdict(double.heapGrowth < 64<<20 && double.stats.Disconnects == 0),
		},
	}, nil
}

func runTap(ctx context.Context, e *env, rate int, d time.Duration) (tapRun, error) {
	res := tapRun{rate: rate}
	watched := redis.NewClient(&redis.Options{Addr: e.addr, ContextTimeoutEnabled: true})
	defer watched.Close()
	tap, err := monitor.NewTap(watched, monitor.TapOptions{})
	if err != nil {
		return res, err
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapInuse
	var peak atomic.Uint64

	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { _ = tap.Run(tctx, nil) })
	for deadline := time.Now().Add(20 * time.Second); tap.Stats().State != monitor.TapSubscribed; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return res, fmt.Errorf("the tap did not subscribe")
		}
	}
	uiDone := make(chan struct{})
	var ui sync.WaitGroup
	ui.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-uiDone:
				return
			case <-tick.C:
			}
			f := monitor.TapFilter{Limit: 100}
			if i%2 == 1 {
				f.Text = "needle"
			}
			tap.Snapshot(f)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	})

	pub := redis.NewClient(&redis.Options{Addr: e.addr, ContextTimeoutEnabled: true})
	defer pub.Close()
	payload := strings.Repeat("m", 100)
	const workers = 4
	var published atomic.Int64
	var pubErr atomic.Value
	start := time.Now()
	var pubs sync.WaitGroup
	for w := 0; w < workers; w++ {
		pubs.Go(func() {
			perWorker := float64(rate) / workers
			sent := 0
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for now := range tick.C {
				if now.Sub(start) >= d {
					return
				}
				due := int(perWorker*now.Sub(start).Seconds()) - sent
				for due > 0 {
					n := min(due, 1000)
					pipe := pub.Pipeline()
					for i := 0; i < n; i++ {
						pipe.Publish(ctx, fmt.Sprintf("load:%d", (sent+i)%20), payload)
					}
					if _, err := pipe.Exec(ctx); err != nil {
						pubErr.CompareAndSwap(nil, err)
						return
					}
					sent += n
					due -= n
					published.Add(int64(n))
				}
			}
		})
	}
	pubs.Wait()
	if err, _ := pubErr.Load().(error); err != nil {
		return res, err
	}
	res.published = published.Load()
	res.achieved = float64(res.published) / time.Since(start).Seconds()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st := tap.Stats()
		if st.Received >= uint64(res.published) && st.Accounted+st.Dropped == st.Received || st.Disconnects > 0 {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("the tap did not catch up at %d/s: %+v", rate, st)
		}
	}
	close(uiDone)
	ui.Wait()
	res.stats = tap.Stats()
	res.heapGrowth = peak.Load() - min(peak.Load(), heapBefore)
	cancel()
	wg.Wait()
	return res, nil
}

// tapFollowed says what rate the tap followed: the rate reached, and the
// step aimed at (the last step may not be the limit).
func tapFollowed(reached float64, aimed, lastStep int) string {
	s := fmt.Sprintf("%s published (aimed at %s", perSec(reached), perSec(float64(aimed)))
	if aimed == lastStep {
		return s + ", the highest step: the limit is higher)"
	}
	return s + ")"
}
