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
	// Args are extra redis-server arguments for every node.
	Args []string
}

// Cluster is a running local Redis Cluster.
type Cluster struct {
	// Nodes are the servers, masters first as created.
	Nodes []*Server
}

// StartCluster starts the nodes, joins them with `redis-cli --cluster
// create` and waits for cluster_state:ok on every node. The caller must
// call Close.
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
	c := &Cluster{}
	n := cfg.Masters * (1 + cfg.Replicas)
	for i := 0; i < n; i++ {
		args := append([]string{
			"--cluster-enabled", "yes",
			"--cluster-node-timeout", "2000",
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
	return c, nil
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
// the others, and a cluster client can write to every slot range.
func (c *Cluster) waitReady(timeout time.Duration) error {
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for _, s := range c.Nodes {
		rdb := redis.NewClient(s.Options())
		for {
			info, err := rdb.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(c.Nodes))) {
				break
			}
			if time.Now().After(deadline) {
				_ = rdb.Close()
				return fmt.Errorf("redisproc: cluster node %s not ready: %v %s", s.Addr, err, lastLines(info, 3))
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = rdb.Close()
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
