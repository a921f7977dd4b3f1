package monitor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cachescope/cachescope/cachecore"
)

// scriptedApp is an AppPoller whose reads return what the test says, on a
// clock the test moves.
type scriptedApp struct {
	*AppPoller
	clock *settableClock
	next  []cachecore.TelemetryInstance
	err   error
}

func newScriptedApp(opts AppOptions) *scriptedApp {
	s := &scriptedApp{clock: &settableClock{t: time.Unix(1_800_000_000, 0)}}
	s.AppPoller = NewAppPoller(nil, opts)
	s.now = s.clock.now
	s.read = func(context.Context) ([]cachecore.TelemetryInstance, error) { return s.next, s.err }
	return s
}

// after moves the clock by d and polls with these reports.
func (s *scriptedApp) after(d time.Duration, reports ...cachecore.TelemetryInstance) *AppSnapshot {
	s.clock.set(s.clock.now().Add(d))
	s.next = reports
	return s.Poll(context.Background())
}

var epoch = time.Unix(1_800_000_000, 0)

func report(id string, started time.Time, reportedAt time.Duration, ns map[string]cachecore.Counts) cachecore.TelemetryInstance {
	r := cachecore.TelemetryInstance{ID: id, Started: started, Reported: epoch.Add(reportedAt), Interval: 2 * time.Second,
		Namespaces: ns, Limiters: map[string]cachecore.LimiterCounts{}}
	for _, c := range ns {
		r.Total.Hits += c.Hits
		r.Total.Misses += c.Misses
		r.Total.Loads += c.Loads
		r.Total.LoadTime += c.LoadTime
	}
	return r
}

func TestAppPollerRatesOverTheWindow(t *testing.T) {
	t.Parallel()
	s := newScriptedApp(AppOptions{Window: 4 * time.Second})
	s.after(0, report("i", epoch, 0, map[string]cachecore.Counts{"p": {}}))
	s.after(2*time.Second, report("i", epoch, 2*time.Second, map[string]cachecore.Counts{"p": {Hits: 20, Misses: 20, Loads: 4, LoadTime: 40 * time.Millisecond}}))
	// The same report read again changes nothing.
	s.after(time.Second, report("i", epoch, 2*time.Second, map[string]cachecore.Counts{"p": {Hits: 20, Misses: 20, Loads: 4, LoadTime: 40 * time.Millisecond}}))
	snap := s.after(time.Second, report("i", epoch, 4*time.Second, map[string]cachecore.Counts{"p": {Hits: 50, Misses: 30, Loads: 6, LoadTime: 100 * time.Millisecond}}))
	p := namespace(snap.Instances[0].Namespaces, "p")
	// Over the two deltas (4 s): 50 hits, 30 misses, 6 loads in 100 ms.
	if p.HitsPerSec != 12.5 || p.MissesPerSec != 7.5 || p.HitRate != 50.0/80 || p.LoadsPerSec != 1.5 ||
		p.MeanLoadTime != 100*time.Millisecond/6 || !p.MeanLoadValid {
		t.Fatalf("rates %+v", p)
	}
	// A delta older than the window leaves it (the newest always stays).
	snap = s.after(4*time.Second, report("i", epoch, 8*time.Second, map[string]cachecore.Counts{"p": {Hits: 50, Misses: 30, Loads: 6, LoadTime: 100 * time.Millisecond}}))
	p = namespace(snap.Instances[0].Namespaces, "p")
	if p.HitsPerSec != 0 || p.HitRateValid || p.MeanLoadValid || !snap.Instances[0].RatesValid {
		t.Fatalf("quiet window: %+v", p)
	}
	h := namespace(snap.Namespaces, "p").History
	if len(h.HitRate) != 5 || !math.IsNaN(h.HitRate[0]) || h.HitRate[1] != 0.5 || h.HitRate[3] != 50.0/80 || !math.IsNaN(h.HitRate[4]) {
		t.Fatalf("hit-rate history %v", h.HitRate)
	}
}

func TestAppPollerRebaselinesRestarts(t *testing.T) {
	t.Parallel()
	s := newScriptedApp(AppOptions{})
	s.after(0, report("i", epoch, 0, map[string]cachecore.Counts{"p": {Hits: 100}}))
	s.after(2*time.Second, report("i", epoch, 2*time.Second, map[string]cachecore.Counts{"p": {Hits: 200}}))
	// A new process: a new start time, counters from zero.
	snap := s.after(2*time.Second, report("i", epoch.Add(3*time.Second), 4*time.Second, map[string]cachecore.Counts{"p": {Hits: 5}}))
	if i := snap.Instances[0]; i.RatesValid || namespace(i.Namespaces, "p").HitsPerSec != 0 {
		t.Fatalf("across a restart: %+v", i)
	}
	snap = s.after(2*time.Second, report("i", epoch.Add(3*time.Second), 6*time.Second, map[string]cachecore.Counts{"p": {Hits: 25}}))
	if p := namespace(snap.Instances[0].Namespaces, "p"); p.HitsPerSec != 10 {
		t.Fatalf("after the restart: %+v", p)
	}
	// Counters that go down with the same start time: a reset, rebaselined.
	snap = s.after(2*time.Second, report("i", epoch.Add(3*time.Second), 8*time.Second, map[string]cachecore.Counts{"p": {Hits: 3}}))
	if i := snap.Instances[0]; i.RatesValid || namespace(i.Namespaces, "p").HitsPerSec < 0 {
		t.Fatalf("after a reset: %+v", i)
	}
}

func TestAppPollerFadesOutSilentInstances(t *testing.T) {
	t.Parallel()
	s := newScriptedApp(AppOptions{Interval: 2 * time.Second})
	snap := s.after(0)
	if !snap.NoInstances || len(snap.Instances) != 0 || snap.Live != 0 {
		t.Fatalf("empty: %+v", snap)
	}
	s.after(0, report("a", epoch, 0, nil), report("b", epoch, 0, nil))
	// b keeps reporting; a falls silent (its hash gone from the read).
	at := 0 * time.Second
	step := func(d time.Duration) *AppSnapshot {
		at += d
		return s.after(d, report("b", epoch, at, nil))
	}
	// Stale after 1.5 intervals (3 s) plus the poller's interval (2 s).
	if a := instanceByID(step(4*time.Second), "a"); a == nil || a.Stale {
		t.Fatalf("a at 4 s: %+v", a)
	}
	snap = step(2 * time.Second)
	if a := instanceByID(snap, "a"); a == nil || !a.Stale || snap.Live != 1 {
		t.Fatalf("a at 6 s: %+v, live %d", a, snap.Live)
	}
	// Dropped after 3 intervals (6 s) plus 2 s.
	if a := instanceByID(step(2*time.Second), "a"); a == nil {
		t.Fatal("a dropped at 8 s")
	}
	if a := instanceByID(step(2*time.Second), "a"); a != nil {
		t.Fatalf("a still there at 10 s: %+v", a)
	}
	// A failed read ages what is known and says why.
	s.err = errors.New("connection refused")
	snap = s.after(time.Second)
	if snap.Err == nil || snap.Error != "connection refused" || len(snap.Instances) != 1 {
		t.Fatalf("failed read: %+v", snap)
	}
	snap = s.after(10 * time.Second)
	if !snap.NoInstances {
		t.Fatalf("after a long outage: %+v", snap)
	}
}

func TestAppPollerCapsNames(t *testing.T) {
	t.Parallel()
	s := newScriptedApp(AppOptions{MaxNames: 4})
	ns := func(hits int64) map[string]cachecore.Counts {
		m := map[string]cachecore.Counts{}
		for i := 0; i < 10; i++ {
			m[fmt.Sprintf("ns%d", i)] = cachecore.Counts{Hits: hits}
		}
		return m
	}
	s.after(0, report("i", epoch, 0, ns(0)))
	snap := s.after(2*time.Second, report("i", epoch, 2*time.Second, ns(10)))
	var names []string
	for _, n := range snap.Namespaces {
		names = append(names, n.Name)
	}
	if fmt.Sprint(names) != "[ns0 ns1 ns2 other]" {
		t.Fatalf("summed names %v", names)
	}
	if o := snap.Namespaces[3]; o.Counts.Hits != 70 || o.HitsPerSec != 35 || len(o.History.HitsPerSec) != 2 {
		t.Fatalf("other: %+v", o)
	}
	if n := len(snap.Instances[0].Namespaces); n != 4 {
		t.Fatalf("instance lists %d namespaces", n)
	}
}
