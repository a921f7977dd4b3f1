package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var shared = NewSharedCluster(ClusterConfig{Masters: 3, Replicas: 1})

func TestMain(m *testing.M) { os.Exit(shared.Main(m)) }

func TestClusterHasSyncedReplicasAndSpreadsKeys(t *testing.T) {
	t.Parallel()
	c := shared.Get(t)
	if len(c.Nodes) != 6 || len(c.Masters()) != 3 {
		t.Fatalf("%d nodes, %d masters; want 6 and 3", len(c.Nodes), len(c.Masters()))
	}
	ctx := context.Background()
	for i, s := range c.Nodes {
		rdb := s.Client(t)
		info, err := rdb.ClusterInfo(ctx).Result()
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			t.Fatalf("node %d: %v %q", i, err, info)
		}
		if c.Role(i) == "slave" {
			repl := rdb.Info(ctx, "replication").Val()
			if !strings.Contains(repl, "master_link_status:up") {
				t.Fatalf("replica %s not linked: %s", s.Addr, repl)
			}
		}
	}
	rdb := c.Client(t)
	for i := 0; i < 100; i++ {
		if err := rdb.Set(ctx, fmt.Sprintf("spread:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var masters atomic.Int64
	err := rdb.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		keys, _, err := node.Scan(ctx, 0, "spread:*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			return fmt.Errorf("master %s holds no keys", node.Options().Addr)
		}
		masters.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if masters.Load() != 3 {
		t.Fatalf("%d masters, want 3", masters.Load())
	}
}

// alive reports whether a process exists (signal 0 checks without
// sending anything).
func alive(pid int) bool {
	return pid > 0 && !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func waitGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d still running after Close", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestSharedClusterCloseLeavesNoProcess(t *testing.T) {
	t.Parallel()
	s := NewSharedCluster(ClusterConfig{Masters: 3})
	c := s.Get(t)
	var pids []int
	for _, n := range c.Nodes {
		pids = append(pids, n.Pid())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	waitGone(t, pids)
}
