package cachecore

import (
	"context"
	"errors"
	"strings"
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

func (c *gateCall) queue()                 { c.queued = true }
func (c *gateCall) fail(error)             {}
func (c *gateCall) ctxOf() context.Context { return context.Background() }

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

// A batch that panics (a pipeline hook's bug) runs on a goroutine of its
// own, which no caller can recover: it answers its reads with an error
// instead of crashing the process, and the slot is handed on.
func TestABatchThatPanicsFailsItsReads(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	rdb.AddHook(blockThenPanicHook{entered: entered, release: release})
	b := newReadBatcher(rdb, false, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	first := make(chan error, 1)
	go func() { _, err := b.get(ctx, "held"); first <- err }()
	<-entered // the first read holds the only slot
	queued := make(chan error, 2)
	for _, k := range []string{"a", "b"} {
		go func() { _, err := b.get(ctx, k); queued <- err }()
	}
	waitFor(t, "two reads queued", 5*time.Second, func() bool { _, p := b.trips.counts(); return p == 2 })
	close(release)
	<-first
	for i := 0; i < 2; i++ {
		if err := <-queued; err == nil || !strings.Contains(err.Error(), "panicked") {
			t.Fatalf("a read of the batch that panicked: %v", err)
		}
	}
	waitFor(t, "the slot freed", 5*time.Second, func() bool { in, p := b.trips.counts(); return in == 0 && p == 0 })
}

// blockThenPanicHook holds single commands until release, and panics on
// every pipeline.
type blockThenPanicHook struct {
	entered chan struct{}
	release chan struct{}
}

func (h blockThenPanicHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h blockThenPanicHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		select {
		case h.entered <- struct{}{}:
		default:
		}
		<-h.release
		return next(ctx, cmd)
	}
}
func (h blockThenPanicHook) ProcessPipelineHook(redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(context.Context, []redis.Cmder) error { panic("a pipeline hook's bug") }
}
