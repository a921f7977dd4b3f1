package monitor

import "time"

// Snapshot is one tick's view of a server. It is immutable: the poller never
// changes a Snapshot (or any slice or map in it) after delivering it, so a
// consumer may read an old snapshot while the poller builds the next one.
// Consumers must not modify it either.
//
// When Health.Up is false, the fields other than Health, Time, Seq, Alerts
// and History are the last values seen while the server was up (zero if it
// never was), and Rates.Valid is false.
//
// On a Redis Cluster (Mode ModeCluster) a snapshot aggregates every node
// as users expect: Rates (ops/s, hits, misses, network, CPU...) and Clients
// are summed over all nodes, masters and replicas; Memory, Keys and
// Keyspace over the masters only (replicas hold copies); the hit rate is
// computed from the summed hits and misses; Commands and Errors are summed
// per name, Slowlog and LatencyEvents merged (each entry names its Node).
// Health is up while any node answers; Rates are valid when every node
// that answers has rates (a node that just came back makes one gap).
// Nodes keeps each node's own numbers and snapshot, Cluster the cluster's
// view of itself.
type Snapshot struct {
	// Addr labels the polled node (Options.Addr, or the client's address).
	Addr string
	// Mode is the deployment shape: ModeStandalone, ModeSentinel or
	// ModeCluster. A node's own snapshot inside a cluster snapshot
	// (NodeStatus.Snapshot) has Mode "".
	Mode string
	// Time is when this tick's INFO reply arrived (or failed), local clock.
	Time time.Time
	// Seq numbers the snapshots of one poller, from 1.
	Seq uint64

	// Health is up/down, the error when down, and round-trip times.
	Health Health
	// Server identifies the server process.
	Server ServerInfo
	// Clients are the connection counts.
	Clients ClientsInfo
	// Memory is the memory use and limit.
	Memory MemoryInfo
	// Persistence is the RDB/AOF state.
	Persistence PersistenceInfo
	// Replication is the role and the link state.
	Replication ReplicationInfo
	// Keyspace lists the databases that hold keys, by number.
	Keyspace []KeyspaceDB
	// Keys is the total number of keys over all databases.
	Keys int64
	// PubSub are the pub/sub gauges (every tick) and publish rates
	// (detail tier), at no extra command.
	PubSub PubSubStats

	// Rates are the per-second rates over the last tick.
	Rates Rates
	// Window sums the last Thresholds.Window of ticks, for alerts.
	Window Window

	// Commands are the per-command statistics, busiest first, refreshed
	// every Options.DetailInterval (see DetailAt).
	Commands []CommandStat
	// Errors are the error replies by prefix, refreshed with Commands.
	Errors []ErrorStat
	// DetailAt is when Commands and Errors were refreshed; zero if never.
	DetailAt time.Time
	// DetailWindow is the time their rates cover; 0 when they have no
	// rates yet (only lifetime values).
	DetailWindow time.Duration

	// Slowlog holds recent SLOWLOG entries, newest first, at most
	// Options.SlowlogKeep.
	Slowlog []SlowlogEntry
	// LatencyEvents is the last LATENCY LATEST reply.
	LatencyEvents []LatencyEvent
	// SlowlogAt is when Slowlog and LatencyEvents were refreshed; zero if
	// never.
	SlowlogAt time.Time

	// Unavailable maps a panel the server refused (ACL, a managed service
	// disabling a command, an older server) to the reason, as the server
	// said it. Panels not in the map are available. Never nil.
	Unavailable map[Panel]string

	// Alerts are the alerts active in this snapshot, critical first.
	// Never nil.
	Alerts []Alert

	// History holds the time series, oldest first.
	History History

	// Info is this tick's parsed INFO reply; on detail ticks (INFO all) it
	// also has the commandstats, errorstats and latencystats sections. On
	// a cluster it is the reply of one master (the first in Nodes that
	// answered), which tells which fields the servers report.
	Info Info

	// Nodes are the servers polled: every master and replica of a cluster
	// (each master followed by its replicas, masters in slot order), or
	// the one server otherwise. Never nil after the first tick.
	Nodes []NodeStatus
	// Cluster is the cluster's state and topology; nil outside a cluster.
	Cluster *ClusterState
	// Sentinel is the master a Sentinel failover client is on; nil
	// outside Sentinel mode.
	Sentinel *SentinelState
	// Events are the recent topology changes (failovers, nodes down or
	// back, restarts), oldest first, at most 32.
	Events []TopologyEvent
}

// Panel names a part of the snapshot that comes from its own command and
// can be unavailable on its own.
type Panel string

// Panels that can be marked unavailable.
const (
	// PanelCommandStats is Commands and Errors (INFO commandstats,
	// errorstats, latencystats).
	PanelCommandStats Panel = "commandstats"
	// PanelLatencyHistogram is the windowed percentiles in Commands
	// (LATENCY HISTOGRAM, Redis 7+).
	PanelLatencyHistogram Panel = "latency_histogram"
	// PanelSlowlog is Slowlog (SLOWLOG GET).
	PanelSlowlog Panel = "slowlog"
	// PanelLatencyEvents is LatencyEvents (LATENCY LATEST).
	PanelLatencyEvents Panel = "latency_events"
)

// Health is whether the server answers, and how fast.
type Health struct {
	// Up is true when the last tick's INFO succeeded.
	Up bool
	// Error is the error of the last tick as Redis or the network said it
	// ("NOAUTH Authentication required.", "dial tcp ...: connect:
	// connection refused"); "" when up.
	Error string
	// Reason is a short form of Error for a status bar: "connection
	// refused", "timeout", "NOAUTH", "WRONGPASS", "NOPERM", "LOADING"...
	Reason string
	// Err is the error itself, for errors.Is; nil when up.
	Err error
	// Since is when the current up or down state began.
	Since time.Time
	// LastUp is the time of the last successful tick; zero if never.
	LastUp time.Time
	// Failures counts consecutive failed ticks.
	Failures int
	// RTT is the last INFO round trip; 0 when down.
	RTT time.Duration
	// RTTMin, RTTAvg and RTTMax cover the last Options.RTTWindow
	// successful round trips.
	RTTMin, RTTAvg, RTTMax time.Duration
}

// ServerInfo identifies the server process.
type ServerInfo struct {
	// Version is redis_version, e.g. "7.0.15".
	Version string
	// Mode is redis_mode: "standalone", "sentinel" or "cluster".
	Mode string
	// RunID changes when the process restarts.
	RunID string
	// Uptime is the time since the process started.
	Uptime time.Duration
	// Port is the TCP port the server listens on.
	Port int64
}

// ClientsInfo are the connection counts.
type ClientsInfo struct {
	// Connected is connected_clients (replicas excluded).
	Connected int64
	// Blocked is blocked_clients: clients waiting in BLPOP, XREAD, WAIT...
	Blocked int64
	// MaxClients is the maxclients limit; 0 when not reported.
	MaxClients int64
}

// MemoryInfo is the memory use and limit.
type MemoryInfo struct {
	// Used is used_memory: bytes the allocator handed to Redis.
	Used int64
	// RSS is used_memory_rss: bytes resident as the OS sees them.
	RSS int64
	// Peak is used_memory_peak.
	Peak int64
	// Max is maxmemory; 0 means no limit.
	Max int64
	// Policy is maxmemory_policy, e.g. "allkeys-lru".
	Policy string
	// FragmentationRatio is mem_fragmentation_ratio (RSS / Used).
	FragmentationRatio float64
	// FragmentationBytes is the memory lost to fragmentation: RSS - Used
	// (mem_fragmentation_bytes when reported).
	FragmentationBytes int64
}

// PersistenceInfo is the RDB/AOF state.
type PersistenceInfo struct {
	// Loading is true while the server loads its data set at start.
	Loading bool
	// RDBChangesSinceLastSave counts writes since the last snapshot.
	RDBChangesSinceLastSave int64
	// RDBLastBgsaveStatus is "ok" or "err".
	RDBLastBgsaveStatus string
	// AOFEnabled reports whether the append-only file is on.
	AOFEnabled bool
	// AOFLastWriteStatus is "ok" or "err".
	AOFLastWriteStatus string
}

// ReplicationInfo is the role and the link state.
type ReplicationInfo struct {
	// Role is "master" or "slave", as the server says it.
	Role string
	// MasterAddr is the master's "host:port" (replicas only).
	MasterAddr string
	// MasterLinkStatus is "up" or "down" (replicas only).
	MasterLinkStatus string
	// MasterLinkDownSince is how long the link has been down (replicas
	// only, 0 when up or unknown).
	MasterLinkDownSince time.Duration
	// ConnectedReplicas is connected_slaves.
	ConnectedReplicas int64
	// Replicas lists a master's replicas.
	Replicas []Replica
	// Offset is master_repl_offset.
	Offset int64
}

// Rates are per-second rates from the deltas between the last two ticks,
// with the poller's own commands (and their traffic) subtracted.
type Rates struct {
	// Valid is false on the first tick, after an outage, a restart (new
	// run_id) or a statistics reset (a counter went down): the tick only
	// sets a new baseline and every rate is 0.
	Valid bool
	// Interval is the time the rates cover.
	Interval time.Duration
	// OpsPerSec is commands processed per second, excluding the poller's.
	OpsPerSec float64
	// HitsPerSec and MissesPerSec are keyspace lookups that found (or did
	// not find) their key.
	HitsPerSec, MissesPerSec float64
	// HitRate is hits / (hits + misses) over this interval. It is only
	// meaningful when HitRateValid, which is false when there were no
	// lookups. It is never a lifetime ratio.
	HitRate      float64
	HitRateValid bool
	// EvictedPerSec and ExpiredPerSec are keys evicted (maxmemory) and
	// expired per second.
	EvictedPerSec, ExpiredPerSec float64
	// NetInPerSec and NetOutPerSec are client traffic in bytes per second
	// (replication excluded), less an estimate of the poller's own.
	NetInPerSec, NetOutPerSec float64
	// CPUPercent is main process CPU time (system + user) as a percentage
	// of one core.
	CPUPercent float64
	// ErrorsPerSec is error replies per second (total_error_replies,
	// Redis 6.2+), excluding errors the poller's own commands caused.
	ErrorsPerSec float64
	// ConnectionsPerSec is new connections accepted per second.
	ConnectionsPerSec float64
	// RejectedConnections is the number of connections refused
	// (maxclients) during the interval.
	RejectedConnections int64
	// Hits, Misses and Evicted are the counts during the interval.
	Hits, Misses, Evicted int64
}

// Window sums the ticks of the last Thresholds.Window since the last
// baseline, for alerts that must not flap on one quiet or busy second.
type Window struct {
	// Span is the time the window's ticks cover.
	Span time.Duration
	// Hits and Misses are keyspace lookups in the window.
	Hits, Misses int64
	// HitRate is Hits / (Hits + Misses); meaningful only when
	// HitRateValid (there were lookups).
	HitRate      float64
	HitRateValid bool
	// Evicted is keys evicted in the window.
	Evicted int64
	// EvictingFor is how long every consecutive tick up to now has had
	// evictions; 0 when the last tick had none.
	EvictingFor time.Duration
	// RejectedConnections is connections refused in the window.
	RejectedConnections int64
	// NewSlowlog is the number of new slowlog entries first seen in the
	// window.
	NewSlowlog int
}

// CommandStat is one command's statistics. Rates cover
// Snapshot.DetailWindow and exclude the poller's own calls; the latency
// figures cannot separate them, so those of "info", "latency|histogram",
// "slowlog|get" and "latency|latest" include the poller's.
type CommandStat struct {
	// Name is the command as commandstats names it: "get", "config|get".
	Name string
	// Calls is the server's lifetime count of calls.
	Calls int64
	// CallsPerSec is calls per second over the window.
	CallsPerSec float64
	// MeanUsec is the mean time per call over the window in
	// microseconds, or the lifetime mean when there are no window rates or
	// no calls in the window.
	MeanUsec float64
	// RejectedPerSec and FailedPerSec are calls refused before running
	// and calls that returned an error, per second (Redis 6.2+).
	RejectedPerSec, FailedPerSec float64
	// Latency holds percentiles over the window from LATENCY HISTOGRAM
	// deltas (Redis 7+); nil when unknown or there were no calls.
	Latency *Percentiles
	// LifetimeLatency holds the server's lifetime percentiles from INFO
	// latencystats (Redis 7+); nil when not reported.
	LifetimeLatency *Percentiles
}

// Percentiles are latency percentiles in microseconds.
type Percentiles struct {
	P50, P99 float64
}

// ErrorStat counts the error replies of one prefix.
type ErrorStat struct {
	// Prefix is the error's first word: "ERR", "WRONGTYPE", "NOPERM".
	Prefix string
	// Count is the server's lifetime count.
	Count int64
	// PerSec is errors per second over Snapshot.DetailWindow, excluding
	// errors caused by the poller's own commands.
	PerSec float64
}
