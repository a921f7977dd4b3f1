package monitor

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ChannelsOptions configures a [ChannelsPoller]. The zero value lists every
// channel every ten seconds.
type ChannelsOptions struct {
	// Pattern is the PUBSUB CHANNELS (and SHARDCHANNELS) glob pattern. ""
	// means every channel.
	Pattern string
	// Interval is the time between refreshes. 0 means 10s; shorter values
	// are raised to 10s, so listing channels never costs the server more
	// than a few commands every ten seconds.
	Interval time.Duration
	// MaxChannels bounds how many channels (classic and shard together) a
	// refresh counts subscribers for: past it, the first MaxChannels by
	// name are kept and the snapshot says Truncated. 0 means 1000.
	MaxChannels int
	// Timeout bounds each refresh. 0 means 5s.
	Timeout time.Duration
}

// Defaults of ChannelsOptions.
const (
	DefaultChannelsInterval    = 10 * time.Second
	DefaultChannelsMaxChannels = 1000
	// numsubChunk is how many channels one PUBSUB NUMSUB (or SHARDNUMSUB)
	// asks about.
	numsubChunk = 100
)

// minChannelsInterval is the shortest interval; a variable so that tests
// can run the loop faster.
var minChannelsInterval = DefaultChannelsInterval

func (o ChannelsOptions) withDefaults() ChannelsOptions {
	if o.Interval <= 0 {
		o.Interval = DefaultChannelsInterval
	}
	o.Interval = max(o.Interval, minChannelsInterval)
	if o.MaxChannels <= 0 {
		o.MaxChannels = DefaultChannelsMaxChannels
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// ChannelInfo is one channel and its subscribers.
type ChannelInfo struct {
	// Name is the channel's name: untrusted text.
	Name string
	// Shard is true for a shard channel (SSUBSCRIBE / SPUBLISH, Redis 7+).
	Shard bool
	// Subscribers is PUBSUB NUMSUB (or SHARDNUMSUB): the clients
	// subscribed to the channel by name. Pattern subscribers are not
	// counted (Redis cannot say which patterns match a channel).
	Subscribers int64
}

// ChannelsSnapshot is one refresh of a [ChannelsPoller]. It is immutable.
type ChannelsSnapshot struct {
	// Time is when the refresh finished; Seq numbers refreshes from 1.
	Time time.Time
	Seq  uint64
	// Pattern is the pattern the channels were listed with ("" for all).
	Pattern string
	// Channels are the channels with subscribers, most subscribers first,
	// then by name (classic before shard on a tie).
	Channels []ChannelInfo
	// Listed is how many channels the server listed (classic and shard),
	// before MaxChannels applied; Truncated is Listed > len(Channels).
	Listed    int
	Truncated bool
	// ShardUnavailable says why shard channels are not listed (a server
	// before Redis 7, an ACL that refuses PUBSUB SHARDCHANNELS), as the
	// server said it; "" when they are.
	ShardUnavailable string
	// Err is the refresh's error (Error its text): the server could not be
	// asked. Channels is then empty.
	Err   error
	Error string
	// Commands is the number of commands the refresh sent.
	Commands int
}

// ChannelsPoller lists the server's channels and their subscriber counts:
// PUBSUB CHANNELS, then PUBSUB NUMSUB in chunks of 100, and the same for
// shard channels (SHARDCHANNELS, SHARDNUMSUB) where the server has them.
// It is meant to run only while a UI shows the channels: run it with a
// context the UI cancels when the view closes. On a Redis Cluster every
// node is asked (subscriptions live on the node a subscriber connected to)
// and the counts are summed. All methods are safe for concurrent use.
type ChannelsPoller struct {
	rdb     redis.UniversalClient
	opts    ChannelsOptions
	now     func() time.Time
	latest  atomic.Pointer[ChannelsSnapshot]
	running atomic.Bool
	seq     atomic.Uint64
	// shardRefused is when and why the server refused the shard listing,
	// so it is asked again only every refusedRetry.
	shardRefused atomic.Pointer[refusal]
}

// NewChannelsPoller returns a poller of rdb's channels. Nothing is sent
// before Poll or Run. It does not close rdb.
func NewChannelsPoller(rdb redis.UniversalClient, opts ChannelsOptions) *ChannelsPoller {
	return &ChannelsPoller{rdb: rdb, opts: opts.withDefaults(), now: time.Now}
}

// Options returns the poller's options with every default filled in.
func (p *ChannelsPoller) Options() ChannelsOptions { return p.opts }

// Latest returns the last refresh, or nil before the first.
func (p *ChannelsPoller) Latest() *ChannelsSnapshot { return p.latest.Load() }

// Run refreshes at once and then every Options.Interval, calling deliver
// (which may be nil) with each snapshot on Run's goroutine, until ctx is
// done; then it returns ctx.Err().
func (p *ChannelsPoller) Run(ctx context.Context, deliver func(*ChannelsSnapshot)) error {
	return runEvery(ctx, &p.running, p.opts.Interval, p.Poll, deliver)
}

// Poll refreshes now and returns the snapshot (also kept as Latest). It
// never returns nil.
func (p *ChannelsPoller) Poll(ctx context.Context) *ChannelsSnapshot {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	s := p.refresh(ctx)
	s.Seq = p.seq.Add(1)
	s.Time = p.now()
	p.latest.Store(s)
	return s
}
