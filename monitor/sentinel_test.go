package monitor

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// startSentinel runs a redis-server in sentinel mode watching master as
// "mymaster", stopped when the test ends.
func startSentinel(t *testing.T, master *redistest.Server) string {
	t.Helper()
	bin := redistest.Require(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\nsentinel monitor mymaster 127.0.0.1 %d 1\n",
		port, dir, filepath.Join(dir, "sentinel.log"), master.Port)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	waitFor(t, func() bool { return c.Ping(context.Background()).Err() == nil })
	return addr
}

func TestPollerThroughSentinelFailoverClient(t *testing.T) {
	t.Parallel()
	master := startServer(t)
	sentinel := startSentinel(t, master.Server)
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: []string{sentinel}})
	t.Cleanup(func() { _ = rdb.Close() })
	redistest.ForbidDangerous(t, rdb)

	clock := newFakeClock()
	p := clockedPoller(rdb, Options{}, clock)
	pollAfter(t, p, clock, 0)
	snap := pollAfter(t, p, clock, time.Second)
	if !snap.Health.Up || !snap.Rates.Valid {
		t.Fatalf("through sentinel: %+v", snap.Health)
	}
	if snap.Server.Port != int64(master.Port) || snap.Replication.Role != "master" || snap.Addr != "" {
		t.Errorf("polled port %d role %q addr %q, want the master on %d", snap.Server.Port, snap.Replication.Role, snap.Addr, master.Port)
	}
}
