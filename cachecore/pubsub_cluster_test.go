package cachecore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// On Redis Cluster, classic pub/sub is broadcast over the cluster bus: a
// subscription made through the ClusterClient (connected to one node)
// receives what is published on any node.
func TestPubSubOnCluster(t *testing.T) {
	t.Parallel()
	cl := sharedCluster.Get(t)
	c, err := New(Options{Redis: cl.Client(t), Namespace: "pubsubcluster", Logger: quietLogger, OpTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var got, gotPattern inbox[int]
	keepSub(t)(Subscribe(ctx, c, got.handle, "events"))
	keepSub(t)(PSubscribe(ctx, c, gotPattern.handle, "ev*"))

	if _, err := Publish(ctx, c, "events", 0); err != nil {
		t.Fatal(err)
	}
	for i, addr := range cl.Addrs() {
		node := redis.NewClient(&redis.Options{Addr: addr})
		err := node.Publish(ctx, "pubsubcluster:events", i+1).Err()
		_ = node.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []int{0}
	for i := range cl.Addrs() {
		want = append(want, i+1)
	}
	waitFor(t, "a message from every node", 20*time.Second, func() bool {
		return got.len() == len(want) && gotPattern.len() == len(want)
	})
	for _, b := range []*inbox[int]{&got, &gotPattern} {
		channels, msgs := b.snapshot()
		slices.Sort(msgs)
		if !slices.Equal(msgs, want) || channels[0] != "events" {
			t.Fatalf("received %v on %v", msgs, channels)
		}
	}
}
