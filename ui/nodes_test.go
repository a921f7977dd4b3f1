package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/cachescope/cachescope/monitor"
)

// headerLine is the Nodes view's line about the deployment as a whole.
func headerLine(t *testing.T, a *App, prefix string) string {
	t.Helper()
	a.show("Nodes")
	for _, l := range strings.Split(stripANSI(render(a)), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			return l
		}
	}
	t.Fatalf("no line starting %q:\n%s", prefix, stripANSI(render(a)))
	return ""
}

// The Nodes view says when slots fail and the cluster state is not ok;
// a healthy cluster shows neither.
func TestNodesHeaderShowsFailingSlots(t *testing.T) {
	a := newTestApp(t, 160, 40)
	a.Update(SnapshotMsg{Snap: fakeClusterSnapshot()})
	healthy := headerLine(t, a, "Cluster state")
	if !strings.Contains(healthy, "Cluster state ok") || strings.Contains(healthy, "failing") {
		t.Errorf("a healthy cluster: %q", healthy)
	}

	s := fakeClusterSnapshot()
	s.Cluster.State, s.Cluster.SlotsOK, s.Cluster.SlotsPFail, s.Cluster.SlotsFail = "fail", 16384-5461-100, 100, 5461
	a.Update(SnapshotMsg{Snap: s})
	failing := headerLine(t, a, "Cluster state")
	for _, want := range []string{"Cluster state fail", "slots 10,823/16,384 served", "5561 failing", "1 down"} {
		if !strings.Contains(failing, want) {
			t.Errorf("failing cluster: %q lacks %q", failing, want)
		}
	}
}

// On a Sentinel-managed master the status bar and the Nodes view name the
// master the client is on.
func TestSentinelMasterIsShown(t *testing.T) {
	a := New(Options{Keys: testKeyMap(), Now: func() time.Time { return testNow }, Location: time.UTC,
		Conn: ConnInfo{Display: "sentinel mymaster", Mode: "sentinel"}})
	a.Update(tea.WindowSizeMsg{Width: 140, Height: 30})
	s := fakeSnapshot(60)
	s.Mode = monitor.ModeSentinel
	s.Sentinel = &monitor.SentinelState{MasterAddr: "10.1.2.3:6380"}
	a.Update(SnapshotMsg{Snap: s})
	lines := strings.Split(stripANSI(render(a)), "\n")
	bar := lines[len(lines)-1]
	if !strings.Contains(bar, "sentinel mymaster") || !strings.Contains(bar, "master 10.1.2.3:6380") {
		t.Errorf("status bar %q does not name the master", bar)
	}
	if h := headerLine(t, a, "Sentinel"); !strings.Contains(h, "Sentinel master 10.1.2.3:6380") {
		t.Errorf("Nodes header %q", h)
	}
}

// A single master's replicas, which its INFO lists, all show as rows
// under it, not only the first.
func TestNodesViewListsASingleMastersReplicas(t *testing.T) {
	a := newTestApp(t, 120, 40)
	s := fakeSnapshot(60)
	s.Replication.Replicas = []monitor.Replica{
		{Addr: "10.0.0.2:6379", State: "online", Offset: 100, Lag: 0},
		{Addr: "10.0.0.3:6379", State: "online", Offset: 90, Lag: 1},
		{Addr: "10.0.0.4:6379", State: "wait_bgsave", Offset: 0, Lag: 0},
	}
	a.Update(SnapshotMsg{Snap: s})
	a.show("Nodes")
	screen := stripANSI(render(a))
	for _, r := range s.Replication.Replicas {
		if !strings.Contains(screen, "└ "+r.Addr) {
			t.Errorf("replica %s not shown:\n%s", r.Addr, screen)
		}
	}
}
