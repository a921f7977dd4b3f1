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
		Mode:               s.Server.Mode,
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
