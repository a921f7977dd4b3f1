package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redisproc"
	"github.com/cachescope/cachescope/monitor"
)

// clusterIdleWindow is how long the cluster's own background commands
// (a master's PING to its replica every 10s, ...) are counted with no
// dashboard, over as long a window as the dashboard's, so the per-node
// figures are not skewed by a PING more or less.
const clusterIdleWindow = dashboardWindow

// measureDashboardCluster is the cluster half of measure 7: the commands
// per second per node the dashboard's poller costs a 3-master cluster with
// a replica each, counted by the servers themselves (INFO commandstats on
// every node). What the cluster does on its own over an idle window is
// subtracted, and so are the once-per-connection handshakes and the
// replication acknowledgements, which no refresh sends.
func measureDashboardCluster(ctx context.Context, _ config) ([]row, error) {
	cl, err := redisproc.StartCluster(redisproc.ClusterConfig{Masters: 3, Replicas: 1})
	if err != nil {
		return nil, err
	}
	defer func() { _ = cl.Close() }()
	if err := cl.WaitHealthy(30 * time.Second); err != nil {
		return nil, err
	}
	admins := make([]*redis.Client, len(cl.Nodes))
	for i, n := range cl.Nodes {
		admins[i] = redis.NewClient(&redis.Options{Addr: n.Addr})
		defer admins[i].Close()
	}
	// counted reads every node's count of the commands a refresh may send.
	counted := func() ([]int64, error) {
		out := make([]int64, len(admins))
		for i, a := range admins {
			info, err := a.Info(ctx, "commandstats").Result()
			if err != nil {
				return nil, err
			}
			out[i] = refreshCommands(info)
		}
		return out, nil
	}
	// window returns each node's commands per second over d; each reading
	// is one INFO per node, counted by the next reading.
	window := func(d time.Duration, during func(context.Context)) ([]float64, error) {
		before, err := counted()
		if err != nil {
			return nil, err
		}
		start := time.Now()
		wctx, cancel := context.WithTimeout(ctx, d)
		during(wctx)
		<-wctx.Done()
		cancel()
		elapsed := time.Since(start)
		after, err := counted()
		if err != nil {
			return nil, err
		}
		rates := make([]float64, len(after))
		for i := range after {
			rates[i] = float64(after[i]-before[i]-1) / elapsed.Seconds()
		}
		return rates, nil
	}

	idle, err := window(clusterIdleWindow, func(context.Context) {})
	if err != nil {
		return nil, err
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), ContextTimeoutEnabled: true})
	defer rdb.Close()
	var last *monitor.Snapshot
	busy, err := window(dashboardWindow, func(wctx context.Context) {
		p := monitor.NewPoller(rdb, monitor.Options{})
		_ = p.Run(wctx, nil)
		last = p.Latest()
		_ = p.Close()
	})
	if err != nil {
		return nil, err
	}
	if last == nil || !last.Health.Up || len(last.Nodes) != len(cl.Nodes) {
		return nil, fmt.Errorf("the poller did not see the whole cluster")
	}
	var sum, worst, idleSum float64
	for i := range busy {
		cost := busy[i] - idle[i]
		sum += cost
		worst = max(worst, cost)
		idleSum += idle[i]
	}
	nodes := float64(len(busy))
	perNode := sum / nodes
	return []row{{
		measure: fmt.Sprintf("7. dashboard cost on the server at the default refresh (cluster of 3 masters, %d nodes)", len(busy)),
		ours:    fmt.Sprintf("%.2f commands/s per node (busiest %.2f)", perNode, worst),
		target:  "≤ 1.2 per node",
		met:     verdict(perNode <= 1.2),
		note: fmt.Sprintf("counted by each node (INFO commandstats) over %v, less what it ran idle over %v (%.2f commands/s over the cluster), "+
			"handshakes (HELLO, CLIENT) and REPLCONF; the busiest node also answered the cluster client's own slot discovery", dashboardWindow, clusterIdleWindow, idleSum),
	}}, nil
}

// refreshCommands sums the calls of INFO commandstats, leaving out what a
// refresh never sends: a connection's handshake (HELLO, CLIENT ...) and
// replication's REPLCONF.
func refreshCommands(info string) int64 {
	var total int64
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isStat := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isStat || name == "hello" || name == "replconf" || strings.HasPrefix(name, "client") {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		if v, ok := strings.CutPrefix(calls, "calls="); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			total += n
		}
	}
	return total
}
