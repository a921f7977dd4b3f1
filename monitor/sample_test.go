package monitor

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestSampleGivesRealRatesAndAReport(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
	app := appClient(t, s.Server)
	ctx := context.Background()

	done := make(chan struct{})
	go func() {
		defer close(done)
		// Traffic during the sample interval: 3 hits for each miss.
		deadline := time.Now().Add(400 * time.Millisecond)
		for time.Now().Before(deadline) {
			pipe := app.Pipeline()
			for i := 0; i < 40; i++ {
				key := "present"
				if i%4 == 3 {
					key = "absent"
				}
				pipe.Get(ctx, key)
			}
			if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
				t.Error(err)
				return
			}
		}
	}()
	snap, err := Sample(ctx, s.watched, 500*time.Millisecond, Options{})
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Rates.Valid || snap.Rates.OpsPerSec <= 0 || snap.Rates.HitRate != 0.75 {
		t.Fatalf("rates = %+v", snap.Rates)
	}
	if snap.DetailWindow == 0 || findCommand(snap, "get") == nil || findCommand(snap, "get").CallsPerSec <= 0 {
		t.Errorf("per-command rates missing: window %v", snap.DetailWindow)
	}

	r := NewReport(snap)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"up", "rtt_ms", "version", "ops_per_sec", "hit_rate", "hits_per_sec", "misses_per_sec",
		"used_memory", "maxmemory", "maxmemory_policy", "fragmentation_ratio", "evicted_per_sec", "expired_per_sec",
		"connected_clients", "blocked_clients", "keys", "alerts"} {
		if _, ok := m[key]; !ok {
			t.Errorf("report JSON lacks %q: %s", key, b)
		}
	}
	if m["up"] != true || m["hit_rate"] != 0.75 || m["maxmemory"] != float64(64<<20) || m["maxmemory_policy"] != "allkeys-lru" || m["keys"] != float64(1) {
		t.Errorf("report JSON: %s", b)
	}
	// 75% is below the 90% warning line (and not below the 75% critical
	// one), with enough lookups to count.
	if alerts, ok := m["alerts"].([]any); !ok || len(alerts) != 1 || !strings.Contains(string(b), `"id":"hit_rate","level":"warn"`) {
		t.Errorf("alerts = %v", m["alerts"])
	}
	if line := StatLine(snap); !strings.HasPrefix(line, "1 ") || !strings.Contains(line, "75.0") {
		t.Errorf("stat line %q", line)
	}
}

func TestSampleWithoutLookupsHasNullHitRate(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	snap, err := Sample(context.Background(), s.watched, 200*time.Millisecond, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(NewReport(snap))
	if !strings.Contains(string(b), `"hit_rate":null`) || !strings.Contains(string(b), `"ops_per_sec":0,`) {
		t.Errorf("idle server report: %s", b)
	}
}

func TestSampleOfAnUnreachableServer(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	snap, err := Sample(context.Background(), s.watched, 100*time.Millisecond, Options{})
	if err == nil || snap == nil || snap.Health.Up {
		t.Fatalf("snap %+v, err %v", snap, err)
	}
	r := NewReport(snap)
	if r.Up || !strings.Contains(r.Error, "connection refused") || len(r.Alerts) != 1 || r.Alerts[0].ID != AlertDown {
		t.Errorf("report %+v", r)
	}
	if line := StatLine(snap); !strings.HasPrefix(line, "DOWN: ") {
		t.Errorf("stat line %q", line)
	}
}

func TestStatLineAndFormatting(t *testing.T) {
	s := &Snapshot{
		Health:  Health{Up: true},
		Keys:    1234,
		Memory:  MemoryInfo{Used: 3 << 20},
		Clients: ClientsInfo{Connected: 7, Blocked: 1},
		Rates:   Rates{Valid: true, OpsPerSec: 25000.4, HitRate: 0.9876, HitRateValid: true, EvictedPerSec: 2.5, NetInPerSec: 2048, NetOutPerSec: 500},
	}
	head, line := StatHeader(), StatLine(s)
	for _, col := range []string{"keys", "mem", "clients", "blocked", "ops/s", "hit%", "evict/s", "expire/s", "net-in/s", "net-out/s"} {
		if !strings.Contains(head, col) {
			t.Errorf("header %q lacks %q", head, col)
		}
	}
	for _, v := range []string{"1234", "3.0M", "7", "25000", "98.8", "2.5", "2.0K", "500B"} {
		if !strings.Contains(line, v) {
			t.Errorf("line %q lacks %q", line, v)
		}
	}
	// Columns line up under the header.
	if strings.Index(head, "ops/s") != strings.Index(line, "25000") {
		t.Errorf("misaligned:\n%s\n%s", head, line)
	}
	s.Rates = Rates{}
	if line := StatLine(s); !strings.Contains(line, " - ") {
		t.Errorf("no-rates line %q", line)
	}
	down := &Snapshot{Health: Health{Error: "ERR evil\x1b]0;title\x07\nnext"}}
	if line := StatLine(down); strings.ContainsAny(line, "\x1b\x07\n") || !strings.Contains(line, `\x1b]0;title\x07\nnext`) {
		t.Errorf("control characters reach the terminal: %q", line)
	}

	for n, want := range map[int64]string{0: "0B", 1023: "1023B", 1024: "1.0K", 1536: "1.5K", 5 << 20: "5.0M", 3 << 30: "3.0G", -2048: "-2.0K"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
