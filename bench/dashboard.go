package main

import (
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/monitor"
)

// dashboardWindow covers one whole cycle of the poller's tiers: INFO every
// second, the detail tier every 10 s and the slowlog tier every 30 s.
const dashboardWindow = 30 * time.Second

// measureDashboard is measure 7: the commands per second the dashboard's
// poller sends at its default refresh (counted by a hook on its client over
// a whole 30 s cycle), against redis-cli --stat (counted on the server);
// then the same per node of a cluster (measureDashboardCluster).
func measureDashboard(ctx context.Context, cfg config) ([]row, error) {
	e, err := startEnv(cfg.conc)
	if err != nil {
		return nil, err
	}
	defer e.close()
	rdb := redis.NewClient(&redis.Options{Addr: e.addr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	counter := &commandCounter{}
	rdb.AddHook(counter)
	p := monitor.NewPoller(rdb, monitor.Options{})
	pctx, cancel := context.WithTimeout(ctx, dashboardWindow-50*time.Millisecond) // ticks at 0..29 s
	_ = p.Run(pctx, nil)
	cancel()
	if s := p.Latest(); s == nil || !s.Health.Up {
		return nil, fmt.Errorf("the poller never reached the server")
	}
	// The connection's handshake (HELLO, CLIENT SETINFO, ...) is sent once
	// per connection, not per refresh: it is listed, not counted as a rate.
	handshake := counter.handshake()
	ours := float64(counter.n.Load()-handshake) / dashboardWindow.Seconds()

	// redis-cli --stat, counted by the server: total_commands_processed
	// before and after (the second INFO counts the first).
	admin := e.goredis()
	processed := func() (int64, error) {
		info, err := admin.Info(ctx, "stats").Result()
		if err != nil {
			return 0, err
		}
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
				return strconv.ParseInt(v, 10, 64)
			}
		}
		return 0, fmt.Errorf("no total_commands_processed in INFO")
	}
	before, err := processed()
	if err != nil {
		return nil, err
	}
	const cliWindow = 10 * time.Second
	cctx, ccancel := context.WithTimeout(ctx, cliWindow)
	defer ccancel()
	start := time.Now()
	_ = exec.CommandContext(cctx, "redis-cli", "-p", strconv.Itoa(e.srv.Port), "--stat", "-i", "1").Run()
	elapsed := time.Since(start)
	after, err := processed()
	if err != nil {
		return nil, err
	}
	cli := float64(after-before-1) / elapsed.Seconds()
	ratio := 0.0
	if ours > 0 {
		ratio = cli / ours
	}
	rows := []row{{
		measure: "7. dashboard cost on the server at the default refresh (standalone)",
		ours:    fmt.Sprintf("%.2f commands/s", ours),
		peer:    fmt.Sprintf("redis-cli --stat %.2f commands/s", cli),
		ratio:   ratio,
		target:  "≤ 1.2 per node",
		met:     verdict(ours <= 1.2),
		note:    fmt.Sprintf("%d commands over a %v cycle of every tier, %d of them the connection's one-off handshake (%s)", counter.n.Load(), dashboardWindow, handshake, counter.summary()),
	}}
	cluster, err := measureDashboardCluster(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("on a cluster: %w", err)
	}
	return append(rows, cluster...), nil
}

// commandCounter is a go-redis hook counting the commands a client sends.
type commandCounter struct {
	n     atomic.Int64
	mu    sync.Mutex
	names map[string]int
}

func (c *commandCounter) add(cmd redis.Cmder) {
	c.n.Add(1)
	c.mu.Lock()
	if c.names == nil {
		c.names = map[string]int{}
	}
	name := cmd.Name()
	if args := cmd.Args(); len(args) > 1 {
		name = fmt.Sprint(args[0], " ", args[1])
	}
	c.names[strings.ToUpper(name)]++
	c.mu.Unlock()
}

// handshake counts the commands go-redis sends once per new connection.
func (c *commandCounter) handshake() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for k, v := range c.names {
		if strings.HasPrefix(k, "HELLO") || strings.HasPrefix(k, "CLIENT ") {
			n += int64(v)
		}
	}
	return n
}

func (c *commandCounter) summary() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.names))
	for k := range c.names {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, c.names[k])
	}
	return strings.Join(parts, ", ")
}

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.add(cmd)
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			c.add(cmd)
		}
		return next(ctx, cmds)
	}
}
