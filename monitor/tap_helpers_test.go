package monitor

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runTap starts tap.Run until the test ends; deliver may be nil.
func runTap(t *testing.T, tap *Tap, deliver func([]TapMessage)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = tap.Run(ctx, deliver) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// subscribedTap starts a tap and waits until the server confirmed its
// subscriptions.
func subscribedTap(t *testing.T, rdb redis.UniversalClient, opts TapOptions, deliver func([]TapMessage)) *Tap {
	t.Helper()
	tap, err := NewTap(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	runTap(t, tap, deliver)
	eventually(t, "the tap to subscribe", func() bool { return tap.Stats().State == TapSubscribed })
	return tap
}

// settableClock is a clock a test moves by hand.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *settableClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// offlineTap is a tap that never runs, for tests that feed account
// directly; its clock is at 1,800,000,000 s.
func offlineTap(t *testing.T, opts TapOptions) (*Tap, *settableClock) {
	t.Helper()
	tap, err := NewTap(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), opts)
	if err != nil {
		t.Fatal(err)
	}
	clock := &settableClock{t: time.Unix(1_800_000_000, 0)}
	tap.now = clock.now
	tap.started = clock.now()
	return tap, clock
}

// msg is a message as a reader would hand it over.
func msg(at time.Time, channel, payload string) TapMessage {
	return TapMessage{Time: at, Channel: channel, Pattern: "*", Payload: payload, Size: len(payload)}
}
