package cachecore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// batchCounter is a go-redis hook counting the round trips that carried
// more than one read: an MGET of several keys, or a pipeline of several
// GETs.
type batchCounter struct {
	batches, batchedGets atomic.Int64
}

func (h *batchCounter) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *batchCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *batchCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		gets := 0
		for _, c := range cmds {
			switch c.Name() {
			case "get":
				gets++
			case "mget":
				gets += len(c.Args()) - 1
			}
		}
		if gets > 1 {
			h.batches.Add(1)
			h.batchedGets.Add(int64(gets))
		}
		return next(ctx, cmds)
	}
}

func TestConcurrentReadsShareRoundTripsAndCountAsBefore(t *testing.T) {
	t.Parallel()
	// A generous OpTimeout: this test is about answers, and -race on a
	// loaded machine can stall a read for a while.
	c, _, rdb := newRealCache(t, Options{OpTimeout: 30 * time.Second})
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		if err := c.Set(ctx, fmt.Sprintf("k:%d", i), i, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	h := &batchCounter{}
	rdb.AddHook(h)
	const goroutines, reads = 50, 200
	var wg sync.WaitGroup
	var wrong atomic.Int64
	var firstWrong atomic.Value
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < reads; i++ {
				want := (g + i) % 100
				var v int
				if err := c.Get(ctx, fmt.Sprintf("k:%d", want), &v); err != nil || v != want {
					wrong.Add(1)
					firstWrong.CompareAndSwap(nil, fmt.Sprintf("k:%d read %d, %v", want, v, err))
				}
			}
		}()
	}
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Fatalf("%d reads returned a wrong value or an error, first: %v", n, firstWrong.Load())
	}
	if h.batches.Load() == 0 {
		t.Fatal("50 concurrent readers never shared a round trip")
	}
	t.Logf("%d batches carried %d of %d reads", h.batches.Load(), h.batchedGets.Load(), goroutines*reads)
	if s := c.Stats(); s.Hits != goroutines*reads || s.Misses != 0 || s.Errors != 0 {
		t.Errorf("stats %+v, want %d hits", s.Counts, goroutines*reads)
	}
}

func TestASequentialCallerReadsAlone(t *testing.T) {
	t.Parallel()
	c, _, rdb := newRealCache(t, Options{})
	ctx := context.Background()
	_ = c.Set(ctx, "k", 1, time.Hour)
	h := &batchCounter{}
	rdb.AddHook(h)
	cc := countCommands(rdb)
	for i := 0; i < 100; i++ {
		var v int
		if err := c.Get(ctx, "k", &v); err != nil {
			t.Fatal(err)
		}
	}
	if h.batches.Load() != 0 || cc.names["get"] != 100 {
		t.Errorf("a lone caller's reads were batched: %d batches, %v", h.batches.Load(), cc.names)
	}
}

// A read waiting for a batch is bounded by OpTimeout like a direct one:
// with the server frozen, one reader goes direct and the others queue
// behind it, and every one of them gets a deadline error of its own
// context (not the client's 30 s read timeout); errors are counted and the
// breaker opens.
func TestBatchedReadsKeepOpTimeoutAndTheBreaker(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, ContextTimeoutEnabled: true, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	c, err := New(Options{Redis: rdb, OpTimeout: 200 * time.Millisecond, BreakerThreshold: 5, BreakerCooldown: time.Hour, Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = c.Set(ctx, "k", 1, time.Hour)
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Resume() })

	const readers = 20
	errs := make([]error, readers)
	var wg sync.WaitGroup
	for g := 0; g < readers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var v int
			errs[g] = c.Get(ctx, "k", &v)
		}()
	}
	wg.Wait()
	timeouts, open := 0, 0
	for _, err := range errs {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			timeouts++
		case errors.Is(err, ErrCircuitOpen):
			open++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	if timeouts == 0 || timeouts+open != readers {
		t.Errorf("%d timeouts, %d refused by the breaker, of %d readers", timeouts, open, readers)
	}
	st := c.Stats()
	if st.ErrorsByOp["get"] != readers {
		t.Errorf("get errors %d, want %d", st.ErrorsByOp["get"], readers)
	}
	if timeouts >= 5 && st.Breaker.Opens == 0 {
		t.Errorf("breaker never opened after %d timeouts", timeouts)
	}
}
