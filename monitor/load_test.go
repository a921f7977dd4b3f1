package monitor

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// collector gathers the snapshots a running poller delivers.
type collector struct {
	mu    sync.Mutex
	snaps []*Snapshot
}

func (c *collector) add(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snaps = append(c.snaps, s)
}

func (c *collector) all() []*Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Snapshot(nil), c.snaps...)
}

// runPoller runs p in the background until the test ends or stop is called.
func runPoller(t *testing.T, p *Poller, deliver func(*Snapshot)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, deliver) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != context.Canceled {
				t.Errorf("Run returned %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func redisBenchmark(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("redis-benchmark")
	if err != nil {
		if os.Getenv(redistest.RequireEnv) == "1" {
			t.Fatalf("redis-benchmark not found (install redis-tools): %v", err)
		}
		t.Skipf("redis-benchmark not found (install redis-tools): %v", err)
	}
	return p
}

// TestOpsAgreeWithRedisBenchmark loads a server with redis-benchmark and
// compares what the poller saw with what redis-benchmark reports: every
// request counted once (the integral of ops/s), and the mean ops/s while
// the benchmark ran close to its requests per second.
func TestOpsAgreeWithRedisBenchmark(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped with -short")
	}
	t.Parallel()
	bench := redisBenchmark(t)
	s := startServer(t)
	var col collector
	// A short interval gives many samples that lie entirely inside the
	// benchmark's run, whatever the machine's speed.
	p := NewPoller(s.watched, Options{Interval: 250 * time.Millisecond})
	stop := runPoller(t, p, col.add)
	waitFor(t, func() bool { return len(col.all()) >= 3 })

	const requests = 100000 // per test: SET, then GET
	out, err := exec.Command(bench, "-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-t", "set,get",
		"-n", strconv.Itoa(requests), "-c", "20", "--csv").Output()
	if err != nil {
		t.Fatalf("redis-benchmark: %v", err)
	}
	n := len(col.all())
	waitFor(t, func() bool { return len(col.all()) >= n+3 })
	stop()

	benchRate := benchmarkRate(t, string(out), requests)
	var counted, busySecs, busyOps float64
	var busy []float64
	snaps := col.all()
	for i, snap := range snaps {
		checkSane(t, "under load", snap)
		if !snap.Rates.Valid {
			if i > 0 {
				t.Fatalf("tick %d lost its rates under load: %+v", i, snap.Health)
			}
			continue
		}
		counted += opsIn(snap.Rates)
		if snap.Rates.OpsPerSec > 0 {
			busy = append(busy, snap.Rates.OpsPerSec)
		}
	}
	// redis-benchmark also sends CONFIG GET save and CONFIG GET appendonly.
	if want := float64(2*requests + 2); math.Abs(counted-want) > 0.001*want {
		t.Errorf("the poller counted %.0f operations, redis-benchmark sent %.0f", counted, want)
	}
	// The first and last busy ticks are only partly inside the run; the
	// others lie wholly inside it.
	var interior []*Snapshot
	for _, snap := range snaps {
		if snap.Rates.Valid && snap.Rates.OpsPerSec > 0 {
			interior = append(interior, snap)
		}
	}
	if len(interior) < 4 {
		t.Fatalf("only %d busy ticks", len(interior))
	}
	for _, snap := range interior[1 : len(interior)-1] {
		busyOps += opsIn(snap.Rates)
		busySecs += snap.Rates.Interval.Seconds()
	}
	monitorRate := busyOps / busySecs
	t.Logf("redis-benchmark %.0f req/s; poller %.0f ops/s over %d interior ticks (%.2fs); counted %.0f ops",
		benchRate, monitorRate, len(interior)-2, busySecs, counted)
	if ratio := monitorRate / benchRate; ratio < 0.8 || ratio > 1.25 {
		t.Errorf("poller's mean %.0f ops/s vs redis-benchmark's %.0f req/s (ratio %.2f)", monitorRate, benchRate, ratio)
	}
}

// benchmarkRate is the overall requests per second of a redis-benchmark
// --csv run of several tests of n requests each: total requests over total
// time.
func benchmarkRate(t *testing.T, out string, n int) float64 {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("redis-benchmark output %q: %v", out, err)
	}
	var secs float64
	tests := 0
	for _, r := range records[1:] {
		rps, err := strconv.ParseFloat(r[1], 64)
		if err != nil || rps <= 0 {
			t.Fatalf("redis-benchmark line %v", r)
		}
		secs += float64(n) / rps
		tests++
	}
	if tests == 0 {
		t.Fatalf("no results in %q", out)
	}
	return float64(tests*n) / secs
}

// countingHook counts the commands a client sends, by name.
type countingHook struct {
	mu     sync.Mutex
	counts map[string]int
}

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.counts[commandName(cmd.Args())]++
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next // only the connection handshake comes through here
}

// TestCommandBudgetAtDefaultRefresh runs a poller at the default refresh for
// 30 seconds and counts what it sends, with a client hook and with the
// server's own command statistics.
func TestCommandBudgetAtDefaultRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("30-second budget test skipped with -short")
	}
	t.Parallel()
	s := startServer(t)
	ctx := context.Background()
	hook := &countingHook{counts: map[string]int{}}
	s.watched.AddHook(hook)
	serverCounts := func() map[string]int64 {
		stats := ParseInfo(s.admin.Info(ctx, "commandstats").Val()).CommandStats()
		return map[string]int64{"info": stats["info"].Calls, "latency|histogram": stats["latency|histogram"].Calls,
			"slowlog|get": stats["slowlog|get"].Calls, "latency|latest": stats["latency|latest"].Calls}
	}
	before := serverCounts()

	const period = 30 * time.Second
	p := NewPoller(s.watched, Options{})
	runCtx, cancel := context.WithTimeout(ctx, period)
	defer cancel()
	if err := p.Run(runCtx, nil); err != context.DeadlineExceeded {
		t.Fatalf("Run: %v", err)
	}
	after := serverCounts()

	hook.mu.Lock()
	defer hook.mu.Unlock()
	// The connection handshake (HELLO, CLIENT SETINFO or
	// MAINT_NOTIFICATIONS) is go-redis's, once per connection; everything
	// else is the poller's.
	var sent int64
	for name, n := range hook.counts {
		switch {
		case name == "hello", strings.HasPrefix(name, "client "):
		case name == "info", name == "latency histogram", name == "slowlog get", name == "latency latest":
			sent += int64(n)
		default:
			t.Errorf("unexpected command %q", name)
		}
	}
	ticks := hook.counts["info"]
	t.Logf("%d commands in %d ticks over %v: %v", sent, ticks, period, hook.counts)
	if ticks < 15 || ticks > 31 {
		t.Errorf("%d ticks in %v at a 1s refresh", ticks, period)
	}
	// Default tiers: per 30 ticks, 30 INFO, 3 LATENCY HISTOGRAM, 1 SLOWLOG
	// GET and 1 LATENCY LATEST: 35 commands, 1.17 a tick (a second).
	if perTick := float64(sent) / float64(ticks); perTick > 1.2 || perTick < 1 {
		t.Errorf("%.2f commands per tick at the default refresh, want about one", perTick)
	}
	// The server saw the same commands (the admin's INFO at the start is
	// in the second count; a command cancelled at the end may not have
	// reached the server).
	var seen int64
	for name, n := range after {
		seen += n - before[name]
	}
	seen-- // the admin's first INFO commandstats
	if d := sent - seen; d < 0 || d > 1 {
		t.Errorf("client sent %d, server processed %d (%v -> %v)", sent, seen, before, after)
	}
}

// commandName is "info", or "latency histogram" for container commands.
func commandName(args []any) string {
	name := strings.ToLower(fmt.Sprint(args[0]))
	switch name {
	case "latency", "slowlog", "client", "config":
		if len(args) > 1 {
			name += " " + strings.ToLower(fmt.Sprint(args[1]))
		}
	}
	return name
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
