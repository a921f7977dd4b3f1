package monitor

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// healthy is a snapshot that raises no alert; each case changes one thing.
func healthy() *Snapshot {
	return &Snapshot{
		Health:      Health{Up: true},
		Memory:      MemoryInfo{Used: 50 << 20, RSS: 60 << 20, Max: 100 << 20, Policy: "allkeys-lru", FragmentationRatio: 1.2, FragmentationBytes: 10 << 20},
		Clients:     ClientsInfo{Connected: 5, MaxClients: 10000},
		Replication: ReplicationInfo{Role: "master"},
		Window:      Window{Span: time.Minute, Hits: 9500, Misses: 500, HitRate: 0.95, HitRateValid: true},
	}
}

func TestEvaluate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Snapshot)
		th     Thresholds
		id     string // "" means no alert
		level  Level
		msg    string // a part of the message
	}{
		{name: "healthy", change: func(*Snapshot) {}},
		{name: "down", change: func(s *Snapshot) { s.Health = Health{Error: "dial tcp: connection refused"} },
			id: AlertDown, level: Critical, msg: "connection refused"},
		{name: "hit rate warn", change: func(s *Snapshot) { s.Window.Hits, s.Window.Misses, s.Window.HitRate = 850, 150, 0.85 },
			id: AlertHitRate, level: Warn, msg: "85.0%"},
		{name: "hit rate critical", change: func(s *Snapshot) { s.Window.Hits, s.Window.Misses, s.Window.HitRate = 500, 500, 0.5 },
			id: AlertHitRate, level: Critical, msg: "50.0%"},
		{name: "hit rate not warmed up", change: func(s *Snapshot) { s.Window.Hits, s.Window.Misses, s.Window.HitRate = 10, 40, 0.2 }},
		{name: "hit rate without lookups", change: func(s *Snapshot) {
			s.Window.Hits, s.Window.Misses, s.Window.HitRate, s.Window.HitRateValid = 0, 0, 0, false
		}},
		{name: "hit rate custom threshold", change: func(s *Snapshot) {}, th: Thresholds{HitRateWarn: 0.97},
			id: AlertHitRate, level: Warn, msg: "below 97%"},
		{name: "hit rate disabled", change: func(s *Snapshot) { s.Window.HitRate = 0.5 }, th: Thresholds{HitRateWarn: -1, HitRateCritical: -1}},
		{name: "memory warn", change: func(s *Snapshot) { s.Memory.Used = 75 << 20 },
			id: AlertMemory, level: Warn, msg: "75% of maxmemory"},
		{name: "memory critical", change: func(s *Snapshot) { s.Memory.Used = 95 << 20 },
			id: AlertMemory, level: Critical, msg: "allkeys-lru"},
		{name: "memory without maxmemory", change: func(s *Snapshot) { s.Memory.Used, s.Memory.Max = 500<<20, 0 }},
		{name: "fragmentation wasting memory", change: func(s *Snapshot) {
			s.Memory.Max, s.Memory.RSS, s.Memory.FragmentationRatio, s.Memory.FragmentationBytes = 0, 200<<20, 4, 150<<20
		}, id: AlertFragmentation, level: Warn, msg: "ratio 4.00"},
		{name: "fragmentation ratio on a small server", change: func(s *Snapshot) {
			s.Memory.FragmentationRatio, s.Memory.FragmentationBytes = 8, 7<<20
		}},
		{name: "fragmentation with little ratio", change: func(s *Snapshot) {
			s.Memory.FragmentationRatio, s.Memory.FragmentationBytes = 1.3, 300<<20
		}},
		{name: "sustained evictions", change: func(s *Snapshot) { s.Window.EvictingFor = 45 * time.Second; s.Rates.EvictedPerSec = 12 },
			id: AlertEvictions, level: Warn, msg: "45s"},
		{name: "brief evictions", change: func(s *Snapshot) { s.Window.EvictingFor = 5 * time.Second }},
		{name: "blocked clients", change: func(s *Snapshot) { s.Clients.Blocked = 3 },
			id: AlertBlockedClients, level: Warn, msg: "3 blocked"},
		{name: "blocked clients below custom threshold", change: func(s *Snapshot) { s.Clients.Blocked = 3 }, th: Thresholds{BlockedClients: 10}},
		{name: "rejected connections", change: func(s *Snapshot) { s.Window.RejectedConnections = 7 },
			id: AlertRejectedConnections, level: Critical, msg: "7 connections rejected"},
		{name: "replication link down", change: func(s *Snapshot) {
			s.Replication = ReplicationInfo{Role: "slave", MasterAddr: "10.0.0.1:6379", MasterLinkStatus: "down", MasterLinkDownSince: 42 * time.Second}
		}, id: AlertReplicationLink, level: Critical, msg: "10.0.0.1:6379 is down for 42s"},
		{name: "replica with link up", change: func(s *Snapshot) {
			s.Replication = ReplicationInfo{Role: "slave", MasterLinkStatus: "up"}
		}},
		{name: "new slowlog entries", change: func(s *Snapshot) { s.Window.NewSlowlog = 2 },
			id: AlertSlowlog, level: Warn, msg: "2 new slowlog entries"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := healthy()
			c.change(s)
			got := Evaluate(s, c.th)
			if got == nil {
				t.Fatal("nil alerts")
			}
			if c.id == "" {
				if len(got) != 0 {
					t.Fatalf("unexpected alerts %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].ID != c.id || got[0].Level != c.level || !strings.Contains(got[0].Message, c.msg) {
				t.Fatalf("alerts = %+v, want one %s %s containing %q", got, c.level, c.id, c.msg)
			}
		})
	}
}

func TestEvaluateOrdersCriticalFirst(t *testing.T) {
	s := healthy()
	s.Clients.Blocked = 1
	s.Window.RejectedConnections = 1
	s.Memory.Used = 99 << 20
	s.Window.NewSlowlog = 1
	got := Evaluate(s, Thresholds{})
	var ids []string
	for _, a := range got {
		ids = append(ids, a.Level.String()+":"+a.ID)
	}
	want := "critical:memory critical:rejected_connections warn:blocked_clients warn:slowlog"
	if strings.Join(ids, " ") != want {
		t.Errorf("order = %v, want %s", ids, want)
	}
}

func TestThresholdDefaults(t *testing.T) {
	th := Thresholds{}.withDefaults()
	want := Thresholds{HitRateWarn: 0.9, HitRateCritical: 0.75, HitRateMinLookups: 100, MemoryWarn: 0.7, MemoryCritical: 0.9,
		Fragmentation: 1.5, FragmentationMinWaste: 100 << 20, SustainedEvictions: 30 * time.Second, BlockedClients: 1, Window: time.Minute}
	if th != want {
		t.Errorf("defaults = %+v\nwant %+v", th, want)
	}
	if custom := (Thresholds{HitRateWarn: 0.5, BlockedClients: -1}).withDefaults(); custom.HitRateWarn != 0.5 || custom.BlockedClients != -1 {
		t.Errorf("explicit values overwritten: %+v", custom)
	}
}

func TestAlertJSON(t *testing.T) {
	b, err := json.Marshal(Alert{ID: AlertMemory, Level: Critical, Message: "m"})
	if err != nil || string(b) != `{"id":"memory","level":"critical","message":"m"}` {
		t.Errorf("json = %s, %v", b, err)
	}
}
