package monitor

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrRunning is returned by Run when another Run of the same poller (or
// tap) is active.
var ErrRunning = errors.New("monitor: already running")

// Poller samples a Redis deployment on a schedule and turns the samples
// into [Snapshot] values: one server, the master a Sentinel failover
// client resolves, or every node of a Redis Cluster. Create it with
// [NewPoller]; run it with [Poller.Run] (or take single samples with
// [Poller.Poll]); Close it when done. All methods are safe for concurrent
// use.
type Poller struct {
	opts    Options
	node    *node          // a single server or Sentinel
	cluster *clusterPoller // a Redis Cluster
	latest  atomic.Pointer[Snapshot]
	running atomic.Bool
}

// NewPoller returns a poller for the deployment rdb talks to.
//
//   - A *redis.Client polls its server. A Sentinel failover client
//     (redis.NewFailoverClient) polls the master it resolves; the poller
//     adds a hook to the client to learn the master's address from the
//     connections it opens, reports a failover as a TopologyFailover
//     event and alert, and rebaselines (a new run_id).
//   - A *redis.ClusterClient polls every node, masters and replicas, in
//     parallel, each on a connection of the poller's own (closed by
//     Close); see Options.ClusterInterval for discovery and CLUSTER INFO.
//   - A *redis.Ring is not supported: every tick reports
//     ErrUnsupportedClient.
//
// The poller shares rdb; it does not close it.
func NewPoller(rdb redis.UniversalClient, opts Options) *Poller {
	opts = opts.withDefaults()
	p := &Poller{opts: opts}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		p.cluster = newClusterPoller(c, opts)
		return p
	case *redis.Ring:
		p.node = newNode(opts.Addr, rdb, opts)
		p.node.unsupported = ErrUnsupportedClient
		p.node.mode = ModeStandalone
		return p
	}
	n := newNode(nodeAddr(rdb, opts.Addr), rdb, opts)
	n.mode = ModeStandalone
	if c, ok := rdb.(*redis.Client); ok {
		n.resp3 = c.Options().Protocol != 2 // 0 means 3
		if isFailoverClient(c) {
			n.mode = ModeSentinel
			n.tracker = trackerFor(c)
		}
	}
	p.node = n
	return p
}

// nodeAddr is the label of the polled node.
func nodeAddr(rdb redis.UniversalClient, addr string) string {
	if addr != "" {
		return addr
	}
	if c, ok := rdb.(*redis.Client); ok && !isFailoverClient(c) {
		// A Sentinel failover client has a placeholder address; the master
		// it reaches is in Snapshot.Sentinel.
		return c.Options().Addr
	}
	return ""
}

// Options returns the poller's options with every default filled in.
func (p *Poller) Options() Options { return p.opts }

// tick samples the deployment once.
func (p *Poller) tick(ctx context.Context, all bool) *Snapshot {
	if p.cluster != nil {
		return p.cluster.tick(ctx, all)
	}
	return p.node.tick(ctx, all)
}

// setNow replaces the clock that decides which tiers are due (tests).
func (p *Poller) setNow(now func() time.Time) {
	if p.cluster != nil {
		p.cluster.setNow(now)
		return
	}
	p.node.now = now
}

// Poll takes one sample now, runs every tier that is due, and returns the
// snapshot (also kept as Latest). It never returns nil: a failure is a
// snapshot with Health.Up false.
func (p *Poller) Poll(ctx context.Context) *Snapshot {
	s := p.tick(ctx, false)
	p.latest.Store(s)
	return s
}

// Latest returns the most recent snapshot, or nil before the first.
func (p *Poller) Latest() *Snapshot { return p.latest.Load() }

// Close releases the connections the poller opened itself (one per node
// of a cluster); it does not close the client given to NewPoller. A poller
// used after Close opens them again. It always returns nil for a single
// server or Sentinel.
func (p *Poller) Close() error {
	if p.cluster != nil {
		return p.cluster.close()
	}
	return nil
}

// Run polls every Options.Interval, starting at once, and calls deliver
// with each snapshot, until ctx is done; then it returns ctx.Err(). deliver
// runs on Run's goroutine, so a slow deliver delays the next tick (ticks
// are skipped, never queued); to hand snapshots to another goroutine, send
// them on a channel from deliver. deliver may be nil (use Latest).
//
// A tick in flight when ctx ends is abandoned without being delivered.
func (p *Poller) Run(ctx context.Context, deliver func(*Snapshot)) error {
	poll := func(ctx context.Context) *Snapshot { return p.tick(ctx, false) }
	return runEvery(ctx, &p.running, p.opts.Interval, poll, func(s *Snapshot) {
		p.latest.Store(s)
		if deliver != nil {
			deliver(s)
		}
	})
}
