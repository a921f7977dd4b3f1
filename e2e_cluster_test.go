package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/cachescope/cachescope/internal/tmuxtest"
)

// TestEndToEndClusterFailover runs the real binary in tmux against one
// node of a real 3-master cluster: it finds all six nodes by itself, the
// Nodes view lists them, and when a master is killed the view shows it
// down, then the failover, and the keys stay browsable.
func TestEndToEndClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	cl := redistest.StartCluster(t, redistest.ClusterConfig{Masters: 3, Replicas: 1, NodeTimeout: 1500 * time.Millisecond})
	rdb := cl.Client(t)
	ctx := context.Background()
	for i := 0; i < 300; i++ {
		if err := rdb.Set(ctx, fmt.Sprintf("product:%d", i), "{}", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	bin := buildBinary(t)
	last := cl.Nodes[len(cl.Nodes)-1]
	tm := tmuxtest.Start(t, 120, 40, bin+" --url redis://"+last.Addr+" --refresh 250ms")
	tm.WaitText("6 nodes", 20*time.Second)
	tm.Send(":")
	tm.Type("nodes")
	tm.Send("Enter")
	tm.WaitText("3 masters, 3 replicas", 10*time.Second)

	var victim string
	for _, m := range cl.Masters() {
		if m != last {
			victim = m.Addr
			if err := m.Stop(); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if victim == "" {
		t.Fatal("no master to kill")
	}
	tm.WaitFor("the killed master shown down", 20*time.Second, func(s string) bool {
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, victim) && strings.Contains(line, "DOWN") {
				return true
			}
		}
		return false
	})
	screen := tm.WaitText("failover: ", 30*time.Second)
	if !strings.Contains(screen, "replaced "+victim) {
		t.Fatalf("the failover does not name the replaced master %s:\n%s", victim, screen)
	}

	tm.Send(":")
	tm.Type("keys")
	tm.Send("Enter")
	tm.WaitText("product:", 20*time.Second)
	tm.Send("q")
	tm.WaitExit(10 * time.Second)
}
