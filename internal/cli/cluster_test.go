package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterURL fills the shared cluster with n keys "prefix:i" and returns
// a URL of one node (not the first: any node will do), the admin client
// and a state directory for backups and the audit log.
func clusterURL(t *testing.T, prefix string, n int) (string, *redis.ClusterClient) {
	t.Helper()
	cl := sharedCluster.Get(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	admin := cl.Client(t)
	p := admin.Pipeline()
	for i := 0; i < n; i++ {
		p.Set(t.Context(), fmt.Sprintf("%s:%d", prefix, i), i, time.Hour)
	}
	if _, err := p.Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
	return "redis://" + cl.Nodes[len(cl.Nodes)-1].Addr, admin
}

func countKeys(t *testing.T, admin *redis.ClusterClient, pattern string) int {
	t.Helper()
	var n atomic.Int64 // the masters are scanned at once
	err := admin.ForEachMaster(t.Context(), func(ctx context.Context, m *redis.Client) error {
		iter := m.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			n.Add(1)
		}
		return iter.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(n.Load())
}

func TestStatsOnCluster(t *testing.T) {
	url, _ := clusterURL(t, "cstats", 10)
	out, errOut, code := run(t, "stats", "--json", "--interval", "300ms", "--url", url)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Mode    string           `json:"mode"`
		Up      bool             `json:"up"`
		Keys    int64            `json:"keys"`
		Nodes   []map[string]any `json:"nodes"`
		Cluster map[string]any   `json:"cluster"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if r.Mode != "cluster" || !r.Up || r.Keys < 10 || len(r.Nodes) != 6 || r.Cluster["state"] != "ok" {
		t.Fatalf("report: %+v", r)
	}
	masters := 0
	for _, n := range r.Nodes {
		for _, f := range []string{"addr", "role", "up", "ops_per_sec", "used_memory", "keys", "hit_rate", "connected_clients"} {
			if _, ok := n[f]; !ok {
				t.Errorf("node lacks %q: %v", f, n)
			}
		}
		if n["role"] == "master" {
			masters++
		} else if _, ok := n["lag_bytes"]; !ok {
			t.Errorf("replica without lag: %v", n)
		}
	}
	if masters != 3 {
		t.Errorf("%d masters", masters)
	}

	out, errOut, code = run(t, "stats", "--interval", "300ms", "--url", url)
	t.Logf("stats on a cluster:\n%s", out)
	if code != ExitOK || !strings.Contains(out, "cluster state ok") || strings.Count(out, "master ") < 3 {
		t.Fatalf("table: exit %d %s\n%s", code, errOut, out)
	}
}

func TestKeysInvalidateRestoreAnalyzeOnCluster(t *testing.T) {
	url, admin := clusterURL(t, "ccli", 500)
	out, errOut, code := run(t, "keys", "ccli:*", "--json", "--limit", "0", "--url", url)
	if code != ExitOK {
		t.Fatalf("keys: exit %d: %s", code, errOut)
	}
	rows := jsonLines(t, out)
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r["key"].(string)] = true
	}
	if len(rows) != 500 || len(seen) != 500 {
		t.Fatalf("keys: %d rows, %d distinct", len(rows), len(seen))
	}

	out, errOut, code = run(t, "analyze", "ccli:*", "--json", "--rate", "0", "--url", url)
	if code != ExitOK {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	var a map[string]any
	if err := json.Unmarshal([]byte(out), &a); err != nil || a["keys"].(float64) != 500 {
		t.Fatalf("analyze: %v %v", a["keys"], err)
	}

	out, errOut, code = run(t, "invalidate", "ccli:1*", "--yes", "--json", "--rate", "0", "--url", url)
	if code != ExitOK {
		t.Fatalf("invalidate: exit %d: %s", code, errOut)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep["deleted"].(float64) != 111 || countKeys(t, admin, "ccli:*") != 389 {
		t.Fatalf("invalidate: %v, %d keys left", rep, countKeys(t, admin, "ccli:*"))
	}
	_, errOut, code = run(t, "restore", rep["backup"].(string), "--url", url)
	if code != ExitOK || countKeys(t, admin, "ccli:*") != 500 {
		t.Fatalf("restore: exit %d %s, %d keys", code, errOut, countKeys(t, admin, "ccli:*"))
	}
}

func TestPubSubOnCluster(t *testing.T) {
	cl := sharedCluster.Get(t)
	var out, errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		root := newRoot(&Deps{Stdout: &out, Stderr: &errOut})
		root.SetArgs([]string{"pubsub", "cpubsub:*", "--json", "--url", "redis://" + cl.Nodes[1].Addr})
		done <- root.ExecuteContext(ctx)
	}()
	// Publish on every node until the tap (subscribed on one of them)
	// has them all: classic pub/sub crosses the cluster bus.
	waitUntil(t, "messages from every node", func() bool {
		for i, addr := range cl.Addrs() {
			node := redis.NewClient(&redis.Options{Addr: addr})
			node.Publish(ctx, fmt.Sprintf("cpubsub:%d", i), "m")
			_ = node.Close()
		}
		for i := range cl.Addrs() {
			if !strings.Contains(out.String(), fmt.Sprintf(`"cpubsub:%d"`, i)) {
				return false
			}
		}
		return true
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("pubsub: %v (%s)", err, errOut.String())
	}
}
