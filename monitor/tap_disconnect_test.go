package monitor

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// A subscriber that stops reading is disconnected by the server at its
// client-output-buffer-limit. The tap's reader never stops on its own, so
// the test pauses it with a hook; the tap must notice, say why, reconnect,
// subscribe again and go on receiving.
func TestTapReconnectsAfterTheServerDropsIt(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--client-output-buffer-limit", "pubsub 64kb 32kb 1")
	ctx := context.Background()

	var gate sync.Mutex // held: the reader waits before each read
	tap, err := NewTap(s.watched, TapOptions{ReconnectDelay: 50 * 1e6})
	if err != nil {
		t.Fatal(err)
	}
	tap.beforeReceive = func() { gate.Lock(); gate.Unlock() } //nolint:staticcheck // a pause point
	runTap(t, tap, nil)
	eventually(t, "the tap to subscribe", func() bool { return tap.Stats().State == TapSubscribed })

	gate.Lock()
	// Far more than the kernel's socket buffers and the 64 kB limit.
	payload := strings.Repeat("p", 16<<10)
	patterns := func() int64 {
		n, err := s.admin.PubSubNumPat(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	published := 0
	for patterns() > 0 {
		pipe := s.admin.Pipeline()
		for i := 0; i < 256; i++ {
			pipe.Publish(ctx, "flood", payload)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		published += 256
		if published > 1<<16 {
			t.Fatal("the server never disconnected the stalled subscriber")
		}
	}
	t.Logf("the server dropped the subscriber after %d messages of 16 KiB", published)
	gate.Unlock()

	eventually(t, "a disconnect and a new subscription", func() bool {
		st := tap.Stats()
		return st.Disconnects == 1 && st.State == TapSubscribed && patterns() == 1
	})
	if err := s.admin.Publish(ctx, "after", "back").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the message after the reconnect", func() bool {
		return len(tap.Snapshot(TapFilter{Channel: "after"}).Messages) == 1
	})
	snap := tap.Snapshot(TapFilter{})
	var kinds []TapEventKind
	var reason string
	for _, e := range snap.Events {
		kinds = append(kinds, e.Kind)
		if e.Kind == EventDisconnected {
			reason = e.Detail
		}
	}
	if len(kinds) != 3 || kinds[0] != EventSubscribed || kinds[1] != EventDisconnected || kinds[2] != EventSubscribed {
		t.Fatalf("events %v", kinds)
	}
	if !strings.Contains(reason, "client-output-buffer-limit") {
		t.Fatalf("disconnect reason %q", reason)
	}
	if snap.Stats.Received >= uint64(published) {
		t.Fatalf("received %d of %d: the server should have discarded what it held", snap.Stats.Received, published)
	}
	t.Logf("received %d of %d, reason %q", snap.Stats.Received, published, reason)
}
