package monitor

import "time"

// Options configures a [Poller]. The zero value is ready to use: every zero
// field means its documented default.
type Options struct {
	// Interval is the time between ticks; each tick sends one INFO.
	// 0 means 1s. Values below 100ms are raised to 100ms.
	Interval time.Duration
	// DetailInterval is how often the command and error statistics are
	// refreshed (that tick's INFO is INFO all, which has the commandstats,
	// errorstats and latencystats sections, so they cost no extra command)
	// and LATENCY HISTOGRAM is sent (one command). 0 means 10s. It is never
	// shorter than Interval.
	DetailInterval time.Duration
	// SlowlogInterval is how often SLOWLOG GET and LATENCY LATEST are sent
	// (two commands). 0 means 30s. It is never shorter than Interval.
	SlowlogInterval time.Duration
	// SlowlogCount is how many entries each SLOWLOG GET asks for. 0 means 64.
	SlowlogCount int
	// SlowlogKeep is how many slowlog entries snapshots carry, newest
	// first. 0 means 128.
	SlowlogKeep int
	// History is the number of points each time series keeps. 0 means 900
	// (15 minutes at the default Interval).
	History int
	// RTTWindow is how many recent round trips Health's min/avg/max cover.
	// 0 means 60.
	RTTWindow int
	// Timeout bounds each tick's commands. 0 means 5s: go-redis retries a
	// failed dial and a failed command a few times (about 2s against a
	// refused connection), and a shorter bound would report "timeout"
	// instead of the reason. The client's own ReadTimeout also applies; it
	// honours the deadline only when its ContextTimeoutEnabled option is
	// set.
	Timeout time.Duration
	// Thresholds configure the alerts; the zero value means the documented
	// defaults.
	Thresholds Thresholds
	// Lookups counts the keyspace hits and misses cachescope's own reads
	// cause (the Keys view's, through KeysOptions.Lookups and
	// ActionsOptions.Lookups); they are subtracted from the server's, so
	// browsing keys does not move the application's hit rate. nil means
	// none are subtracted.
	Lookups *Lookups
	// ClusterInterval is how often a cluster poller reads the cluster
	// state (CLUSTER INFO); the topology (CLUSTER SHARDS, or CLUSTER NODES
	// before Redis 7) is read every third ClusterInterval. Each read goes to
	// one node, a different one each time, so each node sees a fraction of
	// them. The topology is also read at once when a node stops answering,
	// comes back, restarts or reports another role than the topology says,
	// and when CLUSTER INFO shows a new epoch or another number of known
	// nodes; CLUSTER INFO is read every tick while the cluster is in
	// trouble (state not ok, failing slots, or a change in the last 30s).
	// 0 means 10s. It is never shorter than Interval.
	ClusterInterval time.Duration
	// Addr labels the polled node in snapshots. "" means the client's
	// address when it is a *redis.Client.
	Addr string
}

// Defaults of Options, exported so that a UI can show them.
const (
	DefaultInterval        = time.Second
	DefaultDetailInterval  = 10 * time.Second
	DefaultSlowlogInterval = 30 * time.Second
	DefaultSlowlogCount    = 64
	DefaultSlowlogKeep     = 128
	DefaultHistory         = 900
	DefaultRTTWindow       = 60
	DefaultTimeout         = 5 * time.Second
	DefaultClusterInterval = 10 * time.Second
	minInterval            = 100 * time.Millisecond
)

// withDefaults fills the zero fields in one place.
func (o Options) withDefaults() Options {
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Interval < minInterval {
		o.Interval = minInterval
	}
	if o.DetailInterval == 0 {
		o.DetailInterval = DefaultDetailInterval
	}
	if o.DetailInterval < o.Interval {
		o.DetailInterval = o.Interval
	}
	if o.SlowlogInterval == 0 {
		o.SlowlogInterval = DefaultSlowlogInterval
	}
	if o.SlowlogInterval < o.Interval {
		o.SlowlogInterval = o.Interval
	}
	if o.SlowlogCount <= 0 {
		o.SlowlogCount = DefaultSlowlogCount
	}
	if o.SlowlogKeep <= 0 {
		o.SlowlogKeep = DefaultSlowlogKeep
	}
	if o.History <= 0 {
		o.History = DefaultHistory
	}
	if o.RTTWindow <= 0 {
		o.RTTWindow = DefaultRTTWindow
	}
	if o.ClusterInterval <= 0 {
		o.ClusterInterval = DefaultClusterInterval
	}
	if o.ClusterInterval < o.Interval {
		o.ClusterInterval = o.Interval
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	o.Thresholds = o.Thresholds.withDefaults()
	return o
}
