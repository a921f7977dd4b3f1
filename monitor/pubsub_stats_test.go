package monitor

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestSnapshotHasPubSubFigures(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := context.Background()
	sub := s.admin.Subscribe(ctx, "a", "b")
	defer sub.Close()
	psub := s.admin.PSubscribe(ctx, "events:*")
	defer psub.Close()
	ssub := s.admin.SSubscribe(ctx, "shard:{1}")
	defer ssub.Close()
	for _, ps := range []interface {
		Receive(context.Context) (any, error)
	}{sub, sub, psub, ssub} {
		if _, err := ps.Receive(ctx); err != nil { // the confirmation
			t.Fatal(err)
		}
	}

	clock := newFakeClock()
	p := clockedPoller(s.watched, Options{}, clock)
	first := pollAfter(t, p, clock, 0)
	if first.PubSub.Channels != 2 || first.PubSub.Patterns != 1 || !first.PubSub.HasShardChannels || first.PubSub.ShardChannels != 1 {
		t.Fatalf("gauges %+v", first.PubSub)
	}
	if first.PubSub.PublishValid {
		t.Fatalf("publish rates without a window: %+v", first.PubSub)
	}
	if h := first.History.PubSubChannels; len(h) != 1 || h[0] != 2 || first.History.PubSubPatterns[0] != 1 {
		t.Fatalf("history %v %v", h, first.History.PubSubPatterns)
	}

	for i := 0; i < 30; i++ {
		s.admin.Publish(ctx, "a", "x")
	}
	for i := 0; i < 12; i++ {
		s.admin.SPublish(ctx, "shard:{1}", "x")
	}
	// The publish rates come with the next detail tier, ten seconds on.
	var snap *Snapshot
	for i := 0; i < 10; i++ {
		snap = pollAfter(t, p, clock, time.Second)
	}
	ps := snap.PubSub
	if !ps.PublishValid || ps.PublishWindow != 10*time.Second || !ps.PublishAt.Equal(snap.Time) {
		t.Fatalf("publish figures %+v", ps)
	}
	if got := ps.PublishPerSec * ps.PublishWindow.Seconds(); math.Round(got) != 30 || ps.PublishCalls != 30 {
		t.Errorf("PUBLISH: %.2f in the window, %d calls; want 30", got, ps.PublishCalls)
	}
	if got := ps.SPublishPerSec * ps.PublishWindow.Seconds(); math.Round(got) != 12 || ps.SPublishCalls != 12 {
		t.Errorf("SPUBLISH: %.2f in the window, %d calls; want 12", got, ps.SPublishCalls)
	}
	if n := snap.History.Len(); len(snap.History.PubSubChannels) != n || len(snap.History.PubSubPatterns) != n {
		t.Fatalf("history columns of unequal length")
	}
}
