package ui

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cachescope/cachescope/monitor"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// testNow is the fixed clock of the view tests.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// testKeyMap binds the keys the tests press. The real defaults live in
// keymap.go at the module root.
func testKeyMap() KeyMap {
	k := func(keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(keys[0], "help for "+keys[0]))
	}
	return KeyMap{
		Quit: k("q"), Help: k("?"), NextView: k("tab"), PrevView: k("shift+tab"),
		GotoView: k("1", "2", "3", "4", "5", "6", "7", "8", "9"), Command: k(":"), Back: k("esc"),
		Up: k("up", "k"), Down: k("down", "j"), PageUp: k("pgup"), PageDown: k("pgdown"),
		Top: k("g"), Bottom: k("G"), Left: k("left"), Right: k("right"), Enter: k("enter"),
		Filter: k("/"), Delete: k("d"), SetTTL: k("t"), Invalidate: k("x"), Bump: k("b"), Mark: k("space"),
		Tree: k("T"), Reload: k("r"), NextValue: k("]"), PrevValue: k("["),
		Tap: k("s"), Pause: k("space"), Clear: k("c"), Publish: k("p"), KeyEvents: k("E"),
	}
}

func newTestApp(t testing.TB, w, h int) *App {
	t.Helper()
	a := New(Options{Keys: testKeyMap(), Now: func() time.Time { return testNow }, Location: time.UTC,
		Conn: ConnInfo{Display: "127.0.0.1:6379", Mode: "standalone", Write: true}})
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return a
}

// press sends one key press through Update and runs the returned command
// if it produces a message the root handles itself (commands, flashes).
func press(a *App, k string) tea.Cmd {
	msg := keyPress(k)
	_, cmd := a.Update(msg)
	return cmd
}

func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

// typeText sends each rune as a key press.
func typeText(a *App, s string) {
	for _, r := range s {
		a.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// runCmd executes a command and feeds its message back, one level deep
// (enough for the root's own messages).
func runCmd(a *App, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	msg := cmd()
	if batch, ok := msg.(tea.BatchMsg); ok {
		for _, c := range batch {
			runCmd(a, c)
		}
		return
	}
	switch msg.(type) {
	case runCommandMsg, flashMsg, switchViewMsg:
		_, next := a.Update(msg)
		runCmd(a, next)
	}
}

func render(a *App) string { return a.View().Content }

// golden compares the ANSI-stripped view with testdata/name.golden.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = stripANSI(got)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run go test ./ui -update after checking the change):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// fakeSnapshot builds a realistic snapshot with n points of history, a
// few alerts, slowlog entries (one with a hostile argument) and command
// statistics. Everything is derived from n, so it is deterministic.
func fakeSnapshot(n int) *monitor.Snapshot {
	h := monitor.History{}
	for i := 0; i < n; i++ {
		t := testNow.Add(time.Duration(i-n+1) * time.Second)
		x := float64(i)
		h.Times = append(h.Times, t)
		h.OpsPerSec = append(h.OpsPerSec, 1200+400*math.Sin(x/30))
		h.HitRate = append(h.HitRate, 0.92+0.05*math.Sin(x/50))
		h.HitsPerSec = append(h.HitsPerSec, 900+100*math.Sin(x/30))
		h.MissesPerSec = append(h.MissesPerSec, 80+20*math.Cos(x/30))
		h.UsedMemory = append(h.UsedMemory, float64(300<<20)+float64(i)*(100<<10))
		h.MaxMemory = append(h.MaxMemory, float64(1<<30))
		h.EvictedPerSec = append(h.EvictedPerSec, math.Max(0, 5*math.Sin(x/10)))
		h.ExpiredPerSec = append(h.ExpiredPerSec, 20+10*math.Cos(x/15))
		h.Clients = append(h.Clients, 40+float64(i%7))
		h.BlockedClients = append(h.BlockedClients, float64(i%3))
		h.NetInPerSec = append(h.NetInPerSec, 2e6+5e5*math.Sin(x/20))
		h.NetOutPerSec = append(h.NetOutPerSec, 6e6+1e6*math.Cos(x/20))
		h.CPUPercent = append(h.CPUPercent, 12)
		h.Keys = append(h.Keys, 300000)
		h.RTTMillis = append(h.RTTMillis, 0.3)
	}
	if n > 40 { // an outage in the middle: a gap in every chart
		for i := n / 2; i < n/2+5; i++ {
			h.OpsPerSec[i], h.HitRate[i], h.UsedMemory[i] = math.NaN(), math.NaN(), math.NaN()
		}
	}
	return &monitor.Snapshot{
		Addr: "127.0.0.1:6379", Time: testNow, Seq: uint64(n),
		Health: monitor.Health{Up: true, Since: testNow.Add(-time.Hour), LastUp: testNow.Add(-300 * time.Millisecond),
			RTT: 310 * time.Microsecond, RTTMin: 180 * time.Microsecond, RTTAvg: 290 * time.Microsecond, RTTMax: 1900 * time.Microsecond},
		Server:  monitor.ServerInfo{Version: "7.0.15", Mode: "standalone", RunID: "abc", Uptime: 76 * time.Hour},
		Clients: monitor.ClientsInfo{Connected: 43, Blocked: 1},
		Memory: monitor.MemoryInfo{Used: 390 << 20, RSS: 420 << 20, Max: 1 << 30, Policy: "allkeys-lru",
			FragmentationRatio: 1.08},
		Replication: monitor.ReplicationInfo{Role: "master"},
		Keyspace:    []monitor.KeyspaceDB{{DB: 0, Keys: 300123, Expires: 250000}, {DB: 2, Keys: 42, Expires: 0}},
		Keys:        300165,
		Rates: monitor.Rates{Valid: true, Interval: time.Second, OpsPerSec: 1234, HitsPerSec: 930, MissesPerSec: 70,
			HitRate: 0.93, HitRateValid: true, EvictedPerSec: 2, ExpiredPerSec: 25, NetInPerSec: 2.1e6, NetOutPerSec: 6.3e6,
			CPUPercent: 12.5},
		Commands: []monitor.CommandStat{
			{Name: "get", Calls: 9_000_000, CallsPerSec: 930, MeanUsec: 2.1, Latency: &monitor.Percentiles{P50: 1, P99: 12}},
			{Name: "set", Calls: 700_000, CallsPerSec: 70, MeanUsec: 4.4, Latency: &monitor.Percentiles{P50: 3, P99: 40}},
			{Name: "unlink", Calls: 1_000, CallsPerSec: 0.5, MeanUsec: 30},
		},
		DetailAt: testNow, DetailWindow: 5 * time.Second,
		Slowlog: []monitor.SlowlogEntry{
			{ID: 12, Time: testNow.Add(-5 * time.Second), Duration: 17 * time.Millisecond, Args: []string{"smembers", "tags:all"},
				ClientAddr: "127.0.0.1:50312", ClientName: "api"},
			{ID: 11, Time: testNow.Add(-40 * time.Second), Duration: 4 * time.Millisecond,
				Args: []string{"set", "evil\x1b[31mkey", "value with spaces"}, ClientAddr: "10.0.0.7:41000"},
		},
		SlowlogAt:     testNow.Add(-10 * time.Second),
		LatencyEvents: []monitor.LatencyEvent{{Name: "command", Time: testNow.Add(-5 * time.Second), Latest: 17 * time.Millisecond, Max: 40 * time.Millisecond}},
		Unavailable:   map[monitor.Panel]string{},
		Alerts: []monitor.Alert{
			{ID: monitor.AlertMemory, Level: monitor.Critical, Message: "memory at 92% of maxmemory"},
			{ID: monitor.AlertHitRate, Level: monitor.Warn, Message: "hit rate 85.0% over the last 1m (below 90%)"},
		},
		History: h,
	}
}

// assertFits checks that no line of the view is wider than the terminal.
func assertFits(t *testing.T, view string, width, height int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) > height {
		t.Errorf("view has %d lines for a height of %d", len(lines), height)
	}
	for i, l := range lines {
		if w := cellWidth(stripANSI(l)); w > width {
			t.Errorf("line %d is %d cells wide (terminal %d): %q", i, w, width, stripANSI(l))
		}
	}
}

// fakeClusterSnapshot is fakeSnapshot on a 3-master cluster whose node
// 127.0.0.1:7004 (a replica) is down, after a failover.
func fakeClusterSnapshot() *monitor.Snapshot {
	s := fakeSnapshot(60)
	s.Mode = monitor.ModeCluster
	s.Cluster = &monitor.ClusterState{State: "ok", SlotsAssigned: 16384, SlotsOK: 16384, KnownNodes: 6, Size: 3,
		CurrentEpoch: 7, Masters: 3, Replicas: 3, NodesDown: 1, TopologySource: "CLUSTER SHARDS"}
	ranges := []monitor.SlotRange{{Start: 0, End: 5460}, {Start: 5461, End: 10922}, {Start: 10923, End: 16383}}
	for i, r := range ranges {
		m := monitor.NodeStatus{ID: fmt.Sprint("m", i), Addr: fmt.Sprintf("127.0.0.1:700%d", i), Role: "master",
			Slots: []monitor.SlotRange{r}, SlotCount: r.Len(), Up: true, Health: "online", RatesValid: true,
			OpsPerSec: float64(1000 * (i + 1)), HitRate: 0.9, HitRateValid: true, UsedMemory: 100 << 20, MaxMemory: 1 << 30,
			Clients: 10, Hottest: i == 2}
		rep := monitor.NodeStatus{ID: fmt.Sprint("r", i), Addr: fmt.Sprintf("127.0.0.1:700%d", i+3), Role: "replica",
			MasterID: m.ID, Up: i != 1, Health: "online", LinkStatus: "up", RatesValid: true, OpsPerSec: 5,
			UsedMemory: 99 << 20, Clients: 1, LagKnown: true, LagBytes: 120, LagSeconds: 0}
		if i == 1 {
			rep.Error, rep.Reason, rep.Health = "dial tcp 127.0.0.1:7004: connect: connection refused", "connection refused", "pfail"
		}
		s.Nodes = append(s.Nodes, m, rep)
	}
	s.Events = []monitor.TopologyEvent{
		{Time: testNow.Add(-90 * time.Second), Kind: monitor.TopologyFailover, Node: "127.0.0.1:7001",
			Message: "failover: 127.0.0.1:7001 replaced 127.0.0.1:7004 as master of slots 5461-10922"},
		{Time: testNow.Add(-30 * time.Second), Kind: monitor.TopologyNodeDown, Node: "127.0.0.1:7004", Message: "127.0.0.1:7004 is down: connection refused"},
	}
	s.Alerts = append([]monitor.Alert{{ID: monitor.AlertNodeDown, Level: monitor.Critical, Message: "1 node down: 127.0.0.1:7004"}}, s.Alerts...)
	return s
}
