package monitor

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cachescope/cachescope/internal/sanitize"
)

// Report is the JSON-friendly summary of a snapshot that `cachescope stats
// --json` prints. Rates are per second over IntervalSec; they are 0 (and
// HitRate null) when RatesValid is false.
type Report struct {
	Addr               string           `json:"addr,omitempty"`
	Time               time.Time        `json:"time"`
	Up                 bool             `json:"up"`
	Error              string           `json:"error,omitempty"`
	RTTMs              float64          `json:"rtt_ms"`
	Version            string           `json:"version"`
	Mode               string           `json:"mode"`
	Role               string           `json:"role"`
	UptimeSec          int64            `json:"uptime_sec"`
	RatesValid         bool             `json:"rates_valid"`
	IntervalSec        float64          `json:"interval_sec"`
	OpsPerSec          float64          `json:"ops_per_sec"`
	HitRate            *float64         `json:"hit_rate"`
	HitsPerSec         float64          `json:"hits_per_sec"`
	MissesPerSec       float64          `json:"misses_per_sec"`
	UsedMemory         int64            `json:"used_memory"`
	MaxMemory          int64            `json:"maxmemory"`
	MaxMemoryPolicy    string           `json:"maxmemory_policy"`
	FragmentationRatio float64          `json:"fragmentation_ratio"`
	EvictedPerSec      float64          `json:"evicted_per_sec"`
	ExpiredPerSec      float64          `json:"expired_per_sec"`
	NetInPerSec        float64          `json:"net_in_bytes_per_sec"`
	NetOutPerSec       float64          `json:"net_out_bytes_per_sec"`
	CPUPercent         float64          `json:"cpu_percent"`
	ErrorsPerSec       float64          `json:"errors_per_sec"`
	ConnectedClients   int64            `json:"connected_clients"`
	BlockedClients     int64            `json:"blocked_clients"`
	Keys               int64            `json:"keys"`
	Databases          []ReportDB       `json:"databases"`
	Alerts             []Alert          `json:"alerts"`
	Unavailable        map[Panel]string `json:"unavailable,omitempty"`
	// Nodes are the servers polled: every node of a cluster, or the one
	// server.
	Nodes []ReportNode `json:"nodes"`
	// Cluster is the cluster's own state; omitted outside a cluster.
	Cluster *ReportCluster `json:"cluster,omitempty"`
	// MasterAddr is the master a Sentinel client is on; omitted outside
	// Sentinel mode or while unknown.
	MasterAddr string `json:"master_addr,omitempty"`
	// Events are the recent topology changes (failovers, nodes down,
	// restarts), oldest first.
	Events []ReportEvent `json:"events,omitempty"`
}

// ReportNode is one node of a Report. Rates are per second over the
// node's last tick, 0 (and hit_rate null) when rates_valid is false.
type ReportNode struct {
	ID               string   `json:"id,omitempty"`
	Addr             string   `json:"addr"`
	Role             string   `json:"role"`
	MasterID         string   `json:"master_id,omitempty"`
	MasterAddr       string   `json:"master_addr,omitempty"`
	Slots            string   `json:"slots,omitempty"`
	SlotCount        int      `json:"slot_count"`
	Up               bool     `json:"up"`
	Error            string   `json:"error,omitempty"`
	Health           string   `json:"health,omitempty"`
	Flags            []string `json:"flags,omitempty"`
	LinkStatus       string   `json:"link_status,omitempty"`
	Version          string   `json:"version"`
	RatesValid       bool     `json:"rates_valid"`
	OpsPerSec        float64  `json:"ops_per_sec"`
	HitRate          *float64 `json:"hit_rate"`
	HitsPerSec       float64  `json:"hits_per_sec"`
	MissesPerSec     float64  `json:"misses_per_sec"`
	NetInPerSec      float64  `json:"net_in_bytes_per_sec"`
	NetOutPerSec     float64  `json:"net_out_bytes_per_sec"`
	UsedMemory       int64    `json:"used_memory"`
	MaxMemory        int64    `json:"maxmemory"`
	Keys             int64    `json:"keys"`
	ConnectedClients int64    `json:"connected_clients"`
	RTTMs            float64  `json:"rtt_ms"`
	ReplOffset       int64    `json:"repl_offset"`
	LagBytes         *int64   `json:"lag_bytes,omitempty"`
	LagSec           *int64   `json:"lag_sec,omitempty"`
	Hottest          bool     `json:"hottest,omitempty"`
}

// ReportCluster is the cluster part of a Report.
type ReportCluster struct {
	State         string `json:"state"`
	SlotsAssigned int    `json:"slots_assigned"`
	SlotsOK       int    `json:"slots_ok"`
	SlotsPFail    int    `json:"slots_pfail"`
	SlotsFail     int    `json:"slots_fail"`
	KnownNodes    int    `json:"known_nodes"`
	Size          int    `json:"size"`
	Masters       int    `json:"masters"`
	Replicas      int    `json:"replicas"`
	NodesDown     int    `json:"nodes_down"`
	CurrentEpoch  int64  `json:"current_epoch"`
	Error         string `json:"error,omitempty"`
}

// ReportEvent is one topology event of a Report.
type ReportEvent struct {
	Time    time.Time         `json:"time"`
	Kind    TopologyEventKind `json:"kind"`
	Node    string            `json:"node,omitempty"`
	Message string            `json:"message"`
}

// ReportDB is one database of a Report.
type ReportDB struct {
	DB      int   `json:"db"`
	Keys    int64 `json:"keys"`
	Expires int64 `json:"expires"`
}

// NewReport summarises a snapshot. Rounding keeps the JSON readable:
// rates to 2 decimals, the hit rate to 4, the round trip to 0.001 ms.
func NewReport(s *Snapshot) Report {
	r := Report{
		Addr:               s.Addr,
		Time:               s.Time,
		Up:                 s.Health.Up,
		Error:              s.Health.Error,
		RTTMs:              round(float64(s.Health.RTT)/float64(time.Millisecond), 3),
		Version:            s.Server.Version,
		Mode:               s.Mode,
		Role:               s.Replication.Role,
		UptimeSec:          int64(s.Server.Uptime / time.Second),
		RatesValid:         s.Rates.Valid,
		IntervalSec:        round(s.Rates.Interval.Seconds(), 3),
		OpsPerSec:          round(s.Rates.OpsPerSec, 2),
		HitsPerSec:         round(s.Rates.HitsPerSec, 2),
		MissesPerSec:       round(s.Rates.MissesPerSec, 2),
		UsedMemory:         s.Memory.Used,
		MaxMemory:          s.Memory.Max,
		MaxMemoryPolicy:    s.Memory.Policy,
		FragmentationRatio: s.Memory.FragmentationRatio,
		EvictedPerSec:      round(s.Rates.EvictedPerSec, 2),
		ExpiredPerSec:      round(s.Rates.ExpiredPerSec, 2),
		NetInPerSec:        round(s.Rates.NetInPerSec, 2),
		NetOutPerSec:       round(s.Rates.NetOutPerSec, 2),
		CPUPercent:         round(s.Rates.CPUPercent, 2),
		ErrorsPerSec:       round(s.Rates.ErrorsPerSec, 2),
		ConnectedClients:   s.Clients.Connected,
		BlockedClients:     s.Clients.Blocked,
		Keys:               s.Keys,
		Databases:          []ReportDB{},
		Alerts:             s.Alerts,
		Unavailable:        s.Unavailable,
	}
	if s.Rates.Valid && s.Rates.HitRateValid {
		hr := round(s.Rates.HitRate, 4)
		r.HitRate = &hr
	}
	for _, db := range s.Keyspace {
		r.Databases = append(r.Databases, ReportDB{DB: db.DB, Keys: db.Keys, Expires: db.Expires})
	}
	if r.Alerts == nil {
		r.Alerts = []Alert{}
	}
	if r.Mode == "" {
		r.Mode = s.Server.Mode
	}
	r.Nodes = make([]ReportNode, 0, len(s.Nodes))
	for _, n := range s.Nodes {
		r.Nodes = append(r.Nodes, reportNode(n))
	}
	if c := s.Cluster; c != nil {
		r.Cluster = &ReportCluster{State: c.State, SlotsAssigned: c.SlotsAssigned, SlotsOK: c.SlotsOK,
			SlotsPFail: c.SlotsPFail, SlotsFail: c.SlotsFail, KnownNodes: c.KnownNodes, Size: c.Size,
			Masters: c.Masters, Replicas: c.Replicas, NodesDown: c.NodesDown, CurrentEpoch: c.CurrentEpoch, Error: c.Error}
	}
	if s.Sentinel != nil {
		r.MasterAddr = s.Sentinel.MasterAddr
	}
	for _, e := range s.Events {
		r.Events = append(r.Events, ReportEvent{Time: e.Time, Kind: e.Kind, Node: e.Node, Message: e.Message})
	}
	return r
}

func reportNode(n NodeStatus) ReportNode {
	r := ReportNode{
		ID: n.ID, Addr: n.Addr, Role: n.Role, MasterID: n.MasterID, MasterAddr: n.MasterAddr,
		Slots: FormatSlots(n.Slots), SlotCount: n.SlotCount, Up: n.Up, Error: n.Error, Health: n.Health,
		Flags: n.Flags, LinkStatus: n.LinkStatus, Version: n.Version, RatesValid: n.RatesValid,
		OpsPerSec: round(n.OpsPerSec, 2), HitsPerSec: round(n.HitsPerSec, 2), MissesPerSec: round(n.MissesPerSec, 2),
		NetInPerSec: round(n.NetInPerSec, 2), NetOutPerSec: round(n.NetOutPerSec, 2),
		UsedMemory: n.UsedMemory, MaxMemory: n.MaxMemory, Keys: n.Keys, ConnectedClients: n.Clients,
		RTTMs: round(float64(n.RTT)/float64(time.Millisecond), 3), ReplOffset: n.ReplOffset, Hottest: n.Hottest,
	}
	if n.RatesValid && n.HitRateValid {
		hr := round(n.HitRate, 4)
		r.HitRate = &hr
	}
	if n.LagKnown {
		b, s := n.LagBytes, n.LagSeconds
		r.LagBytes, r.LagSec = &b, &s
	}
	return r
}

func round(v float64, places int) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// statColumns is the layout shared by StatHeader and StatLine.
const statFormat = "%-11s %-10s %-8s %-8s %-10s %-7s %-8s %-8s %-10s %-10s"

// StatHeader returns the column header for StatLine, in the manner of
// `redis-cli --stat`; print it again every screenful or so.
func StatHeader() string {
	return fmt.Sprintf(statFormat, "keys", "mem", "clients", "blocked", "ops/s", "hit%", "evict/s", "expire/s", "net-in/s", "net-out/s")
}

// StatLine formats a snapshot as one line under StatHeader, for `stats
// --watch`. A down server gives "DOWN: " and the error, with control
// characters escaped since the error text may come from the server.
func StatLine(s *Snapshot) string {
	if !s.Health.Up {
		return "DOWN: " + sanitize.Line(s.Health.Error)
	}
	hit, ops, evict, expire, in, out := "-", "-", "-", "-", "-", "-"
	if r := s.Rates; r.Valid {
		if r.HitRateValid {
			hit = fmt.Sprintf("%.1f", r.HitRate*100)
		}
		ops = formatRate(r.OpsPerSec)
		evict, expire = formatRate(r.EvictedPerSec), formatRate(r.ExpiredPerSec)
		in, out = FormatBytes(int64(r.NetInPerSec)), FormatBytes(int64(r.NetOutPerSec))
	}
	line := fmt.Sprintf(statFormat, fmt.Sprint(s.Keys), FormatBytes(s.Memory.Used),
		fmt.Sprint(s.Clients.Connected), fmt.Sprint(s.Clients.Blocked), ops, hit, evict, expire, in, out)
	return strings.TrimRight(line, " ")
}

func formatRate(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// FormatBytes formats a byte count with binary units: "512B", "1.5K",
// "20.0M", "3.2G".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%dB", n)
	}
	v := float64(n)
	for _, suffix := range []string{"K", "M", "G", "T", "P"} {
		v /= unit
		if math.Abs(v) < unit || suffix == "P" {
			return fmt.Sprintf("%.1f%s", v, suffix)
		}
	}
	return fmt.Sprintf("%dB", n) // unreachable
}
