package monitor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
	"github.com/cachescope/cachescope/internal/redistest"
)

var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// patientTimeout is the client timeouts of the fault tests that hang a
// server: far longer than any bound they assert, so only the library's own
// Timeout or OpTimeout can end a call to a hung server in time, not the
// client's ReadTimeout (3s by default) falling back in its place.
const patientTimeout = 30 * time.Second

// patientOptions are s's client options with patientTimeout for dialing,
// reading and writing (context deadlines stay honoured).
func patientOptions(s *redistest.Server) *redis.Options {
	o := s.Options()
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = patientTimeout, patientTimeout, patientTimeout
	return o
}

// patientClient is a client of s with patientOptions, closed at cleanup.
func patientClient(t *testing.T, s *redistest.Server) *redis.Client {
	t.Helper()
	c := redis.NewClient(patientOptions(s))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// A hung server (SIGSTOP: connections stay open, nothing answers) while
// cachecore and the poller both use it: every cache call returns the
// loader's value within a bound, the breaker opens, the poller reports
// DOWN with "timeout" after its own Timeout; SIGCONT recovers both. The
// clients wait patientTimeout, so a cache or poller that did not bound its
// calls by its own timeout would hang far past the bounds asserted.
func TestFaultHungServer(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	cache, err := cachecore.New(cachecore.Options{Redis: patientClient(t, s.Server), Namespace: "hung", Logger: quietLogger,
		OpTimeout: 100 * time.Millisecond, BreakerThreshold: 3, BreakerCooldown: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	watched := patientClient(t, s.Server)
	redistest.ForbidDangerous(t, watched)
	p := NewPoller(watched, Options{Timeout: 300 * time.Millisecond})
	ctx := context.Background()
	load := func(i int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { return i, nil }
	}
	if v, err := cachecore.GetOrSet(ctx, cache, "k", 0, load(1)); err != nil || v != 1 {
		t.Fatal(v, err)
	}
	if snap := p.Poll(ctx); !snap.Health.Up {
		t.Fatal(snap.Health.Error)
	}

	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = s.Resume()
		}
	}()
	for i := 0; i < 6; i++ {
		start := time.Now()
		v, err := cachecore.GetOrSet(ctx, cache, fmt.Sprintf("k%d", i), 0, load(i))
		if err != nil || v != i {
			t.Fatalf("GetOrSet with Redis hung = %v, %v", v, err)
		}
		// Far above its budget (a few OpTimeouts), far below
		// patientTimeout: this catches a call bounded by anything but
		// OpTimeout, not slowness.
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("GetOrSet took %v with Redis hung: not bounded by OpTimeout", d)
		}
	}
	if st := cache.Stats().Breaker; st.State != cachecore.BreakerOpen {
		t.Fatalf("breaker with Redis hung: %+v", st)
	}
	start := time.Now()
	hung := p.Poll(ctx)
	// Far above Timeout, far below patientTimeout.
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a poll took %v with Redis hung: the tick is not bounded by Options.Timeout", d)
	}
	if hung.Health.Up || hung.Health.Reason != "timeout" || len(hung.Alerts) != 1 || hung.Alerts[0].ID != AlertDown {
		t.Fatalf("hung server: %+v alerts %v", hung.Health, hung.Alerts)
	}

	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	eventually(t, "the poller to see the server again", func() bool { return p.Poll(ctx).Health.Up })
	eventually(t, "the breaker to close", func() bool {
		_, _ = cachecore.GetOrSet(ctx, cache, "probe", 0, load(7))
		return cache.Stats().Breaker.State == cachecore.BreakerClosed
	})
}

// A server killed (SIGKILL, as a crash) and started again while the
// poller, the pub/sub tap and a cachecore subscription use it: the poller
// rebaselines without a negative rate, the tap and the subscription
// subscribe again and receive what is published after.
func TestFaultServerKilledAndRestarted(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := context.Background()
	clock := newFakeClock()
	p := clockedPoller(s.watched, Options{}, clock)
	tap := subscribedTap(t, s.watched, TapOptions{Patterns: []string{"crash:*"}, ReconnectDelay: 50 * time.Millisecond}, nil)
	cache, err := cachecore.New(cachecore.Options{Redis: s.Client(t), Namespace: "crash", Logger: quietLogger, OpTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	sub, err := cachecore.Subscribe(ctx, cache, func(_ string, msg string) {
		mu.Lock()
		got = append(got, msg)
		mu.Unlock()
	}, "events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })

	app := appClient(t, s.Server)
	pollAfter(t, p, clock, 0)
	traffic(t, app, 5000, 5000)
	before := pollAfter(t, p, clock, time.Second)
	if !before.Rates.Valid || before.Rates.Hits != 5000 {
		t.Fatalf("before the crash: %+v", before.Rates)
	}

	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	down := pollAfter(t, p, clock, time.Second)
	checkSane(t, "down", down)
	if down.Health.Up {
		t.Fatal("up after SIGKILL")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	var back *Snapshot
	eventually(t, "the poller to see the restarted server", func() bool {
		back = pollAfter(t, p, clock, time.Second)
		return back.Health.Up
	})
	checkSane(t, "restarted", back)
	if back.Rates.Valid || back.Server.RunID == before.Server.RunID {
		t.Errorf("restarted: rates valid %v, run_id %q (was %q)", back.Rates.Valid, back.Server.RunID, before.Server.RunID)
	}
	if n := len(back.Events); n == 0 || back.Events[n-1].Kind != TopologyRestart {
		t.Errorf("no restart event: %+v", back.Events)
	}
	next := pollAfter(t, p, clock, time.Second)
	checkSane(t, "after the restart", next)
	if !next.Rates.Valid {
		t.Error("no rates the tick after the restart")
	}

	eventually(t, "the tap and the subscription to subscribe again", func() bool {
		st := tap.Stats()
		return st.Disconnects >= 1 && st.State == TapSubscribed && sub.Stats().Reconnects >= 1
	})
	var published atomic.Bool
	eventually(t, "messages after the restart", func() bool {
		// go-redis may still hold a connection to the dead process: retry.
		if !published.Load() {
			ok1 := s.admin.Publish(ctx, "crash:after", "tap").Err() == nil
			_, err := cachecore.Publish(ctx, cache, "events", "cache")
			published.Store(ok1 && err == nil)
		}
		mu.Lock()
		n := len(got)
		mu.Unlock()
		return n == 1 && len(tap.Snapshot(TapFilter{Channel: "crash:after"}).Messages) == 1
	})
}
