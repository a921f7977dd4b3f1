package monitor

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// tapLoadResult is what one run of tapLoad measured.
type tapLoadResult struct {
	published       int64
	achieved        float64 // published messages per second
	stats           TapStats
	heapBefore      uint64 // HeapInuse after a GC, before the run
	heapPeak        uint64 // highest HeapInuse sampled during the run
	heapAfter       uint64 // HeapInuse after a GC, tap still holding its ring
	snapshotMax     time.Duration
	snapshotP99     time.Duration
	snapshots       int
	maxQueued       int
	slowConsumerMsg uint64
}

// tapLoad publishes rate messages per second (payloads of size bytes, on
// 20 channels, from 4 goroutines with pipelines) for d, while a tap
// follows them and a UI-like consumer takes a snapshot every 100 ms. With
// slowDeliver > 0 the tap's deliver callback sleeps that long per batch, a
// consumer that cannot keep up.
func tapLoad(tb testing.TB, srv *redistest.Server, rate int, d time.Duration, size int, slowDeliver time.Duration) tapLoadResult {
	tb.Helper()
	var res tapLoadResult
	watched := srv.Client(tb)
	redistest.ForbidDangerous(tb, watched)
	tap, err := NewTap(watched, TapOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	var delivered atomic.Uint64
	var deliver func([]TapMessage)
	if slowDeliver > 0 {
		deliver = func(b []TapMessage) {
			delivered.Add(uint64(len(b)))
			time.Sleep(slowDeliver)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.heapBefore = ms.HeapInuse

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var tapWG sync.WaitGroup
	tapWG.Go(func() { _ = tap.Run(ctx, deliver) })
	deadline := time.Now().Add(20 * time.Second)
	for tap.Stats().State != TapSubscribed {
		if time.Now().After(deadline) {
			tb.Fatal("the tap did not subscribe")
		}
		time.Sleep(5 * time.Millisecond)
	}

	// The UI: a snapshot every 100 ms, alternating an unfiltered page and
	// a text filter over the whole ring; memory sampled alongside.
	uiDone := make(chan struct{})
	var frames []time.Duration
	var uiWG sync.WaitGroup
	uiWG.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-uiDone:
				return
			case <-tick.C:
			}
			f := TapFilter{Limit: 100}
			if i%2 == 1 {
				f.Text = "needle"
			}
			start := time.Now()
			tap.Snapshot(f)
			frames = append(frames, time.Since(start))
			res.maxQueued = max(res.maxQueued, len(tap.queue))
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			res.heapPeak = max(res.heapPeak, ms.HeapInuse)
		}
	})

	pub := srv.Client(tb)
	payload := strings.Repeat("m", size)
	const workers = 4
	var published atomic.Int64
	start := time.Now()
	var pubWG sync.WaitGroup
	for w := 0; w < workers; w++ {
		pubWG.Go(func() {
			perWorker := float64(rate) / workers
			sent := 0
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for now := range tick.C {
				elapsed := now.Sub(start)
				if elapsed >= d {
					return
				}
				due := int(perWorker*elapsed.Seconds()) - sent
				for due > 0 {
					n := min(due, 1000)
					pipe := pub.Pipeline()
					for i := 0; i < n; i++ {
						pipe.Publish(ctx, fmt.Sprintf("load:%d", (sent+i)%20), payload)
					}
					if _, err := pipe.Exec(ctx); err != nil {
						tb.Error(err)
						return
					}
					sent += n
					due -= n
					published.Add(int64(n))
				}
			}
		})
	}
	pubWG.Wait()
	res.published = published.Load()
	res.achieved = float64(res.published) / time.Since(start).Seconds()

	// Everything published reaches the tap's socket (nothing is lost on
	// the way unless the server disconnects it); then the queue drains.
	deadline = time.Now().Add(60 * time.Second)
	for {
		st := tap.Stats()
		if st.Received >= uint64(res.published) && st.Accounted+st.Dropped == st.Received || st.Disconnects > 0 {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the tap did not catch up: %+v, published %d", st, res.published)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(uiDone)
	uiWG.Wait()
	res.stats = tap.Stats()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	res.heapAfter = ms.HeapInuse
	cancel()
	tapWG.Wait()
	// After Run returned: the last accounted batch has been delivered.
	res.slowConsumerMsg = delivered.Load()

	res.snapshots = len(frames)
	if len(frames) > 0 {
		slices.Sort(frames)
		res.snapshotMax = frames[len(frames)-1]
		res.snapshotP99 = frames[len(frames)*99/100]
	}
	return res
}

func (r tapLoadResult) String() string {
	return fmt.Sprintf("published %d (%.0f/s achieved), received %d, accounted %d, dropped %d, disconnects %d, "+
		"ring %d msgs / %d B, heap before %.1f MB, peak %.1f MB, after %.1f MB, max queued %d, "+
		"%d snapshots: p99 %v max %v",
		r.published, r.achieved, r.stats.Received, r.stats.Accounted, r.stats.Dropped, r.stats.Disconnects,
		r.stats.InRing, r.stats.RingBytes, mb(r.heapBefore), mb(r.heapPeak), mb(r.heapAfter), r.maxQueued,
		r.snapshots, r.snapshotP99, r.snapshotMax)
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// checkTapLoad asserts what must hold whatever the machine's speed.
func checkTapLoad(t *testing.T, r tapLoadResult) {
	t.Helper()
	st := r.stats
	if st.Disconnects != 0 {
		t.Fatalf("the server disconnected the tap: %v", r)
	}
	// Every message published is received, and each one is either
	// accounted or dropped and counted.
	if st.Received != uint64(r.published) || st.Accounted+st.Dropped != st.Received {
		t.Fatalf("counts do not add up: %v", r)
	}
	if st.InRing > DefaultTapRingSize || st.RingBytes > DefaultTapRingBytes {
		t.Fatalf("ring past its bounds: %v", r)
	}
	// Bounded memory: the ring (10,000 small messages), the queue (4096)
	// and the channel series are a few MB; 64 MB leaves room for the GC's
	// slack and the go-redis buffers, and would catch any growth with the
	// number of messages (500,000 of them here).
	if r.heapPeak > r.heapBefore+64<<20 || r.heapAfter > r.heapBefore+32<<20 {
		t.Fatalf("memory grew: %v", r)
	}
}

// loadServer starts the server of a load test. With the race detector
// the tap's reader runs several times slower than it does in a real build
// and may fall seconds behind 50,000 messages a second, long enough for
// the server's default pubsub output-buffer limit (32 MB) to disconnect
// it; that says nothing about the tap, so under -race the limit is off.
// Without it the defaults apply, as on a user's server.
func loadServer(t *testing.T) *redistest.Server {
	if raceEnabled {
		return redistest.Start(t, "--client-output-buffer-limit", "pubsub 0 0 0")
	}
	return redistest.Start(t)
}

func TestTapUnderFiftyThousandMessagesPerSecond(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s load test; skipped with -short")
	}
	srv := loadServer(t)
	r := tapLoad(t, srv, 50_000, 10*time.Second, 100, 0)
	t.Logf("UI consumer: %v", r)
	checkTapLoad(t, r)
}

func TestTapDropsForASlowConsumerUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test; skipped with -short")
	}
	srv := loadServer(t)
	// A deliver callback that takes 100 ms per batch of at most 256
	// messages cannot follow 50,000 messages a second: the tap must drop,
	// count, and stay bounded, while its socket keeps draining.
	r := tapLoad(t, srv, 50_000, 2*time.Second, 100, 100*time.Millisecond)
	t.Logf("slow consumer: %v, delivered %d", r, r.slowConsumerMsg)
	checkTapLoad(t, r)
	if r.stats.Dropped == 0 {
		t.Fatalf("a consumer of at most 2,560 messages/s kept up with %0.f/s: %v", r.achieved, r)
	}
	if r.slowConsumerMsg != r.stats.Accounted {
		t.Fatalf("delivered %d, accounted %d", r.slowConsumerMsg, r.stats.Accounted)
	}
}

// BenchmarkTapFollow runs the tap against increasing publish rates, 3 s
// each, and reports drops and memory: the highest rate with 0 drops is
// what the tap follows on this machine. Run with -benchtime 1x.
func BenchmarkTapFollow(b *testing.B) {
	srv := redistest.Start(b)
	for _, rate := range []int{25_000, 50_000, 100_000, 150_000, 200_000, 300_000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			for range b.N {
				r := tapLoad(b, srv, rate, 3*time.Second, 100, 0)
				b.ReportMetric(r.achieved, "published/s")
				b.ReportMetric(float64(r.stats.Dropped), "dropped")
				b.ReportMetric(float64(r.stats.Disconnects), "disconnects")
				b.ReportMetric(mb(r.heapPeak-min(r.heapPeak, r.heapBefore)), "peak-heap-MB")
				b.ReportMetric(float64(r.snapshotMax.Microseconds()), "max-snapshot-µs")
				b.Logf("%v", r)
			}
		})
	}
}

// BenchmarkTapSnapshot is the cost of one UI frame's read of a full ring
// (10,000 messages of 100 bytes on 200 channels).
func BenchmarkTapSnapshot(b *testing.B) {
	tap, err := NewTap(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), TapOptions{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	tap.started = now.Add(-time.Minute)
	payload := strings.Repeat("m", 100)
	for i := 0; i < DefaultTapRingSize; i += 100 {
		batch := make([]TapMessage, 100)
		for j := range batch {
			batch[j] = TapMessage{Time: now, Channel: fmt.Sprintf("load:%d", (i+j)%200), Pattern: "*", Payload: payload, Size: 100}
		}
		tap.account(batch)
	}
	for _, f := range []TapFilter{{Limit: 100}, {Text: "needle", Limit: 100}, {Channel: "load:7", Limit: 100}} {
		b.Run(fmt.Sprintf("channel=%q,text=%q", f.Channel, f.Text), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tap.Snapshot(f)
			}
		})
	}
}
