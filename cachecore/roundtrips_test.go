package cachecore

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

type gateCall struct {
	id     int
	queued bool
}

func (c *gateCall) queue() { c.queued = true }

func TestRoundTripsQueueAndHandOver(t *testing.T) {
	var mu sync.Mutex
	var sent [][]int
	done := make(chan struct{}, 4)
	r := &roundTrips[*gateCall]{max: 1}
	r.send = func(batch []*gateCall) {
		ids := make([]int, len(batch))
		for i, c := range batch {
			ids[i] = c.id
		}
		mu.Lock()
		sent = append(sent, ids)
		mu.Unlock()
		done <- struct{}{}
	}
	a, b, c := &gateCall{id: 1}, &gateCall{id: 2}, &gateCall{id: 3}
	if !r.enter(a) || a.queued {
		t.Fatal("the first call did not get the free slot")
	}
	if r.enter(b) || !b.queued || r.enter(c) || !c.queued {
		t.Fatal("calls arriving while the slot is taken were not queued")
	}
	if in, p := r.counts(); in != 1 || p != 2 {
		t.Fatalf("in flight %d, pending %d", in, p)
	}
	r.leave()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the queued calls were never sent")
	}
	waitFor(t, "the slot freed", 5*time.Second, func() bool { in, p := r.counts(); return in == 0 && p == 0 })
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 1 || len(sent[0]) != 2 || sent[0][0] != 2 || sent[0][1] != 3 {
		t.Fatalf("batches sent %v, want one of [2 3]", sent)
	}
}

// A read that panics while holding the slot (a client hook's bug, which
// an HTTP server recovers) still frees it: the next read goes straight out
// instead of queueing until its timeout.
func TestReadSlotSurvivesAPanic(t *testing.T) {
	var panicking atomic.Bool
	panicking.Store(true)
	// Nothing listens there: a read that goes out fails at once with a
	// dial error; one that queues behind a lost slot waits for its context.
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	rdb.AddHook(panicHook{&panicking})
	b := newReadBatcher(rdb, false, 1)
	func() {
		defer func() { _ = recover() }()
		_, _ = b.get(context.Background(), "k")
		t.Fatal("the hook did not panic")
	}()
	panicking.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := b.get(ctx, "k")
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the read after a panic: %v; want a dial error (the slot was lost and it queued)", err)
	}
}

type panicHook struct{ on *atomic.Bool }

func (h panicHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h panicHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.on.Load() {
			panic("a hook's bug")
		}
		return next(ctx, cmd)
	}
}
func (h panicHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
