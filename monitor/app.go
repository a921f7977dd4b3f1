package monitor

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
)

// AppOptions configures an [AppPoller]. The zero value is ready to use.
type AppOptions struct {
	// Interval is the time between reads of the telemetry. 0 means 2s;
	// values below 250ms are raised to 250ms.
	Interval time.Duration
	// Window is the time the rates cover: the reports of an instance in
	// the last Window (at least its last report interval). 0 means 10s.
	Window time.Duration
	// History is the number of points each sparkline keeps, one per read.
	// 0 means 150 (5 minutes at the default Interval).
	History int
	// MaxNames bounds the namespaces, and separately the limiter names,
	// that get their own figures and history; the others are summed under
	// "other". 0 means 50.
	MaxNames int
	// Timeout bounds each read. 0 means 5s.
	Timeout time.Duration
}

// Defaults of AppOptions.
const (
	DefaultAppInterval = 2 * time.Second
	DefaultAppWindow   = 10 * time.Second
	DefaultAppHistory  = 150
	DefaultAppMaxNames = 50
	// OtherName is the name the figures past AppOptions.MaxNames are
	// summed under.
	OtherName      = "other"
	minAppInterval = 250 * time.Millisecond
)

func (o AppOptions) withDefaults() AppOptions {
	if o.Interval <= 0 {
		o.Interval = DefaultAppInterval
	}
	o.Interval = max(o.Interval, minAppInterval)
	if o.Window <= 0 {
		o.Window = DefaultAppWindow
	}
	if o.History <= 0 {
		o.History = DefaultAppHistory
	}
	if o.MaxNames <= 0 {
		o.MaxNames = DefaultAppMaxNames
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// AppSnapshot is one read of the application telemetry (what cachecore
// caches write into Redis, see cachecore.ReadTelemetry). It is immutable.
type AppSnapshot struct {
	// Time is when the read finished; Seq numbers reads from 1.
	Time time.Time
	Seq  uint64
	// Err is the read's error (Error its text): instances and figures are
	// then those of the last good read, aged as usual.
	Err   error
	Error string
	// NoInstances is true when no instance reports telemetry (and none is
	// fading out): there is nothing to show, and a UI says how to enable
	// telemetry in cachecore (Options.Telemetry).
	NoInstances bool
	// Instances are the reporting instances by ID, live and stale.
	Instances []AppInstance
	// Live counts the instances that are not stale.
	Live int
	// Total sums every namespace of the live instances; its Name is "".
	Total NamespaceRates
	// Namespaces sum each namespace over the live instances, by name, with
	// OtherName (the names past MaxNames) last.
	Namespaces []NamespaceRates
	// Limiters sum each limiter name over the live instances, by name,
	// with OtherName last.
	Limiters []LimiterRates
	// HistoryTimes are the times of the history points of Total,
	// Namespaces and Limiters (same length, same index).
	HistoryTimes []time.Time
}

// AppInstance is one instance's telemetry and rates. Text fields come
// from Redis: untrusted.
type AppInstance struct {
	ID, Host string
	PID      int
	// Cache is the instance's cachecore Options.Namespace.
	Cache string
	// Started and Reported are the instance's times (its clock).
	Started, Reported time.Time
	// Interval is the instance's reporting interval.
	Interval time.Duration
	// Stale is true when the instance missed a report: this poller has
	// seen no new report from it for 1.5 of its intervals plus the
	// poller's own Interval (it only looks that often). A UI shows it
	// faded; stale instances are left out of the sums. After 3 intervals
	// (plus the poller's) without a report it is dropped. Times are the
	// poller's clock, so a skewed clock on the instance does not matter.
	Stale bool
	// LastSeen is when this poller last saw a new report from it (local
	// clock).
	LastSeen time.Time
	// RatesValid is false until two reports of the same process were seen
	// (and after a restart of the instance, which rebaselines).
	RatesValid bool
	// Breaker is the circuit breaker's state: "closed", "half-open" or
	// "open"; BreakerOpens counts how often it opened.
	Breaker      string
	BreakerOpens int64
	// Total sums the instance's namespaces; Name is "".
	Total NamespaceRates
	// Namespaces and Limiters are by name (OtherName last); their History
	// is empty (histories are kept for the sums only).
	Namespaces []NamespaceRates
	Limiters   []LimiterRates
	// ErrorsByOp are the instance's cumulative errors per operation.
	ErrorsByOp map[string]int64
}

// NamespaceRates are one namespace's rates over the window.
type NamespaceRates struct {
	Name string
	// HitRate is Δhits/(Δhits+Δmisses) over the window; only meaningful
	// when HitRateValid (there were lookups).
	HitRate      float64
	HitRateValid bool
	// Per-second rates over the window.
	HitsPerSec, MissesPerSec, ErrorsPerSec     float64
	LoadsPerSec, SetsPerSec, InvalidatedPerSec float64
	// MeanLoadTime is Δload time/Δloads over the window; only meaningful
	// when MeanLoadValid (there were loads).
	MeanLoadTime  time.Duration
	MeanLoadValid bool
	// Counts are the cumulative counters as reported (summed over live
	// instances in the sums).
	Counts cachecore.Counts
	// History holds one point per read, oldest first, aligned with
	// AppSnapshot.HistoryTimes; NaN where there is no value. Empty in
	// AppInstance.
	History NamespaceHistory
}

// NamespaceHistory are a namespace's sparkline series.
type NamespaceHistory struct {
	HitRate, HitsPerSec, MissesPerSec, ErrorsPerSec, LoadsPerSec []float64
	// MeanLoadMillis is MeanLoadTime in milliseconds.
	MeanLoadMillis []float64
}

// LimiterRates are one limiter name's decisions over the window.
type LimiterRates struct {
	Name string
	// Per-second decisions over the window; ErrorsPerSec counts the
	// decisions made without Redis (fail-open), which are among the
	// allowed and denied ones.
	AllowedPerSec, DeniedPerSec, ErrorsPerSec float64
	// DenyRatio is Δdenied/(Δallowed+Δdenied); only meaningful when
	// DenyRatioValid (there were decisions).
	DenyRatio      float64
	DenyRatioValid bool
	// Counts are the cumulative counters as reported.
	Counts cachecore.LimiterCounts
	// History as in NamespaceRates.
	History LimiterHistory
}

// LimiterHistory are a limiter's sparkline series.
type LimiterHistory struct {
	AllowedPerSec, DeniedPerSec, DenyRatio []float64
}

// AppPoller reads the application telemetry every Interval and turns it
// into rates: exactly cachecore.ReadTelemetry per read (two round trips,
// whatever the size of the keyspace). Rates come from the difference
// between an instance's reports; an instance that restarts (new start
// time, or a counter that went down) is rebaselined, never a negative rate.
// All methods are safe for concurrent use.
type AppPoller struct {
	rdb     redis.UniversalClient
	opts    AppOptions
	now     func() time.Time
	read    func(ctx context.Context) ([]cachecore.TelemetryInstance, error)
	latest  atomic.Pointer[AppSnapshot]
	running atomic.Bool

	mu sync.Mutex // one read at a time; guards the state
	appState
}

// NewAppPoller returns a poller of the telemetry in rdb. Nothing is sent
// before Poll or Run. It does not close rdb.
func NewAppPoller(rdb redis.UniversalClient, opts AppOptions) *AppPoller {
	opts = opts.withDefaults()
	p := &AppPoller{rdb: rdb, opts: opts, now: time.Now, appState: newAppState(opts)}
	p.read = func(ctx context.Context) ([]cachecore.TelemetryInstance, error) {
		if rdb == nil {
			return nil, errors.New("monitor: no Redis client")
		}
		return cachecore.ReadTelemetry(ctx, rdb)
	}
	return p
}

// Options returns the poller's options with every default filled in.
func (p *AppPoller) Options() AppOptions { return p.opts }

// Latest returns the last snapshot, or nil before the first.
func (p *AppPoller) Latest() *AppSnapshot { return p.latest.Load() }

// Poll reads the telemetry now and returns the snapshot (also kept as
// Latest). It never returns nil.
func (p *AppPoller) Poll(ctx context.Context) *AppSnapshot {
	p.mu.Lock()
	defer p.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	instances, err := p.read(ctx)
	s := p.update(p.now(), instances, err)
	p.latest.Store(s)
	return s
}

// Run polls at once and then every Options.Interval, calling deliver
// (which may be nil) with each snapshot on Run's goroutine, until ctx is
// done; then it returns ctx.Err().
func (p *AppPoller) Run(ctx context.Context, deliver func(*AppSnapshot)) error {
	return runEvery(ctx, &p.running, p.opts.Interval, p.Poll, deliver)
}
