package monitor

import (
	"fmt"
	"sort"
	"time"
)

// Thresholds configure the alerts. The zero value means the defaults
// documented on each field; a negative value disables that alert (for
// HitRateWarn and HitRateCritical, for example, -1).
type Thresholds struct {
	// HitRateWarn: warn when the hit rate over Window is below it.
	// 0 means 0.9.
	HitRateWarn float64
	// HitRateCritical: critical when the hit rate over Window is below
	// it. 0 means 0.75.
	HitRateCritical float64
	// HitRateMinLookups is how many lookups (hits + misses) Window must
	// hold before hit-rate alerts fire, so a cold or idle cache does not
	// alert on a handful of misses. 0 means 100; negative disables the
	// hit-rate alerts.
	HitRateMinLookups int64
	// MemoryWarn and MemoryCritical are fractions of maxmemory that
	// used_memory must exceed; only checked when maxmemory is set.
	// 0 means 0.7 and 0.9.
	MemoryWarn, MemoryCritical float64
	// Fragmentation: warn when mem_fragmentation_ratio is above it and
	// the fragmentation wastes at least FragmentationMinWaste bytes
	// (RSS - used), since small servers routinely show large ratios over a
	// few wasted megabytes. 0 means 1.5.
	Fragmentation float64
	// FragmentationMinWaste is in bytes. 0 means 100 MiB; negative
	// disables the fragmentation alert.
	FragmentationMinWaste int64
	// SustainedEvictions: warn when every tick for at least this long has
	// evicted keys. 0 means 30s.
	SustainedEvictions time.Duration
	// BlockedClients: warn when blocked_clients is at least this.
	// 0 means 1.
	BlockedClients int64
	// Window is how far back the hit rate, rejected connections and new
	// slowlog entries are summed. 0 (or negative) means 1m.
	Window time.Duration
}

// Defaults of Thresholds.
const (
	DefaultHitRateWarn           = 0.9
	DefaultHitRateCritical       = 0.75
	DefaultHitRateMinLookups     = 100
	DefaultMemoryWarn            = 0.7
	DefaultMemoryCritical        = 0.9
	DefaultFragmentation         = 1.5
	DefaultFragmentationMinWaste = 100 << 20
	DefaultSustainedEvictions    = 30 * time.Second
	DefaultBlockedClients        = 1
	DefaultAlertWindow           = time.Minute
)

func (t Thresholds) withDefaults() Thresholds {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&t.HitRateWarn, DefaultHitRateWarn)
	def(&t.HitRateCritical, DefaultHitRateCritical)
	def(&t.MemoryWarn, DefaultMemoryWarn)
	def(&t.MemoryCritical, DefaultMemoryCritical)
	def(&t.Fragmentation, DefaultFragmentation)
	if t.HitRateMinLookups == 0 {
		t.HitRateMinLookups = DefaultHitRateMinLookups
	}
	if t.FragmentationMinWaste == 0 {
		t.FragmentationMinWaste = DefaultFragmentationMinWaste
	}
	if t.SustainedEvictions == 0 {
		t.SustainedEvictions = DefaultSustainedEvictions
	}
	if t.BlockedClients == 0 {
		t.BlockedClients = DefaultBlockedClients
	}
	if t.Window <= 0 {
		t.Window = DefaultAlertWindow
	}
	return t
}

// Level is an alert's severity.
type Level int

// Alert levels, in increasing severity.
const (
	Warn Level = iota + 1
	Critical
)

// String returns "warn" or "critical".
func (l Level) String() string {
	switch l {
	case Warn:
		return "warn"
	case Critical:
		return "critical"
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// MarshalText makes a Level appear as "warn" or "critical" in JSON.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Alert is one condition that needs attention.
type Alert struct {
	// ID is stable across snapshots and releases: see the Alert* constants.
	ID string `json:"id"`
	// Level is Warn or Critical.
	Level Level `json:"level"`
	// Message says what is wrong, with the numbers. It may quote server
	// text (an error, the master's address): sanitize before display.
	Message string `json:"message"`
}

// Alert IDs.
const (
	AlertDown                = "down"
	AlertHitRate             = "hit_rate"
	AlertMemory              = "memory"
	AlertFragmentation       = "fragmentation"
	AlertEvictions           = "evictions"
	AlertBlockedClients      = "blocked_clients"
	AlertRejectedConnections = "rejected_connections"
	AlertReplicationLink     = "replication_link_down"
	AlertSlowlog             = "slowlog"
	// AlertFailover: another server took over as master within the alert
	// window (a cluster failover, or Sentinel switching the master).
	AlertFailover = "failover"
	// AlertClusterState: cluster_state is not ok.
	AlertClusterState = "cluster_state"
	// AlertClusterSlots: slots failing, suspected failing, or unassigned.
	AlertClusterSlots = "cluster_slots"
	// AlertNodeDown: a cluster node does not answer (one alert per node;
	// critical for a master, warn for a replica).
	AlertNodeDown = "node_down"
)

// Evaluate returns the alerts a snapshot raises under th (zero fields mean
// the defaults), critical first, then by ID. It never returns nil. When the
// server is down, the only alert is AlertDown: the other values are stale.
//
// On a cluster the hit rate and the slowlog are judged on the aggregate,
// and the per-server conditions (memory, fragmentation, evictions, blocked
// and rejected clients, a replica's link) on each node, whose alerts carry
// its address first; the cluster adds its own (AlertClusterState,
// AlertClusterSlots, AlertNodeDown). A failover seen within th.Window
// raises AlertFailover in every mode.
func Evaluate(s *Snapshot, th Thresholds) []Alert {
	th = th.withDefaults()
	out := []Alert{}
	add := func(id string, l Level, format string, args ...any) {
		out = append(out, Alert{ID: id, Level: l, Message: fmt.Sprintf(format, args...)})
	}
	if !s.Health.Up {
		reason := s.Health.Error
		if reason == "" {
			reason = "no reply yet"
		}
		what := "server"
		if s.Mode == ModeCluster {
			what = "every cluster node"
		}
		add(AlertDown, Critical, "%s down: %s", what, reason)
		return out
	}

	w := s.Window
	if w.HitRateValid && th.HitRateMinLookups >= 0 && w.Hits+w.Misses >= th.HitRateMinLookups {
		switch {
		case th.HitRateCritical > 0 && w.HitRate < th.HitRateCritical:
			add(AlertHitRate, Critical, "hit rate %.1f%% over the last %s (below %.0f%%)", w.HitRate*100, roundSpan(w.Span), th.HitRateCritical*100)
		case th.HitRateWarn > 0 && w.HitRate < th.HitRateWarn:
			add(AlertHitRate, Warn, "hit rate %.1f%% over the last %s (below %.0f%%)", w.HitRate*100, roundSpan(w.Span), th.HitRateWarn*100)
		}
	}

	if s.Mode == ModeCluster {
		out = append(out, clusterAlerts(s, th)...)
	} else {
		serverAlerts(s, th, add)
	}

	if w.NewSlowlog > 0 {
		add(AlertSlowlog, Warn, "%d new slowlog entries in the last %s", w.NewSlowlog, roundSpan(th.Window))
	}

	for _, e := range s.Events {
		if e.Kind == TopologyFailover && e.Time.After(s.Time.Add(-th.Window)) {
			add(AlertFailover, Warn, "%s (%s ago)", e.Message, roundSpan(s.Time.Sub(e.Time)))
		}
	}

	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Level != out[b].Level {
			return out[a].Level > out[b].Level
		}
		return out[a].ID < out[b].ID
	})
	return out
}

// serverAlerts are the conditions of one server.
func serverAlerts(s *Snapshot, th Thresholds, add func(id string, l Level, format string, args ...any)) {
	w := s.Window
	m := s.Memory
	if m.Max > 0 {
		used := float64(m.Used) / float64(m.Max)
		switch {
		case th.MemoryCritical > 0 && used > th.MemoryCritical:
			add(AlertMemory, Critical, "memory %.0f%% of maxmemory (%s of %s, policy %s)", used*100, FormatBytes(m.Used), FormatBytes(m.Max), m.Policy)
		case th.MemoryWarn > 0 && used > th.MemoryWarn:
			add(AlertMemory, Warn, "memory %.0f%% of maxmemory (%s of %s, policy %s)", used*100, FormatBytes(m.Used), FormatBytes(m.Max), m.Policy)
		}
	}

	if th.Fragmentation > 0 && m.FragmentationRatio > th.Fragmentation && th.FragmentationMinWaste >= 0 && m.FragmentationBytes >= th.FragmentationMinWaste {
		add(AlertFragmentation, Warn, "fragmentation ratio %.2f wastes %s (RSS %s, used %s)", m.FragmentationRatio, FormatBytes(m.FragmentationBytes), FormatBytes(m.RSS), FormatBytes(m.Used))
	}

	if th.SustainedEvictions > 0 && w.EvictingFor >= th.SustainedEvictions {
		add(AlertEvictions, Warn, "evicting keys for %s (%.0f/s now, policy %s)", roundSpan(w.EvictingFor), s.Rates.EvictedPerSec, m.Policy)
	}

	if th.BlockedClients > 0 && s.Clients.Blocked >= th.BlockedClients {
		add(AlertBlockedClients, Warn, "%d blocked clients", s.Clients.Blocked)
	}

	if w.RejectedConnections > 0 {
		add(AlertRejectedConnections, Critical, "%d connections rejected in the last %s (maxclients %d)", w.RejectedConnections, roundSpan(w.Span), s.Clients.MaxClients)
	}

	if r := s.Replication; r.Role == "slave" && r.MasterLinkStatus == "down" {
		msg := "replication link to master " + r.MasterAddr + " is down"
		if r.MasterLinkDownSince > 0 {
			msg += " for " + r.MasterLinkDownSince.String()
		}
		add(AlertReplicationLink, Critical, "%s", msg)
	}
}

func roundSpan(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
