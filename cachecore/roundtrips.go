package cachecore

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// queueable is a call that can wait in a batch: queue prepares it to wait
// (its done channel), and is called only when it does, so a call that goes
// straight out allocates nothing for it. fail answers it with err unless
// it has its answer already.
type queueable interface {
	queue()
	fail(err error)
	ctxOf() context.Context // the caller's context
}

// liveCalls answers the calls of a batch whose callers have given up (their
// context ended: nothing is spent on them) and returns the others.
func liveCalls[C queueable](batch []C) []C {
	live := make([]C, 0, len(batch))
	for _, c := range batch {
		if err := c.ctxOf().Err(); err != nil {
			c.fail(err)
			continue
		}
		live = append(live, c)
	}
	return live
}

// batchContext bounds a batch by the latest deadline of its calls, so it
// lasts as long as its most patient caller would have waited alone (each
// caller still returns at its own deadline); with a call without a
// deadline, the client's own timeouts bound it. Values of the callers'
// contexts are not carried.
func batchContext[C queueable](calls []C) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, c := range calls {
		d, ok := c.ctxOf().Deadline()
		if !ok {
			return context.WithCancel(context.Background())
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.Background(), latest)
}

// roundTrips bounds the round trips a batcher has outstanding. A call that
// arrives while all of them are out waits; when one comes back, every call
// waiting goes out together as one batch, in the slot it frees. Below the
// bound a call goes alone, at once: batching adds no latency without a
// queue. The read batcher and the limiter's share it.
type roundTrips[C queueable] struct {
	max  int
	send func(batch []C) // sends one batch and answers each of its calls

	mu       sync.Mutex
	inFlight int
	// pending is non-empty only while inFlight == max: a round trip that
	// ends with calls waiting hands its slot to a batch of them.
	pending []C
}

// enter takes a slot for c, or queues c (prepared to wait) when every slot
// is taken. It reports whether c holds a slot: then the caller sends c
// itself and calls leave.
func (r *roundTrips[C]) enter(c C) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inFlight < r.max {
		r.inFlight++
		return true
	}
	c.queue()
	r.pending = append(r.pending, c)
	return false
}

// leave ends a direct round trip and hands its slot to the calls that
// queued meanwhile: a goroutine carries them, living only while there is
// a queue. Deferred by the caller, the slot is handed on even if sending
// panicked (a client hook's bug, recovered by an HTTP server): a lost slot
// would leave every later call queued until its timeout.
func (r *roundTrips[C]) leave() {
	if next := r.release(); next != nil {
		go r.run(next)
	}
}

// release ends a round trip. It returns the calls that waited for it (the
// slot passes to them), or nil after freeing the slot.
func (r *roundTrips[C]) release() []C {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := r.pending
	r.pending = nil
	if len(next) == 0 {
		r.inFlight--
		return nil
	}
	return next
}

// run sends batches until no call waits. A batch that panics (a client
// hook's bug) answers its calls with an error instead of crashing the
// process from a goroutine no caller can recover, and hands the slot on.
func (r *roundTrips[C]) run(batch []C) {
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("cachecore: a batched call panicked: %v", p)
			for _, c := range batch {
				c.fail(err)
			}
			r.leave()
		}
	}()
	for batch != nil {
		r.send(batch)
		batch = r.release()
	}
}

// counts returns the slots taken and the calls waiting, for tests.
func (r *roundTrips[C]) counts() (inFlight, pending int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inFlight, len(r.pending)
}
