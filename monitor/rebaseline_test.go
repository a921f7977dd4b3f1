package monitor

import (
	"context"
	"math"
	"testing"
)

// checkSane fails on any negative or non-finite rate.
func checkSane(t *testing.T, label string, s *Snapshot) {
	t.Helper()
	r := s.Rates
	for name, v := range map[string]float64{
		"ops": r.OpsPerSec, "hits": r.HitsPerSec, "misses": r.MissesPerSec, "evicted": r.EvictedPerSec,
		"expired": r.ExpiredPerSec, "net in": r.NetInPerSec, "net out": r.NetOutPerSec, "cpu": r.CPUPercent,
		"errors": r.ErrorsPerSec, "connections": r.ConnectionsPerSec,
	} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("%s: %s rate = %v", label, name, v)
		}
	}
	for _, c := range s.Commands {
		if c.CallsPerSec < 0 || c.MeanUsec < 0 || c.RejectedPerSec < 0 || c.FailedPerSec < 0 {
			t.Errorf("%s: command %+v", label, c)
		}
	}
	for _, e := range s.Errors {
		if e.PerSec < 0 {
			t.Errorf("%s: error stat %+v", label, e)
		}
	}
}

func TestRatesAcrossRestart(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	app := appClient(t, s.Server)
	clock := newFakeClock()
	p := clockedPoller(s.watched, Options{}, clock)

	pollAfter(t, p, clock, 0)
	// A lot of traffic first, so the counters are far above where a fresh
	// process starts.
	traffic(t, app, 20000, 5000)
	before := pollAfter(t, p, clock, DefaultDetailInterval) // a detail tick too
	if math.Round(opsIn(before.Rates)) != 25000 || len(before.Commands) == 0 {
		t.Fatalf("before restart: ops %.0f, %d commands", opsIn(before.Rates), len(before.Commands))
	}
	oldRunID := before.Server.RunID

	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := app.Set(context.Background(), "present", "v", 0).Err(); err != nil {
		t.Fatal(err) // reconnects the application's client before the baseline
	}
	traffic(t, app, 1, 0)

	restarted := pollAfter(t, p, clock, DefaultDetailInterval)
	checkSane(t, "restart tick", restarted)
	if !restarted.Health.Up || restarted.Server.RunID == oldRunID {
		t.Fatalf("restart tick: up=%v run_id %q (was %q) err=%q", restarted.Health.Up, restarted.Server.RunID, oldRunID, restarted.Health.Error)
	}
	if restarted.Rates.Valid {
		t.Errorf("restart tick has rates %+v; a new run_id must rebaseline", restarted.Rates)
	}
	if restarted.DetailWindow != 0 {
		t.Errorf("commands have a %v window across a restart", restarted.DetailWindow)
	}

	traffic(t, app, 70, 30)
	after := pollAfter(t, p, clock, DefaultDetailInterval)
	checkSane(t, "after restart", after)
	if !after.Rates.Valid || math.Round(opsIn(after.Rates)) != 100 || after.Rates.Hits != 70 || after.Rates.Misses != 30 {
		t.Errorf("after restart: valid=%v ops=%.1f hits=%d misses=%d", after.Rates.Valid, opsIn(after.Rates), after.Rates.Hits, after.Rates.Misses)
	}
	get := findCommand(after, "get")
	if get == nil || math.Round(get.CallsPerSec*after.DetailWindow.Seconds()) != 100 {
		t.Errorf("after restart: get = %+v over %v, want 100 calls", get, after.DetailWindow)
	}
}

func TestRatesAcrossResetstat(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	app := appClient(t, s.Server)
	clock := newFakeClock()
	p := clockedPoller(s.watched, Options{}, clock)
	ctx := context.Background()

	pollAfter(t, p, clock, 0)
	traffic(t, app, 20000, 5000)
	before := pollAfter(t, p, clock, DefaultDetailInterval)
	if math.Round(opsIn(before.Rates)) != 25000 {
		t.Fatalf("before reset: %.0f ops", opsIn(before.Rates))
	}
	if err := s.admin.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	traffic(t, app, 10, 10)
	reset := pollAfter(t, p, clock, DefaultDetailInterval)
	checkSane(t, "reset tick", reset)
	if reset.Rates.Valid {
		t.Errorf("reset tick has rates %+v; counters going down must rebaseline", reset.Rates)
	}
	if reset.DetailWindow != 0 {
		t.Errorf("commands have a %v window across a reset", reset.DetailWindow)
	}

	traffic(t, app, 40, 10)
	after := pollAfter(t, p, clock, DefaultDetailInterval)
	checkSane(t, "after reset", after)
	if !after.Rates.Valid || math.Round(opsIn(after.Rates)) != 50 || after.Rates.Hits != 40 || after.Rates.Misses != 10 {
		t.Errorf("after reset: valid=%v ops=%.1f hits=%d misses=%d", after.Rates.Valid, opsIn(after.Rates), after.Rates.Hits, after.Rates.Misses)
	}
	get := findCommand(after, "get")
	if get == nil || math.Round(get.CallsPerSec*after.DetailWindow.Seconds()) != 50 {
		t.Errorf("after reset: get = %+v over %v, want 50 calls", get, after.DetailWindow)
	}
	if info := findCommand(after, "info"); info == nil || info.CallsPerSec != 0 {
		t.Errorf("the poller's own INFO calls are counted: %+v", info)
	}
}

func findCommand(s *Snapshot, name string) *CommandStat {
	for i := range s.Commands {
		if s.Commands[i].Name == name {
			return &s.Commands[i]
		}
	}
	return nil
}
