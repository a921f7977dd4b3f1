package monitor

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestTapReceivesMessagesAndCountsChannels(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tap := subscribedTap(t, s.watched, TapOptions{}, nil)
	ctx := context.Background()
	sent := map[string][2]int{} // channel -> messages, bytes
	for i := 0; i < 30; i++ {
		ch := fmt.Sprintf("orders:%d", i%3)
		payload := strings.Repeat("x", i+1)
		if err := s.admin.Publish(ctx, ch, payload).Err(); err != nil {
			t.Fatal(err)
		}
		c := sent[ch]
		sent[ch] = [2]int{c[0] + 1, c[1] + len(payload)}
	}
	eventually(t, "30 messages", func() bool { return tap.Stats().Accounted == 30 })
	snap := tap.Snapshot(TapFilter{})
	if len(snap.Messages) != 30 || snap.Matched != 30 {
		t.Fatalf("%d messages, matched %d", len(snap.Messages), snap.Matched)
	}
	for i, m := range snap.Messages {
		if m.Seq != uint64(i+1) || m.Pattern != "*" || m.Size != i+1 || m.Payload != strings.Repeat("x", i+1) ||
			m.Channel != fmt.Sprintf("orders:%d", i%3) || m.Time.IsZero() || m.Shard {
			t.Fatalf("message %d: %+v", i, m)
		}
	}
	if len(snap.Channels) != 3 {
		t.Fatalf("channels %+v", snap.Channels)
	}
	for _, c := range snap.Channels {
		want := sent[c.Channel]
		if c.Messages != uint64(want[0]) || c.Bytes != uint64(want[1]) || c.MsgsPerSec <= 0 || c.BytesPerSec <= 0 {
			t.Errorf("channel %+v, sent %v", c, want)
		}
		if len(c.History) != DefaultTapHistory {
			t.Errorf("history of %d points", len(c.History))
		}
		var hist float64
		for _, v := range c.History {
			hist += v
		}
		if hist != float64(want[0]) {
			t.Errorf("%s: history sums to %v, want %d", c.Channel, hist, want[0])
		}
	}
	st := snap.Stats
	if st.Received != 30 || st.Dropped != 0 || st.ReceivedBytes != 465 || st.InRing != 30 || st.State != TapSubscribed {
		t.Fatalf("stats %+v", st)
	}
	if len(snap.Events) != 1 || snap.Events[0].Kind != EventSubscribed || snap.Events[0].Subscription != "PSUBSCRIBE *" {
		t.Fatalf("events %+v", snap.Events)
	}
}

func TestTapShardChannelsNeedSSubscribe(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	tap := subscribedTap(t, s.watched, TapOptions{Patterns: []string{"*"}, ShardChannels: []string{"orders:{1}"}}, nil)
	ctx := context.Background()
	if err := s.admin.SPublish(ctx, "orders:{1}", "sharded").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.admin.SPublish(ctx, "orders:{2}", "not tapped").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.admin.Publish(ctx, "plain", "classic").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "2 messages", func() bool { return tap.Stats().Accounted == 2 })
	time.Sleep(100 * time.Millisecond) // room for a wrong third one
	snap := tap.Snapshot(TapFilter{})
	if len(snap.Messages) != 2 {
		t.Fatalf("messages %+v", snap.Messages)
	}
	var shard, plain *TapMessage
	for i := range snap.Messages {
		if snap.Messages[i].Shard {
			shard = &snap.Messages[i]
		} else {
			plain = &snap.Messages[i]
		}
	}
	if shard == nil || shard.Channel != "orders:{1}" || shard.Payload != "sharded" || shard.Pattern != "" {
		t.Fatalf("shard message %+v", shard)
	}
	if plain == nil || plain.Channel != "plain" || plain.Pattern != "*" {
		t.Fatalf("classic message %+v", plain)
	}
	subs := map[string]bool{}
	for _, e := range snap.Events {
		subs[e.Subscription] = e.Kind == EventSubscribed
	}
	if !subs["PSUBSCRIBE *"] || !subs["SSUBSCRIBE orders:{1}"] {
		t.Fatalf("events %+v", snap.Events)
	}
}

func TestNewTapRejectsBadOptions(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, o := range []TapOptions{
		{Patterns: []string{""}},
		{ShardChannels: []string{""}},
		{ShardChannels: make([]string, MaxShardChannels+1)},
	} {
		if _, err := NewTap(s.watched, o); err == nil {
			t.Errorf("NewTap(%+v) accepted", o)
		}
	}
	if _, err := NewTap(nil, TapOptions{}); err == nil {
		t.Error("NewTap(nil) accepted")
	}
	tap, err := NewTap(s.watched, TapOptions{})
	if err != nil || len(tap.Options().Patterns) != 1 || tap.Options().Patterns[0] != "*" {
		t.Fatalf("default pattern: %v %+v", err, tap.Options())
	}
}
