package demo

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/cachescope/cachescope/monitor"
)

func TestDemoWorkloadMovesTheNumbersAndCleansUp(t *testing.T) {
	redistest.Require(t)
	ctx := context.Background()
	d, err := Start(ctx, Options{Pace: 4})
	if err != nil {
		t.Fatal(err)
	}
	if d.Embedded {
		t.Fatal("redis-server is installed but the demo chose the embedded server")
	}
	rdb := redis.NewClient(&redis.Options{Addr: d.Addr})
	defer rdb.Close()

	snap, err := monitor.Sample(ctx, rdb, 2*time.Second, monitor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Rates.OpsPerSec < 100 || !snap.Rates.HitRateValid || snap.Keys < 100 {
		t.Fatalf("the demo is too quiet: ops/s %.0f, hit rate valid %v, keys %d", snap.Rates.OpsPerSec, snap.Rates.HitRateValid, snap.Keys)
	}
	for _, pattern := range []string{"product:*", "session:*", "cart:*", "report:*"} {
		keys, _, err := rdb.Scan(ctx, 0, pattern, 100000).Result()
		if err != nil || len(keys) == 0 {
			t.Errorf("no %s keys (%v)", pattern, err)
		}
	}
	pid := serverPID(t, rdb)
	dir := serverDir(t, rdb)
	d.Close()
	d.Close() // idempotent

	if err := exec.Command("kill", "-0", pid).Run(); err == nil {
		t.Fatalf("redis-server %s still runs after Close", pid)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the server's directory %s is left behind (%v)", dir, err)
	}
}

func TestEmbeddedDemo(t *testing.T) {
	d, err := Start(context.Background(), Options{Embedded: true, Pace: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !d.Embedded {
		t.Fatal("Embedded option ignored")
	}
	rdb := redis.NewClient(&redis.Options{Addr: d.Addr})
	defer rdb.Close()
	time.Sleep(300 * time.Millisecond)
	n, err := rdb.DBSize(context.Background()).Result()
	if err != nil || n < 10 {
		t.Fatalf("embedded demo has %d keys (%v)", n, err)
	}
	snap, err := monitor.Sample(context.Background(), rdb, 500*time.Millisecond, monitor.Options{})
	if err != nil || !snap.Health.Up || snap.Rates.OpsPerSec <= 0 {
		t.Fatalf("monitor on the embedded server: up %v ops %.0f err %v", snap.Health.Up, snap.Rates.OpsPerSec, err)
	}
}

func serverPID(t *testing.T, rdb *redis.Client) string {
	t.Helper()
	info := rdb.Info(context.Background(), "server").Val()
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return v
		}
	}
	t.Fatal("no process_id in INFO")
	return ""
}

func serverDir(t *testing.T, rdb *redis.Client) string {
	t.Helper()
	v, err := rdb.ConfigGet(context.Background(), "dir").Result()
	if err != nil || v["dir"] == "" {
		t.Fatalf("CONFIG GET dir: %v %v", v, err)
	}
	return v["dir"]
}
