package monitor

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// clusterTraffic sends hits GETs of keys that exist and misses GETs of
// keys that do not, spread over every master, through the cluster client.
func clusterTraffic(t *testing.T, c *redis.ClusterClient, prefix string, hits, misses int) {
	t.Helper()
	ctx := context.Background()
	pipe := c.Pipeline()
	for i := 0; i < hits; i++ {
		pipe.Get(ctx, fmt.Sprintf("%s:%d", prefix, i%300))
	}
	for i := 0; i < misses; i++ {
		pipe.Get(ctx, fmt.Sprintf("%s:absent:%d", prefix, i))
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		t.Fatal(err)
	}
}

// waitReplicated waits until every master's replicas have acknowledged
// everything written so far (WAIT).
func waitReplicated(t *testing.T, admin *redis.ClusterClient) {
	t.Helper()
	err := admin.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
		n, err := m.Wait(ctx, 1, 10*time.Second).Result()
		if err == nil && n < 1 {
			err = fmt.Errorf("master %s: no replica acknowledged", m.Options().Addr)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// Not parallel: it counts the operations of the whole cluster.
func TestClusterPollerAggregatesEveryNode(t *testing.T) {
	cl := sharedCluster.Get(t)
	admin := cl.Client(t)
	watched := cl.Client(t)
	redistest.ForbidDangerous(t, watched)
	ctx := context.Background()
	pipe := admin.Pipeline()
	for i := 0; i < 300; i++ {
		pipe.Set(ctx, fmt.Sprintf("agg:%d", i), "v", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 300; i++ {
			admin.Del(ctx, fmt.Sprintf("agg:%d", i))
		}
	})
	// Replicas count the writes they apply: let them finish before the
	// baseline.
	waitReplicated(t, admin)
	// The application's client, connected to every master before the
	// baseline.
	app := cl.Client(t)
	clusterTraffic(t, app, "agg", 3, 3)

	clock := newFakeClock()
	p := clockedPoller(watched, Options{Addr: "cluster test"}, clock)
	t.Cleanup(func() { _ = p.Close() })
	first := pollAfter(t, p, clock, 0)
	if !first.Health.Up || first.Mode != ModeCluster || first.Rates.Valid {
		t.Fatalf("first tick: up=%v mode=%q valid=%v err=%q", first.Health.Up, first.Mode, first.Rates.Valid, first.Health.Error)
	}
	checkTopology(t, first)
	c := first.Cluster
	if c == nil || c.State != "ok" || c.SlotsOK != 16384 || c.KnownNodes != 6 || c.Size != 3 || c.TopologySource != "CLUSTER SHARDS" || c.Error != "" {
		t.Fatalf("cluster state %+v", c)
	}

	clusterTraffic(t, app, "agg", 3000, 1000)
	s := pollAfter(t, p, clock, time.Second)
	if !s.Rates.Valid {
		t.Fatalf("second tick: rates not valid: %+v", s.Health)
	}
	checkSane(t, "cluster", s)
	// The lookups happened on the masters only, and were all the test's.
	if s.Rates.Hits != 3000 || s.Rates.Misses != 1000 || !s.Rates.HitRateValid || s.Rates.HitRate != 0.75 {
		t.Errorf("hits %d misses %d rate %v", s.Rates.Hits, s.Rates.Misses, s.Rates.HitRate)
	}
	// Every node's own traffic is subtracted; what remains beyond the
	// GETs is replication's own chatter (REPLCONF ACK every second, PING
	// every 10s).
	if ops := opsIn(s.Rates); ops < 4000 || ops > 4000+5*6*s.Rates.Interval.Seconds()+5 {
		t.Errorf("ops %.1f over %v, want about 4000", ops, s.Rates.Interval)
	}

	var ops, netIn float64
	var clients, masterMem, masterKeys int64
	for _, n := range s.Nodes {
		if !n.Up || !n.RatesValid || n.Snapshot == nil || n.Snapshot.Mode != "" {
			t.Fatalf("node %s: %+v", n.Addr, n)
		}
		ops += n.OpsPerSec
		netIn += n.NetInPerSec
		clients += n.Clients
		if n.Role == "master" {
			masterMem += n.UsedMemory
			masterKeys += n.Keys
			if n.OpsPerSec < 900 {
				t.Errorf("master %s: %.0f ops/s; the GETs go to every master", n.Addr, n.OpsPerSec)
			}
		} else if !n.LagKnown || n.LinkStatus != "up" || n.Health != "online" {
			t.Errorf("replica %s: lag known %v, link %q, health %q", n.Addr, n.LagKnown, n.LinkStatus, n.Health)
		}
	}
	if !near(ops, s.Rates.OpsPerSec) || !near(netIn, s.Rates.NetInPerSec) {
		t.Errorf("ops %.2f, net in %.2f: not the sums %.2f, %.2f over the nodes", s.Rates.OpsPerSec, s.Rates.NetInPerSec, ops, netIn)
	}
	if s.Clients.Connected != clients || s.Memory.Used != masterMem || s.Keys != masterKeys {
		t.Errorf("clients %d (nodes %d), memory %d (masters %d), keys %d (masters %d)",
			s.Clients.Connected, clients, s.Memory.Used, masterMem, s.Keys, masterKeys)
	}
	if s.Keys < 300 || len(s.Keyspace) != 1 || s.Keyspace[0].Keys != s.Keys {
		t.Errorf("keys %d keyspace %+v", s.Keys, s.Keyspace)
	}
	hottest := 0
	for _, n := range s.Nodes {
		if n.Hottest {
			hottest++
			if n.Role != "master" {
				t.Errorf("hottest node %s is a %s", n.Addr, n.Role)
			}
		}
	}
	if hottest != 1 {
		t.Errorf("%d hottest nodes", hottest)
	}
	if h := s.History; h.Len() != 2 || h.OpsPerSec[1] != s.Rates.OpsPerSec || !math.IsNaN(h.OpsPerSec[0]) {
		t.Errorf("history %v", h.OpsPerSec)
	}
	// A 75% hit rate is all there is to say about this cluster.
	if len(s.Alerts) != 1 || s.Alerts[0].ID != AlertHitRate {
		t.Errorf("alerts on a healthy cluster: %v", s.Alerts)
	}

	// The detail tier ran on every node at the first tick and runs again
	// now: the GETs of every master are summed.
	detail := pollAfter(t, p, clock, DefaultDetailInterval)
	get := findCommand(detail, "get")
	if get == nil || math.Round(get.CallsPerSec*detail.DetailWindow.Seconds()) != 4000 {
		t.Errorf("merged get = %+v over %v, want 4000 calls", get, detail.DetailWindow)
	}
	if info := findCommand(detail, "info"); info == nil || info.CallsPerSec != 0 {
		t.Errorf("the poller's own INFO calls are counted: %+v", info)
	}
	for _, own := range []string{"cluster|shards", "cluster|info"} {
		if c := findCommand(detail, own); c != nil && c.CallsPerSec != 0 {
			t.Errorf("the poller's own %s calls are counted: %+v", own, c)
		}
	}

	r := NewReport(detail)
	if r.Mode != ModeCluster || len(r.Nodes) != 6 || r.Cluster == nil || r.Cluster.State != "ok" {
		t.Fatalf("report: mode %q, %d nodes, cluster %+v", r.Mode, len(r.Nodes), r.Cluster)
	}
}

// checkTopology checks the node list of a healthy 3+3 cluster: masters in
// slot order, each followed by its replica, every slot served once.
func checkTopology(t *testing.T, s *Snapshot) {
	t.Helper()
	if len(s.Nodes) != 6 {
		t.Fatalf("%d nodes, want 6", len(s.Nodes))
	}
	slots, lastStart := 0, -1
	var master NodeStatus
	for i, n := range s.Nodes {
		if n.ID == "" || n.Addr == "" || !n.Up || n.Version == "" {
			t.Errorf("node %d: %+v", i, n)
		}
		switch n.Role {
		case "master":
			master = n
			slots += n.SlotCount
			if len(n.Slots) == 0 || n.Slots[0].Start <= lastStart {
				t.Errorf("master %s slots %v out of order", n.Addr, n.Slots)
			}
			lastStart = n.Slots[0].Start
		case "replica":
			if n.MasterID != master.ID || n.MasterAddr != master.Addr {
				t.Errorf("replica %s of %s/%s follows %s", n.Addr, n.MasterID, n.MasterAddr, master.Addr)
			}
		default:
			t.Errorf("node %s role %q", n.Addr, n.Role)
		}
	}
	if slots != 16384 {
		t.Errorf("%d slots", slots)
	}
}

// Not parallel: it counts what the poller sends each node.
func TestClusterPollerBudgetPerNode(t *testing.T) {
	cl := sharedCluster.Get(t)
	watched := cl.Client(t)
	clock := newFakeClock()
	p := clockedPoller(watched, Options{}, clock)
	t.Cleanup(func() { _ = p.Close() })
	const ticks = 60
	for i := 0; i < ticks; i++ {
		if s := pollAfter(t, p, clock, time.Second); !s.Health.Up || len(s.Nodes) != 6 {
			t.Fatalf("tick %d: up=%v nodes=%d %s", i, s.Health.Up, len(s.Nodes), s.Health.Error)
		}
	}
	total := 0
	var lines []string
	for _, m := range p.cluster.sortedMembers() {
		n := 0
		for _, calls := range m.node.ownCalls {
			n += int(calls)
		}
		total += n
		perSec := float64(n) / ticks
		lines = append(lines, fmt.Sprintf("%s %.2f/s %v", m.addr, perSec, m.node.ownCalls))
		// 1.17/s of a single server, plus a share of the CLUSTER INFO
		// (every 10s) and topology (every 30s) reads over 6 nodes: 0.02/s.
		// The share is uneven over 60 ticks (nodes take turns).
		if perSec > 1.25 {
			t.Errorf("node %s: %.2f commands/s at the default refresh (%v)", m.addr, perSec, m.node.ownCalls)
		}
	}
	t.Logf("commands per node per second over %d ticks:\n%s\nmean %.3f/s", ticks, strings.Join(lines, "\n"), float64(total)/ticks/6)
}

// Before Redis 7 there is no CLUSTER SHARDS; an ACL may refuse it too. The
// poller then reads CLUSTER NODES and sees the same topology.
func TestClusterPollerFallsBackToClusterNodes(t *testing.T) {
	t.Parallel()
	cl := sharedCluster.Get(t)
	ctx := context.Background()
	for _, addr := range cl.Addrs() {
		node := redis.NewClient(&redis.Options{Addr: addr})
		err := node.Do(ctx, "acl", "setuser", "noshards", "on", ">pw", "~*", "&*", "+@all", "-cluster|shards").Err()
		_ = node.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	opts := cl.Options()
	opts.Username, opts.Password = "noshards", "pw"
	rdb := redis.NewClusterClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	redistest.ForbidDangerous(t, rdb)
	p := NewPoller(rdb, Options{})
	t.Cleanup(func() { _ = p.Close() })
	s := p.Poll(ctx)
	if !s.Health.Up || s.Cluster == nil || s.Cluster.TopologySource != "CLUSTER NODES" || s.Cluster.Error != "" {
		t.Fatalf("up %v cluster %+v (%s)", s.Health.Up, s.Cluster, s.Health.Error)
	}
	checkTopology(t, s)
	for _, n := range s.Nodes {
		if n.Health != "online" || len(n.Flags) == 0 {
			t.Errorf("node %s: health %q flags %v", n.Addr, n.Health, n.Flags)
		}
	}
}
