package monitor

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestHealthDownAndRecovery(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	clock := newFakeClock()
	p := clockedPoller(s.watched, Options{}, clock)

	up := pollAfter(t, p, clock, 0)
	pollAfter(t, p, clock, time.Second)
	if !up.Health.Up || len(up.Alerts) != 0 {
		t.Fatalf("start: %+v alerts %v", up.Health, up.Alerts)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	var down *Snapshot
	for i := 0; i < 3; i++ {
		down = pollAfter(t, p, clock, time.Second)
		checkSane(t, "down", down)
		if down.Health.Up {
			t.Fatalf("tick %d after stop: still up", i)
		}
	}
	h := down.Health
	if h.Reason != "connection refused" || !strings.Contains(h.Error, "connection refused") || h.Err == nil || h.Failures != 3 {
		t.Errorf("down health = %+v", h)
	}
	if h.LastUp.IsZero() || !h.Since.After(h.LastUp) {
		t.Errorf("down since %v, last up %v", h.Since, h.LastUp)
	}
	if len(down.Alerts) != 1 || down.Alerts[0].ID != AlertDown || down.Alerts[0].Level != Critical {
		t.Errorf("down alerts = %+v", down.Alerts)
	}
	if down.Server.Version == "" {
		t.Error("down snapshot lost the last known server info")
	}
	if down.Rates.Valid {
		t.Error("down snapshot has rates")
	}
	// The gap shows in the history.
	if n := down.History.Len(); n != 5 || !isNaN(down.History.OpsPerSec[n-1]) || !isNaN(down.History.UsedMemory[n-1]) {
		t.Errorf("history after outage: len %d, last ops %v", n, down.History.OpsPerSec)
	}

	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	back := pollAfter(t, p, clock, time.Second)
	if !back.Health.Up || back.Health.Failures != 0 || back.Health.Error != "" || back.Rates.Valid {
		t.Fatalf("recovered: health %+v, rates valid %v", back.Health, back.Rates.Valid)
	}
	if !back.Health.Since.Equal(back.Time) {
		t.Errorf("up since %v, want %v", back.Health.Since, back.Time)
	}
	next := pollAfter(t, p, clock, time.Second)
	if !next.Rates.Valid {
		t.Error("no rates the tick after recovery")
	}
	checkSane(t, "after recovery", next)
}

func TestHealthReportsTimeoutWhenServerHangs(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p := NewPoller(s.watched, Options{Timeout: 300 * time.Millisecond})
	if snap := p.Poll(context.Background()); !snap.Health.Up {
		t.Fatal(snap.Health.Error)
	}
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	hung := p.Poll(context.Background())
	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	if hung.Health.Up || hung.Health.Reason != "timeout" {
		t.Fatalf("hung server: %+v", hung.Health)
	}
	// go-redis drops the connection that timed out; the poller recovers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		snap := p.Poll(context.Background())
		if snap.Health.Up {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after resume: %+v", snap.Health)
		}
	}
}

func TestHealthReportsAuthErrorsAsRedisSaysThem(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := context.Background()
	// The admin connection stays authenticated after the password is set.
	for _, cmd := range [][]any{
		{"acl", "setuser", "noinfo", "on", ">pw", "+@all", "-info"},
		{"acl", "setuser", "default", ">sekret"},
	} {
		if err := s.admin.Do(ctx, cmd...).Err(); err != nil {
			t.Fatal(err)
		}
	}

	for _, c := range []struct {
		name, user, pass, reason string
	}{
		{"no password", "", "", "NOAUTH"},
		{"wrong password", "", "nope", "WRONGPASS"},
		{"no INFO permission", "noinfo", "pw", "NOPERM"},
	} {
		client := guardedClient(t, withPassword(s.Options(), c.user, c.pass))
		snap := NewPoller(client, Options{}).Poll(ctx)
		if snap.Health.Up || snap.Health.Reason != c.reason || !strings.HasPrefix(snap.Health.Error, c.reason+" ") {
			t.Errorf("%s: health %+v", c.name, snap.Health)
		}
		if len(snap.Alerts) != 1 || snap.Alerts[0].ID != AlertDown || !strings.Contains(snap.Alerts[0].Message, c.reason) {
			t.Errorf("%s: alerts %+v", c.name, snap.Alerts)
		}
	}
}

func TestRefusedCommandMarksOnlyItsPanel(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := context.Background()
	if err := s.admin.Do(ctx, "acl", "setuser", "ro", "on", ">pw", "+@all", "-slowlog").Err(); err != nil {
		t.Fatal(err)
	}
	ro := guardedClient(t, withPassword(s.Options(), "ro", "pw"))
	app := appClient(t, s.Server)
	clock := newFakeClock()
	p := clockedPoller(ro, Options{}, clock)

	first := pollAfter(t, p, clock, 0)
	if !first.Health.Up {
		t.Fatalf("ro user: %+v", first.Health)
	}
	reason, ok := first.Unavailable[PanelSlowlog]
	if !ok || !strings.HasPrefix(reason, "NOPERM") {
		t.Fatalf("slowlog panel: %q, %v (unavailable: %v)", reason, ok, first.Unavailable)
	}
	if len(first.Unavailable) != 1 {
		t.Errorf("other panels marked unavailable: %v", first.Unavailable)
	}
	if len(first.Commands) == 0 || first.SlowlogAt.IsZero() {
		t.Errorf("commands %d, slowlog at %v", len(first.Commands), first.SlowlogAt)
	}

	// The refusals are the poller's own errors: not the application's.
	traffic(t, app, 10, 0)
	var last *Snapshot
	for i := 0; i < 6; i++ {
		last = pollAfter(t, p, clock, 5*time.Second) // detail every tick
		if last.Rates.ErrorsPerSec != 0 {
			t.Errorf("tick %d: %.2f errors/s from the poller's own refused commands", i, last.Rates.ErrorsPerSec)
		}
	}
	if _, ok := last.Unavailable[PanelSlowlog]; !ok {
		t.Error("slowlog panel became available")
	}
	for _, e := range last.Errors {
		if e.PerSec != 0 {
			t.Errorf("error stat %+v counts the poller's refusals", e)
		}
	}
	// Refused once, asked again only after refusedRetry: one NOPERM in the
	// server's own count, not one per tier.
	es := ParseInfo(s.admin.Info(ctx, "errorstats").Val()).ErrorStats()
	if es["NOPERM"] != 1 {
		t.Errorf("server counted %d NOPERM replies, want 1 (retried too often)", es["NOPERM"])
	}
	retried := pollAfter(t, p, clock, refusedRetry)
	if _, ok := retried.Unavailable[PanelSlowlog]; !ok {
		t.Error("retry after refusedRetry: slowlog available")
	}
	if es := ParseInfo(s.admin.Info(ctx, "errorstats").Val()).ErrorStats(); es["NOPERM"] != 2 {
		t.Errorf("after refusedRetry the server counted %d NOPERM replies, want 2", es["NOPERM"])
	}
}

func isNaN(f float64) bool { return f != f }
