package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/cachescope/cachescope/monitor"
	"github.com/redis/go-redis/v9"
)

// A dashboard runs a poller in the background and renders each snapshot
// it delivers; nothing in the snapshot changes after delivery.
func ExamplePoller_Run() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	p := monitor.NewPoller(rdb, monitor.Options{}) // 1s refresh, 15 minutes of history

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snapshots := make(chan *monitor.Snapshot, 1)
	go p.Run(ctx, func(s *monitor.Snapshot) {
		select {
		case snapshots <- s:
		default: // the consumer is busy; it can always read p.Latest()
		}
	})
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-snapshots:
			if !s.Health.Up {
				fmt.Println("DOWN:", s.Health.Reason)
				continue
			}
			if s.Rates.HitRateValid {
				fmt.Printf("%.0f ops/s, hit rate %.1f%%\n", s.Rates.OpsPerSec, s.Rates.HitRate*100)
			}
			for _, a := range s.Alerts {
				fmt.Println(a.Level, a.Message)
			}
		}
	}
}

// `cachescope stats --json` is one Sample turned into a Report.
func ExampleSample() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	snap, err := monitor.Sample(context.Background(), rdb, time.Second, monitor.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "server unreachable:", err)
	}
	_ = json.NewEncoder(os.Stdout).Encode(monitor.NewReport(snap))
}

// `stats --watch` prints a line per snapshot under a repeated header, in
// the manner of redis-cli --stat.
func ExampleStatLine() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lines := 0
	_ = monitor.NewPoller(rdb, monitor.Options{Interval: time.Second}).Run(ctx, func(s *monitor.Snapshot) {
		if lines%20 == 0 {
			fmt.Println(monitor.StatHeader())
		}
		fmt.Println(monitor.StatLine(s))
		lines++
	})
}

func ExampleParseInfo() {
	info := monitor.ParseInfo("# Server\r\nredis_version:7.0.15\r\n# Keyspace\r\ndb0:keys=12,expires=3,avg_ttl=5000\r\n")
	fmt.Println(info.String("redis_version"))
	for _, db := range info.Keyspace() {
		fmt.Printf("db%d: %d keys, %d with a TTL\n", db.DB, db.Keys, db.Expires)
	}
	// Output:
	// 7.0.15
	// db0: 12 keys, 3 with a TTL
}

func ExampleEvaluate() {
	s := &monitor.Snapshot{
		Health: monitor.Health{Up: true},
		Memory: monitor.MemoryInfo{Used: 950 << 20, Max: 1 << 30, Policy: "allkeys-lru"},
	}
	for _, a := range monitor.Evaluate(s, monitor.Thresholds{}) {
		fmt.Println(a.Level, a.ID, a.Message)
	}
	// Output:
	// critical memory memory 93% of maxmemory (950.0M of 1.0G, policy allkeys-lru)
}
