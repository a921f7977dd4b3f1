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

// Poller samples one Redis server on a schedule and turns the samples into
// [Snapshot] values. Create it with [NewPoller]; run it with [Poller.Run]
// (or take single samples with [Poller.Poll]). All methods are safe for
// concurrent use.
type Poller struct {
	opts    Options
	node    *node
	latest  atomic.Pointer[Snapshot]
	running atomic.Bool
}

// NewPoller returns a poller for the server rdb talks to: a single server,
// or the master a Sentinel failover client resolves (a failover is seen as
// a restart: a new run_id rebaselines the rates). A *redis.ClusterClient or
// *redis.Ring is not supported yet: every tick then reports
// ErrUnsupportedClient. The poller shares rdb; it does not close it.
func NewPoller(rdb redis.UniversalClient, opts Options) *Poller {
	opts = opts.withDefaults()
	n := newNode(nodeAddr(rdb, opts.Addr), rdb, opts)
	switch c := rdb.(type) {
	case *redis.ClusterClient, *redis.Ring:
		n.unsupported = ErrUnsupportedClient
	case *redis.Client:
		n.resp3 = c.Options().Protocol != 2 // 0 means 3
	}
	return &Poller{opts: opts, node: n}
}

// nodeAddr is the label of the polled node.
func nodeAddr(rdb redis.UniversalClient, addr string) string {
	if addr != "" {
		return addr
	}
	if c, ok := rdb.(*redis.Client); ok {
		// A Sentinel failover client has a placeholder address; the
		// master it reaches is not known to the client.
		if addr := c.Options().Addr; addr != "FailoverClient" {
			return addr
		}
	}
	return ""
}

// Options returns the poller's options with every default filled in.
func (p *Poller) Options() Options { return p.opts }

// Poll takes one sample now, runs every tier that is due, and returns the
// snapshot (also kept as Latest). It never returns nil: a failure is a
// snapshot with Health.Up false.
func (p *Poller) Poll(ctx context.Context) *Snapshot {
	s := p.node.tick(ctx, false)
	p.latest.Store(s)
	return s
}

// Latest returns the most recent snapshot, or nil before the first.
func (p *Poller) Latest() *Snapshot { return p.latest.Load() }

// Run polls every Options.Interval, starting at once, and calls deliver
// with each snapshot, until ctx is done; then it returns ctx.Err(). deliver
// runs on Run's goroutine, so a slow deliver delays the next tick (ticks
// are skipped, never queued); to hand snapshots to another goroutine, send
// them on a channel from deliver. deliver may be nil (use Latest).
//
// A tick in flight when ctx ends is abandoned without being delivered.
func (p *Poller) Run(ctx context.Context, deliver func(*Snapshot)) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer p.running.Store(false)

	ticker := time.NewTicker(p.opts.Interval)
	defer ticker.Stop()
	for {
		s := p.node.tick(ctx, false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.latest.Store(s)
		if deliver != nil {
			deliver(s)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}
