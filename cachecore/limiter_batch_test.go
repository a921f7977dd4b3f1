package cachecore

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// limiterPipelineCounter is a go-redis hook counting pipelines of more
// than one command.
type limiterPipelineCounter struct{ batches atomic.Int64 }

func (h *limiterPipelineCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (h *limiterPipelineCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (h *limiterPipelineCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 1 {
			h.batches.Add(1)
		}
		return next(ctx, cmds)
	}
}

func (b *limiterBatcher) inFlightNow() int {
	n, _ := b.trips.counts()
	return n
}

// Under concurrency calls are batched, and every caller still gets its
// own result: each goroutine has its own key and must see its own count go
// down one by one.
func TestLimiterBatchesDeliverEachCallersResult(t *testing.T) {
	t.Parallel()
	rdb := redistest.Start(t).Client(t)
	hook := &limiterPipelineCounter{}
	rdb.AddHook(hook)
	l := NewLimiter(rdb, LimiterOptions{MaxInFlight: 2})
	limit := Limit{Algorithm: FixedWindow, Rate: 1000, Period: 366 * 24 * time.Hour}
	const goroutines, calls = 40, 30
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("batch:%d", g)
			for i := 0; i < calls; i++ {
				r, err := l.Allow(context.Background(), key, limit)
				if err != nil {
					errs <- err
					return
				}
				if !r.Allowed || r.Remaining != 999-i {
					errs <- fmt.Errorf("%s call %d: %+v, want Remaining %d", key, i, r, 999-i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if hook.batches.Load() == 0 {
		t.Error("40 goroutines over 2 round trips in flight: no pipeline was ever sent")
	}
	if n := l.batch.inFlightNow(); n != 0 {
		t.Errorf("%d round trips still counted in flight after all calls returned", n)
	}
}

// A call that gives up while queued is not run for it later.
func TestLimiterQueuedCallThatGaveUpSpendsNothing(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	l := NewLimiter(srv.Client(t), LimiterOptions{MaxInFlight: 1})
	limit := Limit{Algorithm: FixedWindow, Rate: 100, Period: 366 * 24 * time.Hour}
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := l.Allow(ctx, "gaveup:k", limit)
		first <- err
	}()
	for l.batch.inFlightNow() != 1 {
		time.Sleep(5 * time.Millisecond)
	}
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if _, err := l.Allow(ctx, "gaveup:k", limit); err == nil {
				t.Error("a queued call behind a paused server succeeded")
			}
		}()
	}
	wg.Wait()
	// A patient caller joins the queue, so the batch after the pause has
	// a live deadline and would run the five if it did not drop them.
	patient := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := l.Allow(ctx, "gaveup:k", limit)
		patient <- err
	}()
	for l.batch.pendingNow() != 6 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []chan error{first, patient} {
		if err := <-ch; err != nil {
			t.Fatalf("a caller that waited: %v", err)
		}
	}
	r := limiterAllowN(t, l, "gaveup:k", limit, 0)
	if r.Remaining != 98 {
		t.Errorf("Remaining %d after two admitted calls and five that gave up, want 98", r.Remaining)
	}
}

func (b *limiterBatcher) pendingNow() int {
	_, n := b.trips.counts()
	return n
}
