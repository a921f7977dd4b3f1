package cachecore

import (
	"sync"
	"testing"
	"time"
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

// A call that panics while holding the slot (a client hook's bug, which an
// HTTP server recovers) still frees it: later calls go straight out
// instead of queueing until their timeout.
func TestRoundTripsSlotSurvivesAPanic(t *testing.T) {
	r := &roundTrips[*gateCall]{max: 1, send: func([]*gateCall) {}}
	func() {
		defer func() { _ = recover() }()
		if !r.enter(&gateCall{}) {
			t.Fatal("no slot")
		}
		defer r.leave()
		panic("a hook's bug")
	}()
	if !r.enter(&gateCall{}) {
		t.Fatal("the slot was lost with the panic: the next call queued")
	}
}
