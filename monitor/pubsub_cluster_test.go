package monitor

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// On a Redis Cluster subscriptions live on the node a subscriber connected
// to, shard channels on their slot's node, and key events on the node that
// fires them: the channel list is summed over the nodes, the tap opens one
// connection per shard channel, and KeyEvents subscribes on every master.
//
// Not parallel: it counts every channel of the shared cluster, and turns
// key events on.
func TestPubSubBackendsOnCluster(t *testing.T) {
	cl := sharedCluster.Get(t)
	ctx := context.Background()

	admin := cl.Client(t)
	watched := cl.Client(t)
	redistest.ForbidDangerous(t, watched)

	// A subscriber of "news" on every node, shard channels in two slots.
	for _, addr := range cl.Addrs() {
		node := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { _ = node.Close() })
		subscribed(t, node, false, "news")
	}
	shardChannels := []string{"orders:{a}", "orders:{b}"}
	for _, ch := range shardChannels {
		ps := watched.SSubscribe(ctx, ch)
		t.Cleanup(func() { _ = ps.Close() })
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}

	snap := NewChannelsPoller(watched, ChannelsOptions{}).Poll(ctx)
	if snap.Err != nil {
		t.Fatal(snap.Err)
	}
	got := map[string]int64{}
	for _, c := range snap.Channels {
		got[fmt.Sprint(c.Name, c.Shard)] = c.Subscribers
	}
	if got["newsfalse"] != int64(len(cl.Addrs())) || got["orders:{a}true"] != 1 || got["orders:{b}true"] != 1 || len(got) != 3 {
		t.Fatalf("channels %v", snap.Channels)
	}

	tap := subscribedTap(t, watched, TapOptions{Patterns: []string{"news*"}, ShardChannels: shardChannels}, nil)
	for _, ch := range shardChannels {
		if err := watched.SPublish(ctx, ch, "to "+ch).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := watched.Publish(ctx, "news", "classic").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "three messages", func() bool { return tap.Stats().Accounted == 3 })
	var shard int
	for _, m := range tap.Snapshot(TapFilter{}).Messages {
		if m.Shard {
			shard++
		}
	}
	if shard != 2 {
		t.Fatalf("%d shard messages", shard)
	}

	// Key events: enabled on every node (a test's own admin write), then
	// deletions counted whichever master holds the key.
	if cfg, err := EnableKeyEvents(ctx, admin, true); err != nil || !cfg.Enabled() {
		t.Fatalf("enable: %+v %v", cfg, err)
	}
	t.Cleanup(func() {
		_ = admin.ForEachShard(context.Background(), func(ctx context.Context, c *redis.Client) error {
			return c.ConfigSet(ctx, "notify-keyspace-events", "").Err()
		})
	})
	if cfg, err := ReadKeyEventsConfig(ctx, watched); err != nil || !cfg.Enabled() {
		t.Fatalf("read: %+v %v", cfg, err)
	}
	k := NewKeyEvents(watched, KeyEventsOptions{})
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = k.Run(runCtx) })
	defer wg.Wait()
	defer cancel()
	eventually(t, "key events on every master", func() bool {
		k.mu.Lock()
		n := len(k.taps)
		k.mu.Unlock()
		return n == 3 && k.Snapshot().State == TapSubscribed
	})
	for i := 0; i < 30; i++ {
		key := fmt.Sprintf("keyevents:%d", i)
		admin.Set(ctx, key, "v", 0)
		admin.Del(ctx, key)
	}
	eventually(t, "30 deletions", func() bool { return k.Snapshot().Del.Count == 30 })
}
