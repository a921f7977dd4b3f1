package redisproc

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterConfig describes a local Redis Cluster.
type ClusterConfig struct {
	// Masters is the number of masters; 0 means 3 (the minimum Redis
	// accepts).
	Masters int
	// Replicas is the number of replicas per master.
	Replicas int
	// NodeTimeout is cluster-node-timeout: how long a node may not answer
	// before the others flag it failing and its replica takes over. 0 means
	// 3s, which a loaded test machine does not trip by accident; tests that
	// kill a master on purpose pass less to make the failover quick.
	NodeTimeout time.Duration
	// Args are extra redis-server arguments for every node.
	Args []string
}

// Cluster is a running local Redis Cluster.
type Cluster struct {
	// Nodes are the servers in the order they were started. redis-cli makes
	// the first Masters of them masters and the rest replicas, but a
	// failover changes that: ask the cluster (CLUSTER NODES, or [Cluster.Role])
	// for the current roles.
	Nodes []*Server
	// Replicas is the number of replicas per master asked for.
	Replicas int
}

// StartCluster starts the nodes, joins them with `redis-cli --cluster
// create` and waits until every node reports cluster_state:ok and knows all
// the others, and every replica has finished its first sync. The caller
// must call Close, which stops every process.
func StartCluster(cfg ClusterConfig) (*Cluster, error) {
	if cfg.Masters == 0 {
		cfg.Masters = 3
	}
	if cfg.Masters < 3 {
		return nil, errors.New("redisproc: a cluster needs at least 3 masters")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, fmt.Errorf("redis-cli not found on PATH: %s", InstallHint)
	}
	if cfg.NodeTimeout <= 0 {
		cfg.NodeTimeout = 3 * time.Second
	}
	c := &Cluster{Replicas: cfg.Replicas}
	n := cfg.Masters * (1 + cfg.Replicas)
	for i := 0; i < n; i++ {
		args := append([]string{
			"--cluster-enabled", "yes",
			"--cluster-node-timeout", strconv.FormatInt(cfg.NodeTimeout.Milliseconds(), 10),
			"--cluster-require-full-coverage", "no",
		}, cfg.Args...)
		// The config file name must be unique per node in a shared dir;
		// each node has its own dir, so a fixed name is fine.
		args = append(args, "--cluster-config-file", "nodes.conf")
		s, err := Start(Config{MaxPort: 55536, BusPortFree: true, Args: args})
		if err != nil {
			_ = c.Close()
			return nil, err
		}
		c.Nodes = append(c.Nodes, s)
	}
	create := []string{"--cluster", "create"}
	for _, s := range c.Nodes {
		create = append(create, s.Addr)
	}
	create = append(create, "--cluster-replicas", strconv.Itoa(cfg.Replicas), "--cluster-yes")
	out, err := exec.Command(cli, create...).CombinedOutput()
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redisproc: redis-cli --cluster create: %v: %s", err, lastLines(string(out), 5))
	}
	if err := c.waitReady(30 * time.Second); err != nil {
		_ = c.Close()
		return nil, err
	}
	if cfg.Replicas > 0 {
		if err := c.waitReplicasListed(30 * time.Second); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	return c, nil
}

// waitReplicasListed writes (and deletes) a few keys on every master and
// waits until every node lists every replica in CLUSTER SLOTS. Redis 7.0
// leaves a replica out of CLUSTER SLOTS, where go-redis learns the nodes,
// until the cluster has seen its replication offset above zero; a fresh
// cluster's replicas would be invisible to ForEachShard.
func (c *Cluster) waitReplicasListed(timeout time.Duration) error {
	ctx := context.Background()
	cc := redis.NewClusterClient(c.Options())
	defer cc.Close()
	for i := 0; i < 64; i++ {
		key := fmt.Sprintf("redisproc:warm:%d", i)
		if err := cc.Set(ctx, key, "1", 0).Err(); err != nil {
			return fmt.Errorf("redisproc: warming the cluster: %w", err)
		}
		if err := cc.Del(ctx, key).Err(); err != nil {
			return fmt.Errorf("redisproc: warming the cluster: %w", err)
		}
	}
	deadline := time.Now().Add(timeout)
	for _, s := range c.Nodes {
		rdb := redis.NewClient(s.Options())
		for {
			slots, err := rdb.ClusterSlots(ctx).Result()
			if err == nil && allListed(slots, 1+c.Replicas) {
				break
			}
			if time.Now().After(deadline) {
				_ = rdb.Close()
				return fmt.Errorf("redisproc: node %s does not list every replica in CLUSTER SLOTS: %v %v", s.Addr, slots, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = rdb.Close()
	}
	return nil
}

func allListed(slots []redis.ClusterSlot, nodes int) bool {
	for _, s := range slots {
		if len(s.Nodes) < nodes {
			return false
		}
	}
	return len(slots) > 0
}

// Addrs returns the address of every node.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		out[i] = s.Addr
	}
	return out
}

// Options returns go-redis cluster options for this cluster.
func (c *Cluster) Options() *redis.ClusterOptions {
	return &redis.ClusterOptions{Addrs: c.Addrs(), ContextTimeoutEnabled: true}
}

// Client returns a cluster client closed at cleanup.
func (c *Cluster) Client(tb Cleaner) *redis.ClusterClient {
	tb.Helper()
	cl := redis.NewClusterClient(c.Options())
	tb.Cleanup(func() { _ = cl.Close() })
	return cl
}

// Close stops every node.
func (c *Cluster) Close() error {
	var errs []error
	for _, s := range c.Nodes {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// waitReady waits until every node reports cluster_state:ok and knows all
// the others, and every replica's link to its master is up with its first
// sync done.
func (c *Cluster) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, s := range c.Nodes {
		if err := c.waitNode(s, deadline); err != nil {
			return err
		}
	}
	return nil
}

// WaitHealthy waits up to timeout for the cluster to be whole again, as
// after a failover: every running node reports cluster_state:ok, and every
// running replica is synced with its master.
func (c *Cluster) WaitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, s := range c.Nodes {
		if !s.Running() {
			continue
		}
		if err := c.waitNode(s, deadline); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) waitNode(s *Server, deadline time.Time) error {
	ctx := context.Background()
	rdb := redis.NewClient(s.Options())
	defer rdb.Close()
	var last string
	for {
		ok, state := nodeReady(ctx, rdb, len(c.Nodes))
		if ok {
			return nil
		}
		last = state
		if time.Now().After(deadline) {
			return fmt.Errorf("redisproc: cluster node %s not ready: %s", s.Addr, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// nodeReady reports whether a node sees a healthy cluster of n nodes and,
// if it is a replica, has synced with its master; state says what is
// missing.
func nodeReady(ctx context.Context, rdb *redis.Client, n int) (bool, string) {
	info, err := rdb.ClusterInfo(ctx).Result()
	if err != nil {
		return false, err.Error()
	}
	if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(n)) {
		return false, lastLines(info, 3)
	}
	repl, err := rdb.Info(ctx, "replication").Result()
	if err != nil {
		return false, err.Error()
	}
	if strings.Contains(repl, "role:slave") &&
		(!strings.Contains(repl, "master_link_status:up") || !strings.Contains(repl, "master_sync_in_progress:0")) {
		return false, "replica not synced: " + lastLines(repl, 4)
	}
	return true, ""
}

// Role returns the role ("master" or "slave") node i reports now, or ""
// when it does not answer.
func (c *Cluster) Role(i int) string { return roleOf(context.Background(), c.Nodes[i]) }

// Masters returns the nodes that report the master role now, in start
// order.
func (c *Cluster) Masters() []*Server {
	var out []*Server
	for i, s := range c.Nodes {
		if !s.Running() {
			continue
		}
		if c.Role(i) == "master" {
			out = append(out, s)
		}
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
