package monitor

import (
	"math"
	"testing"
	"time"
)

func TestPollerCountsExactlyTheApplicationsCommands(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	app := appClient(t, s.Server)
	clock := newFakeClock()
	p := clockedPoller(s.watched, Options{}, clock)

	first := pollAfter(t, p, clock, 0)
	if !first.Health.Up || first.Rates.Valid {
		t.Fatalf("first tick: up=%v valid=%v err=%q", first.Health.Up, first.Rates.Valid, first.Health.Error)
	}
	if first.Server.Version == "" || first.Server.RunID == "" || first.Health.RTT <= 0 {
		t.Fatalf("first tick: %+v %+v", first.Server, first.Health)
	}

	// Ticks with nothing but the poller itself: zero ops, zero lookups, no
	// calls of any command (the poller's INFO, LATENCY HISTOGRAM, SLOWLOG
	// GET and LATENCY LATEST are all its own).
	detailTicks := 0
	idleTicks := 2*int(DefaultDetailInterval/time.Second) + 1
	for i := 0; i < idleTicks; i++ {
		snap := pollAfter(t, p, clock, time.Second)
		if !snap.Rates.Valid {
			t.Fatalf("tick %d: rates not valid", i)
		}
		if got := opsIn(snap.Rates); math.Round(got) != 0 {
			t.Fatalf("tick %d: idle server shows %.2f ops (own commands counted)", i, got)
		}
		if snap.Rates.HitRateValid {
			t.Fatalf("tick %d: hit rate without lookups", i)
		}
		if snap.DetailAt.Equal(snap.Time) && snap.DetailWindow > 0 {
			detailTicks++
			for _, c := range snap.Commands {
				if c.CallsPerSec != 0 {
					t.Errorf("tick %d: idle server shows %s at %.2f calls/s (own commands counted)", i, c.Name, c.CallsPerSec)
				}
			}
		}
		in, out := snap.Rates.NetInPerSec*snap.Rates.Interval.Seconds(), snap.Rates.NetOutPerSec*snap.Rates.Interval.Seconds()
		t.Logf("idle tick %d: net in %.0f out %.0f bytes", i, in, out)
		if math.Round(in) != 0 || out > 64 {
			t.Errorf("tick %d: idle server shows %.0f bytes in, %.0f out (own traffic counted)", i, in, out)
		}
	}

	if detailTicks != 2 {
		t.Fatalf("%d detail ticks with rates, want 2", detailTicks)
	}

	traffic(t, app, 300, 100)
	snap := pollAfter(t, p, clock, time.Second)
	if got := opsIn(snap.Rates); math.Round(got) != 400 {
		t.Errorf("ops = %.2f, want 400", got)
	}
	if snap.Rates.Hits != 300 || snap.Rates.Misses != 100 || !snap.Rates.HitRateValid || snap.Rates.HitRate != 0.75 {
		t.Errorf("hits=%d misses=%d rate=%v valid=%v", snap.Rates.Hits, snap.Rates.Misses, snap.Rates.HitRate, snap.Rates.HitRateValid)
	}
	// Requests: 300 × "*2\r\n$3\r\nGET\r\n$7\r\npresent\r\n" (26 bytes) and
	// 100 × the same with "absent" (25). Replies (RESP3): 300 × "$1\r\nv\r\n"
	// (7) and 100 × "_\r\n" (3). The poller's own traffic is subtracted.
	if in := snap.Rates.NetInPerSec * snap.Rates.Interval.Seconds(); math.Round(in) != 300*26+100*25 {
		t.Errorf("net in = %.0f bytes, want %d", in, 300*26+100*25)
	}
	if out := snap.Rates.NetOutPerSec * snap.Rates.Interval.Seconds(); math.Abs(out-(300*7+100*3)) > 8 {
		t.Errorf("net out = %.0f bytes, want about %d", out, 300*7+100*3)
	}
	t.Logf("rates %+v", snap.Rates)
}
