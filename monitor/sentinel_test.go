package monitor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// The poller follows a failover client: it knows the master's address,
// notices the switch (a failover event and alert), and rebaselines on the
// new master without a negative rate.
func TestPollerFollowsSentinelFailover(t *testing.T) {
	t.Parallel()
	g := redistest.StartSentinel(t, redistest.SentinelConfig{})
	rdb := redis.NewFailoverClient(g.FailoverOptions())
	t.Cleanup(func() { _ = rdb.Close() })
	redistest.ForbidDangerous(t, rdb)
	old := g.Servers[0]

	clock := newFakeClock()
	p := clockedPoller(rdb, Options{Addr: "sentinel mymaster"}, clock)
	pollAfter(t, p, clock, 0)
	snap := pollAfter(t, p, clock, time.Second)
	if !snap.Health.Up || !snap.Rates.Valid || snap.Mode != ModeSentinel {
		t.Fatalf("through sentinel: mode %q %+v", snap.Mode, snap.Health)
	}
	if snap.Server.Port != int64(old.Port) || snap.Replication.Role != "master" {
		t.Fatalf("polled port %d role %q, want the master on %d", snap.Server.Port, snap.Replication.Role, old.Port)
	}
	if snap.Sentinel == nil || snap.Sentinel.MasterAddr != old.Addr || len(snap.Nodes) != 1 || snap.Nodes[0].Addr != old.Addr {
		t.Fatalf("master address: %+v nodes %+v", snap.Sentinel, snap.Nodes)
	}
	if snap.Addr != "sentinel mymaster" || len(snap.Events) != 0 {
		t.Fatalf("addr %q events %v", snap.Addr, snap.Events)
	}

	promoted, err := g.Failover(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// "Within seconds": the sentinels announce +switch-master at once, and
	// the client follows it; 10s leaves a loaded machine room.
	var switched *Snapshot
	start := time.Now()
	deadline := start.Add(10 * time.Second)
	for switched == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the poller did not follow the failover to %s within 10s", promoted)
		}
		s := pollAfter(t, p, clock, time.Second)
		checkSane(t, "during the failover", s)
		if s.Sentinel != nil && s.Sentinel.MasterAddr == promoted {
			switched = s
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the poller was on the new master %v after the sentinels promoted it", time.Since(start).Round(time.Millisecond))
	if switched.Rates.Valid {
		t.Errorf("rates %+v on the new master's first tick: a new run_id must rebaseline", switched.Rates)
	}
	st := switched.Sentinel
	if st.PreviousMaster != old.Addr || st.Failovers != 1 || st.FailoverAt.IsZero() {
		t.Errorf("sentinel state %+v", st)
	}
	if n := len(switched.Events); n == 0 || switched.Events[n-1].Kind != TopologyFailover ||
		!strings.Contains(switched.Events[n-1].Message, old.Addr+" to "+promoted) {
		t.Errorf("events %+v", switched.Events)
	}
	if !hasAlert(switched, AlertFailover) {
		t.Errorf("no failover alert: %v", switched.Alerts)
	}
	after := pollAfter(t, p, clock, time.Second)
	checkSane(t, "after the failover", after)
	if !after.Rates.Valid || after.Server.Port != int64(g.Server(promoted).Port) {
		t.Errorf("after the failover: valid %v port %d", after.Rates.Valid, after.Server.Port)
	}
	if r := NewReport(after); r.Mode != ModeSentinel || r.MasterAddr != promoted || len(r.Events) == 0 {
		t.Errorf("report: mode %q master %q events %v", r.Mode, r.MasterAddr, r.Events)
	}
	// The alert lasts the alert window, then goes.
	clock.advance(DefaultAlertWindow)
	if later := p.Poll(context.Background()); hasAlert(later, AlertFailover) {
		t.Errorf("failover alert still active after the window: %v", later.Alerts)
	}
}
