package monitor

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The key events a [KeyEvents] follows, as they end their channel names.
const (
	KeyEventExpired = "expired"
	KeyEventEvicted = "evicted"
	KeyEventDel     = "del"
)

var keyEventNames = []string{KeyEventExpired, KeyEventEvicted, KeyEventDel}

// KeyEventsOptions configures a [KeyEvents].
type KeyEventsOptions struct {
	// DB is the database whose events are counted (0 is database 0; the
	// dashboard passes the one it is connected to). Ignored with AllDBs.
	DB int
	// AllDBs counts the events of every database (a PSUBSCRIBE pattern
	// over the database number).
	AllDBs bool
	// Recent is how many recent events (channel and key) snapshots carry.
	// 0 means 100.
	Recent int
	// RateWindow and History are as in TapOptions: 0 means 10s and 60.
	RateWindow time.Duration
	History    int
	// ReconnectDelay is as in TapOptions. 0 means 250ms.
	ReconnectDelay time.Duration
}

// KeyEventRate is the rate of one kind of key event.
type KeyEventRate struct {
	// Event is "expired", "evicted" or "del".
	Event string
	// Count is the events counted since Run began.
	Count uint64
	// PerSec covers the last RateWindow.
	PerSec float64
	// History is events per second in each of the last History seconds,
	// oldest first.
	History []float64
}

// KeyEventsSnapshot is an immutable view of a [KeyEvents].
type KeyEventsSnapshot struct {
	Time time.Time
	// State is the subscriptions' state (as a tap's).
	State TapState
	// Expired, Evicted and Del are the rates of each kind.
	Expired, Evicted, Del KeyEventRate
	// Recent are the newest events, oldest first: Channel is the keyevent
	// channel ("__keyevent@0__:expired"), Payload the key (untrusted).
	Recent []TapMessage
	// Events report subscriptions, disconnects and refusals.
	Events []TapEvent
	// Dropped counts events dropped because the counting fell behind.
	Dropped uint64
}

// KeyEvents follows the server's expired, evicted and del key events as
// live rates, on a connection of its own (one per master on a Redis
// Cluster, where events are local to the node that fires them). The
// server publishes them only when notify-keyspace-events enables them:
// check with [ReadKeyEventsConfig] first; [EnableKeyEvents] turns them on,
// as an explicit user action. Safe for concurrent use.
type KeyEvents struct {
	rdb     redis.UniversalClient
	opts    KeyEventsOptions
	running atomic.Bool
	mu      sync.Mutex
	taps    []*Tap
}

// NewKeyEvents returns a follower of rdb's key events. Nothing is sent
// before Run. It does not close rdb.
func NewKeyEvents(rdb redis.UniversalClient, opts KeyEventsOptions) *KeyEvents {
	if opts.Recent <= 0 {
		opts.Recent = 100
	}
	return &KeyEvents{rdb: rdb, opts: opts}
}

// patterns returns the keyevent channels to subscribe to.
func (k *KeyEvents) patterns() []string {
	db := strconv.Itoa(k.opts.DB)
	if k.opts.AllDBs {
		db = "*"
	}
	out := make([]string, len(keyEventNames))
	for i, e := range keyEventNames {
		out[i] = "__keyevent@" + db + "__:" + e
	}
	return out
}

// Run subscribes and counts until ctx is done, then returns ctx.Err(). The
// counts start again at each Run.
func (k *KeyEvents) Run(ctx context.Context) error {
	if !k.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer k.running.Store(false)
	nodes := []redis.UniversalClient{k.rdb}
	if cc, ok := k.rdb.(*redis.ClusterClient); ok {
		nodes = nil
		var mu sync.Mutex
		err := cc.ForEachMaster(ctx, func(_ context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			nodes = append(nodes, c)
			return nil
		})
		if err != nil {
			return fmt.Errorf("monitor: key events: %w", err)
		}
	}
	taps := make([]*Tap, 0, len(nodes))
	for _, node := range nodes {
		t, err := NewTap(node, TapOptions{Patterns: k.patterns(), RingSize: k.opts.Recent, MaxPayload: 512,
			RateWindow: k.opts.RateWindow, History: k.opts.History, ReconnectDelay: k.opts.ReconnectDelay})
		if err != nil {
			return err
		}
		taps = append(taps, t)
	}
	k.mu.Lock()
	k.taps = taps
	k.mu.Unlock()

	var wg sync.WaitGroup
	for _, t := range taps {
		wg.Go(func() { _ = t.Run(ctx, nil) })
	}
	wg.Wait()
	return ctx.Err()
}

// Snapshot returns the current rates; before Run they are zero and State
// is TapStopped.
func (k *KeyEvents) Snapshot() *KeyEventsSnapshot {
	k.mu.Lock()
	taps := k.taps
	k.mu.Unlock()
	s := &KeyEventsSnapshot{Time: time.Now(), State: TapStopped}
	rates := map[string]*KeyEventRate{}
	for _, e := range keyEventNames {
		rates[e] = &KeyEventRate{Event: e}
	}
	for i, t := range taps {
		ts := t.Snapshot(TapFilter{Limit: k.opts.Recent})
		s.Time = ts.Time
		if i == 0 || ts.Stats.State != TapSubscribed {
			s.State = ts.Stats.State
		}
		s.Dropped += ts.Stats.Dropped
		s.Recent = append(s.Recent, ts.Messages...)
		s.Events = append(s.Events, ts.Events...)
		for _, c := range append(ts.Channels, ts.Other) {
			_, event, ok := strings.Cut(c.Channel, "__:")
			r := rates[event]
			if !ok || r == nil {
				continue
			}
			r.Count += c.Messages
			r.PerSec += c.MsgsPerSec
			if r.History == nil {
				r.History = make([]float64, len(c.History))
			}
			for j := range min(len(c.History), len(r.History)) {
				r.History[j] += c.History[j]
			}
		}
	}
	for _, r := range rates {
		if r.History == nil {
			r.History = make([]float64, k.history())
		}
	}
	if len(taps) > 1 {
		sort.SliceStable(s.Recent, func(i, j int) bool { return s.Recent[i].Time.Before(s.Recent[j].Time) })
		if len(s.Recent) > k.opts.Recent {
			s.Recent = s.Recent[len(s.Recent)-k.opts.Recent:]
		}
	}
	s.Expired, s.Evicted, s.Del = *rates[KeyEventExpired], *rates[KeyEventEvicted], *rates[KeyEventDel]
	return s
}

func (k *KeyEvents) history() int {
	if k.opts.History > 0 {
		return k.opts.History
	}
	return DefaultTapHistory
}
