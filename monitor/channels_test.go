package monitor

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscribed subscribes a new connection and waits for the server's
// confirmations.
func subscribed(t *testing.T, rdb *redis.Client, shard bool, channels ...string) {
	t.Helper()
	ctx := context.Background()
	var ps *redis.PubSub
	if shard {
		ps = rdb.SSubscribe(ctx, channels...)
	} else {
		ps = rdb.Subscribe(ctx, channels...)
	}
	t.Cleanup(func() { _ = ps.Close() })
	for range channels {
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChannelsPollerCountsSubscribersInChunks(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var many []string
	for i := 0; i < 250; i++ {
		many = append(many, fmt.Sprintf("ch:%03d", i))
	}
	subscribed(t, s.admin, false, many...)
	subscribed(t, s.admin, false, "ch:000", "other")
	subscribed(t, s.admin, true, "orders:{1}", "orders:{2}")
	subscribed(t, s.admin, true, "orders:{1}")

	p := NewChannelsPoller(s.watched, ChannelsOptions{})
	snap := p.Poll(context.Background())
	if snap.Err != nil {
		t.Fatal(snap.Err)
	}
	// PUBSUB CHANNELS, SHARDCHANNELS, NUMSUB × 3 (251 channels in chunks
	// of 100), SHARDNUMSUB × 1.
	if snap.Listed != 253 || snap.Truncated || len(snap.Channels) != 253 || snap.Commands != 6 || snap.ShardUnavailable != "" {
		t.Fatalf("listed %d, truncated %v, %d channels, %d commands, shard %q",
			snap.Listed, snap.Truncated, len(snap.Channels), snap.Commands, snap.ShardUnavailable)
	}
	top := snap.Channels[:3]
	if top[0] != (ChannelInfo{Name: "ch:000", Subscribers: 2}) || top[1] != (ChannelInfo{Name: "orders:{1}", Shard: true, Subscribers: 2}) ||
		top[2] != (ChannelInfo{Name: "ch:001", Subscribers: 1}) {
		t.Fatalf("busiest first: %+v", top)
	}
	counts := map[string]int64{}
	for _, c := range snap.Channels {
		counts[c.Name] = c.Subscribers
	}
	if counts["ch:249"] != 1 || counts["other"] != 1 || counts["orders:{2}"] != 1 {
		t.Fatalf("counts %v", counts)
	}
	if p.Latest() != snap || snap.Seq != 1 || snap.Time.IsZero() {
		t.Fatalf("latest/seq/time: %d %v", snap.Seq, snap.Time)
	}

	// A pattern narrows both listings.
	snap = NewChannelsPoller(s.watched, ChannelsOptions{Pattern: "orders:*"}).Poll(context.Background())
	if snap.Listed != 2 || len(snap.Channels) != 2 || snap.Commands != 3 || snap.Pattern != "orders:*" {
		t.Fatalf("pattern: %+v", snap)
	}

	// The cap: the first MaxChannels by name, classic first.
	snap = NewChannelsPoller(s.watched, ChannelsOptions{MaxChannels: 10}).Poll(context.Background())
	if snap.Listed != 253 || !snap.Truncated || len(snap.Channels) != 10 || snap.Commands != 3 {
		t.Fatalf("cap: listed %d truncated %v channels %d commands %d", snap.Listed, snap.Truncated, len(snap.Channels), snap.Commands)
	}
	for _, c := range snap.Channels {
		if c.Shard || c.Name > "ch:009" {
			t.Fatalf("cap kept %+v", c)
		}
	}
}

func TestChannelsPollerWithoutShardPermission(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := context.Background()
	if err := s.admin.Do(ctx, "acl", "setuser", "viewer", "on", ">pw", "+@all", "-pubsub|shardchannels", "~*", "&*").Err(); err != nil {
		t.Fatal(err)
	}
	subscribed(t, s.admin, false, "news")
	subscribed(t, s.admin, true, "orders:{1}")
	rdb := guardedClient(t, withPassword(s.Options(), "viewer", "pw"))
	p := NewChannelsPoller(rdb, ChannelsOptions{})
	snap := p.Poll(ctx)
	if snap.Err != nil || len(snap.Channels) != 1 || snap.Channels[0].Name != "news" || !strings.Contains(snap.ShardUnavailable, "NOPERM") {
		t.Fatalf("%+v", snap)
	}
	// The refusal is remembered: the next refresh does not ask again.
	snap = p.Poll(ctx)
	if snap.Commands != 2 || !strings.Contains(snap.ShardUnavailable, "NOPERM") {
		t.Fatalf("second refresh: %d commands, %q", snap.Commands, snap.ShardUnavailable)
	}
}

func TestChannelsPollerRunAndInterval(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	subscribed(t, s.admin, false, "news")
	p := NewChannelsPoller(s.watched, ChannelsOptions{Interval: time.Second})
	if p.Options().Interval != 10*time.Second || p.Options().MaxChannels != 1000 {
		t.Fatalf("options %+v", p.Options())
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan *ChannelsSnapshot, 1)
	done := make(chan error, 1)
	go func() {
		done <- p.Run(ctx, func(s *ChannelsSnapshot) {
			select {
			case got <- s:
			default:
			}
		})
	}()
	snap := <-got
	if len(snap.Channels) != 1 || snap.Channels[0].Subscribers != 1 {
		t.Fatalf("%+v", snap)
	}
	if err := p.Run(ctx, nil); err != ErrRunning {
		t.Fatalf("second Run: %v", err)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v", err)
	}

	// An unreachable server is an error in the snapshot, not a panic.
	addr := s.Addr
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	snap = NewChannelsPoller(guardedClient(t, &redis.Options{Addr: addr, MaxRetries: -1}), ChannelsOptions{Timeout: time.Second}).Poll(context.Background())
	if snap.Err == nil || snap.Error == "" || snap.Channels != nil {
		t.Fatalf("down server: %+v", snap)
	}
}
