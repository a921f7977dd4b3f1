package monitor

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
)

// slowScript runs for a few tens of milliseconds on the server: a command
// the slowlog records with slowlog-log-slower-than at 10ms.
const slowScript = "local i = 0 while i < 3000000 do i = i + 1 end return i"

func TestSlowlogReportsOnlyNewEntries(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--slowlog-log-slower-than", "10000", "--latency-monitor-threshold", "5")
	ctx := context.Background()
	if err := s.admin.Eval(ctx, slowScript, nil).Err(); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	p := clockedPoller(s.watched, Options{}, clock)

	first := pollAfter(t, p, clock, 0)
	if len(first.Slowlog) != 1 || first.Slowlog[0].New || first.Window.NewSlowlog != 0 || hasAlert(first, AlertSlowlog) {
		t.Fatalf("entries already there at start must show but not count as new: %+v, window %+v", first.Slowlog, first.Window)
	}
	if len(first.LatencyEvents) == 0 || first.LatencyEvents[0].Name != "command" {
		t.Errorf("latency events = %+v", first.LatencyEvents)
	}

	for i := 0; i < 2; i++ {
		if err := s.admin.Eval(ctx, slowScript, nil, fmt.Sprint(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Not due for 30s: nothing fetched yet.
	quiet := pollAfter(t, p, clock, 10*time.Second)
	if len(quiet.Slowlog) != 1 {
		t.Fatalf("slowlog fetched before it was due: %d entries", len(quiet.Slowlog))
	}
	due := pollAfter(t, p, clock, 20*time.Second)
	if len(due.Slowlog) != 3 || !due.Slowlog[0].New || !due.Slowlog[1].New || due.Slowlog[2].New {
		t.Fatalf("after two slow calls: %+v", due.Slowlog)
	}
	if due.Slowlog[0].ID <= due.Slowlog[1].ID || due.Slowlog[0].Args[0] != "eval" || due.Slowlog[0].Duration < 10*time.Millisecond {
		t.Errorf("newest first, with arguments: %+v", due.Slowlog[0])
	}
	if due.Window.NewSlowlog != 2 || !hasAlert(due, AlertSlowlog) {
		t.Errorf("window %+v alerts %+v", due.Window, due.Alerts)
	}
	// Fetched again: nothing new, the same entries are not reported twice.
	again := pollAfter(t, p, clock, 30*time.Second)
	if len(again.Slowlog) != 3 {
		t.Errorf("entries duplicated: %d", len(again.Slowlog))
	}
	// The alert ends once the entries are older than the window.
	later := pollAfter(t, p, clock, 2*time.Minute)
	if later.Window.NewSlowlog != 0 || hasAlert(later, AlertSlowlog) {
		t.Errorf("slowlog alert outlived its window: %+v", later.Alerts)
	}
}

func TestReplicaLinkDownAlert(t *testing.T) {
	t.Parallel()
	// A replica of a master that is not there: its link stays down.
	gone := redistest.Start(t)
	addr := strings.Split(gone.Addr, ":")
	if err := gone.Stop(); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "--replicaof", addr[0], addr[1])
	snap := NewPoller(s.watched, Options{}).Poll(context.Background())
	if snap.Replication.Role != "slave" || snap.Replication.MasterLinkStatus != "down" || snap.Replication.MasterAddr != gone.Addr {
		t.Fatalf("replication = %+v", snap.Replication)
	}
	if !hasAlert(snap, AlertReplicationLink) {
		t.Errorf("alerts = %+v", snap.Alerts)
	}
}

func TestEvictionsMemoryAndPercentiles(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru")
	ctx := context.Background()
	clock := newFakeClock()
	p := clockedPoller(s.watched, Options{Thresholds: Thresholds{SustainedEvictions: 3 * time.Second}}, clock)

	value := strings.Repeat("x", 1000)
	batch := 0
	fill := func() {
		pipe := s.admin.Pipeline()
		for i := 0; i < 2000; i++ {
			pipe.Set(ctx, fmt.Sprintf("k:%d:%d", batch, i), value, 0)
		}
		batch++
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	fill()
	fill()
	fill() // full: from now on every fill evicts
	pollAfter(t, p, clock, 0)
	var snap *Snapshot
	for i := 0; i < 5; i++ {
		fill() // 2 MB a second into a 4 MB cache: evictions every tick
		snap = pollAfter(t, p, clock, time.Second)
		if snap.Rates.Valid && snap.Rates.EvictedPerSec <= 0 {
			t.Fatalf("tick %d: no evictions: %+v", i, snap.Rates)
		}
	}
	checkSane(t, "evicting", snap)
	if snap.Memory.Max != 4<<20 || snap.Memory.Policy != "allkeys-lru" {
		t.Errorf("memory = %+v", snap.Memory)
	}
	if !hasAlert(snap, AlertEvictions) || !hasAlert(snap, AlertMemory) {
		t.Errorf("alerts = %+v (window %+v, memory %d/%d)", snap.Alerts, snap.Window, snap.Memory.Used, snap.Memory.Max)
	}
	if snap.Window.EvictingFor < 4*time.Second {
		t.Errorf("evicting for %v", snap.Window.EvictingFor)
	}

	// The next detail tick has windowed percentiles for SET.
	detail := pollAfter(t, p, clock, 0)
	for detail.DetailWindow == 0 {
		fill()
		detail = pollAfter(t, p, clock, time.Second)
	}
	set := findCommand(detail, "set")
	if set == nil || set.CallsPerSec <= 0 || set.Latency == nil || set.LifetimeLatency == nil {
		t.Fatalf("set = %+v", set)
	}
	if set.Latency.P50 <= 0 || set.Latency.P50 > set.Latency.P99 {
		t.Errorf("set percentiles %+v", *set.Latency)
	}
	if h := detail.History; h.Len() < 6 || h.EvictedPerSec[h.Len()-1] <= 0 || h.UsedMemory[h.Len()-1] <= 0 {
		t.Errorf("history %+v", h.EvictedPerSec)
	}
}

func hasAlert(s *Snapshot, id string) bool {
	for _, a := range s.Alerts {
		if a.ID == id {
			return true
		}
	}
	return false
}
