package monitor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// TapOptions configures a [Tap]. The zero value taps every channel
// (PSUBSCRIBE *) with the documented bounds.
type TapOptions struct {
	// Patterns are the PSUBSCRIBE patterns. When both Patterns and
	// ShardChannels are empty the tap subscribes to "*". Patterns never see
	// shard channels (SPUBLISH): tap those by name with ShardChannels.
	Patterns []string
	// ShardChannels are shard channels to SSUBSCRIBE to (Redis 7+). On a
	// Redis Cluster each gets its own connection to the node serving its
	// slot; elsewhere they share one. At most MaxShardChannels.
	ShardChannels []string
	// RingSize is the most messages the ring keeps. 0 means 10,000.
	RingSize int
	// RingBytes bounds the payload bytes the ring keeps (the oldest
	// messages go first). 0 means 16 MiB.
	RingBytes int
	// MaxPayload is how many bytes of each payload are kept; Size keeps
	// the full size. 0 means 16 KiB; a negative value keeps whole payloads
	// (the byte bounds of the ring and the queue still apply).
	MaxPayload int
	// QueueSize is how many messages may wait between the reader and the
	// accounting; past it (or past QueueBytes) messages are dropped and
	// counted. 0 means 4096.
	QueueSize int
	// QueueBytes bounds the payload bytes waiting in the queue. 0 means
	// 8 MiB.
	QueueBytes int
	// MaxChannels is how many channels get their own rates; the others are
	// summed in TapSnapshot.Other. A channel silent for History seconds
	// gives its place up. 0 means 200.
	MaxChannels int
	// RateWindow is the time the rates cover. 0 means 10s. It is rounded
	// to whole seconds and is at most History seconds.
	RateWindow time.Duration
	// History is how many one-second points each channel's sparkline
	// keeps. 0 means 60.
	History int
	// ReconnectDelay is the wait before the first attempt to reconnect;
	// it doubles on each failure up to 10s. 0 means 250ms.
	ReconnectDelay time.Duration
}

// Defaults and bounds of TapOptions.
const (
	DefaultTapRingSize       = 10_000
	DefaultTapRingBytes      = 16 << 20
	DefaultTapMaxPayload     = 16 << 10
	DefaultTapQueueSize      = 4096
	DefaultTapQueueBytes     = 8 << 20
	DefaultTapMaxChannels    = 200
	DefaultTapRateWindow     = 10 * time.Second
	DefaultTapHistory        = 60
	DefaultTapReconnectDelay = 250 * time.Millisecond
	// MaxShardChannels bounds TapOptions.ShardChannels.
	MaxShardChannels  = 64
	maxReconnectDelay = 10 * time.Second
	// idlePing is how long a subscription may be silent before the tap
	// checks the connection with a PING.
	idlePing     = 30 * time.Second
	maxTapEvents = 64
	maxBatch     = 256
)

// ErrBadTapOptions is returned by NewTap for options it cannot run.
var ErrBadTapOptions = errors.New("monitor: bad tap options")

func (o TapOptions) withDefaults() (TapOptions, error) {
	if len(o.Patterns) == 0 && len(o.ShardChannels) == 0 {
		o.Patterns = []string{"*"}
	}
	o.Patterns = append([]string(nil), o.Patterns...)
	o.ShardChannels = append([]string(nil), o.ShardChannels...)
	for _, p := range o.Patterns {
		if p == "" {
			return o, fmt.Errorf("%w: empty pattern", ErrBadTapOptions)
		}
	}
	for _, c := range o.ShardChannels {
		if c == "" {
			return o, fmt.Errorf("%w: empty shard channel name", ErrBadTapOptions)
		}
	}
	if len(o.ShardChannels) > MaxShardChannels {
		return o, fmt.Errorf("%w: %d shard channels, at most %d", ErrBadTapOptions, len(o.ShardChannels), MaxShardChannels)
	}
	if o.RingSize <= 0 {
		o.RingSize = DefaultTapRingSize
	}
	if o.RingBytes <= 0 {
		o.RingBytes = DefaultTapRingBytes
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultTapMaxPayload
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultTapQueueSize
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultTapQueueBytes
	}
	if o.MaxChannels <= 0 {
		o.MaxChannels = DefaultTapMaxChannels
	}
	if o.History <= 0 {
		o.History = DefaultTapHistory
	}
	if o.RateWindow <= 0 {
		o.RateWindow = DefaultTapRateWindow
	}
	o.RateWindow = min(max(o.RateWindow.Round(time.Second), time.Second), time.Duration(o.History)*time.Second)
	if o.ReconnectDelay <= 0 {
		o.ReconnectDelay = DefaultTapReconnectDelay
	}
	return o, nil
}

// Tap is the opt-in live view of pub/sub traffic: it subscribes with
// PSUBSCRIBE (and SSUBSCRIBE for named shard channels) on connections of its
// own, never the client's pool, and keeps what it receives in a bounded
// ring with per-channel message and byte rates.
//
// A reader goroutine per connection only takes messages off the socket and
// hands them, without ever waiting, to a bounded queue; the accounting
// goroutine moves them into the ring, the rates and the deliver callback of
// [Tap.Run]. When that side falls behind the queue fills and messages are
// dropped and counted (Stats.Dropped): memory stays bounded and the socket
// keeps draining, so the server has no reason to disconnect the tap at its
// client-output-buffer-limit. If it does anyway (or the connection breaks),
// the tap reports an [EventDisconnected], reconnects and subscribes again.
//
// A UI reads the tap with [Tap.Snapshot], as often as it renders; pausing
// ([Tap.SetPaused]) freezes the ring while the rates go on. All methods are
// safe for concurrent use.
type Tap struct {
	rdb  redis.UniversalClient
	opts TapOptions
	subs []tapSubscription
	now  func() time.Time

	queue       chan TapMessage
	queuedBytes atomic.Int64

	received, receivedBytes atomic.Uint64
	dropped, droppedBytes   atomic.Uint64
	running                 atomic.Bool

	// beforeReceive, when set (tests only), runs before each read of a
	// subscription's socket: a test blocks it to make the tap fall behind
	// the server.
	beforeReceive func()

	mu sync.Mutex // guards everything below
	tapState
}

// tapSubscription is one connection of the tap.
type tapSubscription struct {
	shard bool
	names []string
}

// command names the subscription as the command that makes it.
func (s tapSubscription) command() string {
	cmd := "PSUBSCRIBE"
	if s.shard {
		cmd = "SSUBSCRIBE"
	}
	for _, n := range s.names {
		cmd += " " + n
	}
	return cmd
}

// NewTap returns a tap for the server rdb talks to; nothing is sent before
// [Tap.Run]. It shares rdb's options (address, credentials, TLS) but opens
// its own connections, and does not close rdb.
func NewTap(rdb redis.UniversalClient, opts TapOptions) (*Tap, error) {
	if rdb == nil {
		return nil, fmt.Errorf("%w: nil client", ErrBadTapOptions)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	t := &Tap{rdb: rdb, opts: opts, now: time.Now, queue: make(chan TapMessage, opts.QueueSize)}
	if len(opts.Patterns) > 0 {
		t.subs = append(t.subs, tapSubscription{names: opts.Patterns})
	}
	if len(opts.ShardChannels) > 0 {
		if _, cluster := rdb.(*redis.ClusterClient); cluster {
			// SSUBSCRIBE of channels in different slots is a CROSSSLOT
			// error: one connection per channel, each to its slot's node.
			for _, c := range opts.ShardChannels {
				t.subs = append(t.subs, tapSubscription{shard: true, names: []string{c}})
			}
		} else {
			t.subs = append(t.subs, tapSubscription{shard: true, names: opts.ShardChannels})
		}
	}
	t.tapState = newTapState(opts, len(t.subs))
	return t, nil
}

// Options returns the tap's options with every default filled in.
func (t *Tap) Options() TapOptions { return t.opts }

// Run subscribes and runs the tap until ctx is done, then closes its
// connections and returns ctx.Err(). The ring, the counters and the rates
// survive Run: a later Run continues them.
//
// deliver, when not nil, receives every accounted message, in order, in
// batches, on the accounting goroutine: while it runs, messages queue up
// and, past the queue's bounds, are dropped (and counted). It must not
// modify the batch; it may keep it. A UI passes nil and reads Snapshot.
func (t *Tap) Run(ctx context.Context, deliver func(batch []TapMessage)) error {
	if !t.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer t.running.Store(false)
	t.mu.Lock()
	t.started = t.now()
	t.state = TapStarting
	clear(t.subUp)
	t.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { t.process(ctx, deliver) })
	for i, s := range t.subs {
		wg.Go(func() { t.runSubscription(ctx, i, s) })
	}
	<-ctx.Done()
	wg.Wait()
	t.mu.Lock()
	t.state = TapStopped
	t.mu.Unlock()
	return ctx.Err()
}

// SetPaused freezes (true) or thaws (false) the ring. While paused, the
// ring keeps the messages it has, so a UI can scroll and filter them; new
// messages are still counted in the rates, the channel figures and
// Stats.SkippedWhilePaused, and still reach Run's deliver callback, but
// not the ring. Pausing costs nothing on the server: the subscription stays.
func (t *Tap) SetPaused(paused bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.paused = paused
}

// Paused reports whether the ring is frozen.
func (t *Tap) Paused() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.paused
}

// Clear empties the ring. Counters, rates and channel figures go on.
func (t *Tap) Clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ring.reset()
}

// Stats returns the tap's counters (cheaper than a Snapshot).
func (t *Tap) Stats() TapStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.feedTotals(now)
	return t.statsLocked(now)
}

// Snapshot returns an immutable view of the tap: the ring's messages that
// match f, the counters, the channel rates and the recent events. It scans
// the ring under the tap's lock, copying only the messages it returns
// (about a millisecond for a full ring and a text filter), and never
// blocks the readers, so a UI may call it on every frame.
func (t *Tap) Snapshot(f TapFilter) *TapSnapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.feedTotals(now)
	s := &TapSnapshot{
		Time:          now,
		Patterns:      t.opts.Patterns,
		ShardChannels: t.opts.ShardChannels,
		Stats:         t.statsLocked(now),
		Events:        t.events.slice(),
	}
	s.Channels, s.Other = t.channelRates(now)
	s.Messages, s.Matched = t.ring.match(f)
	return s
}
