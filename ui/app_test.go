package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/cachescope/cachescope/monitor"
)

func TestGoldenViews(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		a := newTestApp(t, size.w, size.h)
		a.Update(SnapshotMsg{Snap: fakeSnapshot(900)})
		name := func(view string) string { return view + "-" + itoa(size.w) + "x" + itoa(size.h) }

		overview := render(a)
		assertFits(t, overview, size.w, size.h)
		golden(t, name("overview"), overview)

		a.show("Slowlog")
		slowlog := render(a)
		assertFits(t, slowlog, size.w, size.h)
		golden(t, name("slowlog"), slowlog)

		a.Update(SnapshotMsg{Snap: fakeClusterSnapshot()})
		a.show("Nodes")
		nodes := render(a)
		assertFits(t, nodes, size.w, size.h)
		golden(t, name("nodes"), nodes)
	}
}

func TestViewsFitEverySize(t *testing.T) {
	snap := fakeSnapshot(300)
	down := *snap
	down.Health = monitor.Health{Up: false, Error: "dial tcp 127.0.0.1:6379: connect: connection refused", Reason: "connection refused"}
	for _, s := range []*monitor.Snapshot{snap, &down} {
		for w := 20; w <= 200; w += 23 {
			for h := 5; h <= 60; h += 11 {
				a := newTestApp(t, w, h)
				a.Update(SnapshotMsg{Snap: s})
				for v := range a.panes {
					a.active = v
					assertFits(t, render(a), w, h)
				}
				a.help = true
				assertFits(t, render(a), w, h)
			}
		}
	}
}

func TestConnectingAndDown(t *testing.T) {
	a := newTestApp(t, 100, 30)
	if got := stripANSI(render(a)); !strings.Contains(got, "Connecting to 127.0.0.1:6379") || !strings.Contains(got, "○ connecting") {
		t.Fatalf("before the first snapshot:\n%s", got)
	}
	snap := fakeSnapshot(60)
	snap.Health = monitor.Health{Up: false, Error: "dial tcp 127.0.0.1:6379: connect: connection refused",
		Reason: "connection refused", Since: testNow.Add(-12e9), LastUp: testNow.Add(-13e9)}
	a.Update(SnapshotMsg{Snap: snap})
	got := stripANSI(render(a))
	for _, want := range []string{"● DOWN for 12s", "connect: connection refused", "cachescope demo", "DOWN connection refused"} {
		if !strings.Contains(got, want) {
			t.Errorf("down view lacks %q:\n%s", want, got)
		}
	}
}

func TestServerTextIsShownInert(t *testing.T) {
	a := newTestApp(t, 160, 40)
	snap := fakeSnapshot(10)
	snap.Health.Error = ""
	snap.Alerts = []monitor.Alert{{Level: monitor.Warn, Message: "bad \x1b]0;owned\x07 title"}}
	snap.Memory.Policy = "lru\x1b[2J"
	a.Update(SnapshotMsg{Snap: snap})
	for _, view := range []string{"1", "3"} {
		press(a, view)
		out := render(a)
		for _, raw := range []string{"\x1b[31mkey", "\x1b]0;owned", "\x1b[2J", "\a"} {
			if strings.Contains(out, raw) {
				t.Errorf("view %s writes the raw sequence %q to the terminal", view, raw)
			}
		}
		plain := stripANSI(out)
		if view == "3" && !strings.Contains(plain, `evil\x1b[31mkey`) {
			t.Errorf("hostile slowlog argument not shown escaped:\n%s", plain)
		}
		if view == "1" && !strings.Contains(plain, `\x1b]0;owned\x07`) {
			t.Errorf("hostile alert not shown escaped:\n%s", plain)
		}
	}
}

func TestNavigationKeys(t *testing.T) {
	a := newTestApp(t, 100, 30)
	if a.activePane().Title() != "Overview" {
		t.Fatal("does not start on the Overview")
	}
	press(a, "tab")
	if a.activePane().Title() != "Nodes" {
		t.Fatal("tab did not move to the next view")
	}
	press(a, "tab")
	press(a, "tab")
	if a.activePane().Title() != "Overview" {
		t.Fatal("tab did not wrap around")
	}
	press(a, "shift+tab")
	if a.activePane().Title() != "Slowlog" {
		t.Fatal("shift+tab did not go back")
	}
	press(a, "1")
	if a.active != 0 {
		t.Fatal("1 did not select the first view")
	}
	press(a, "9") // no ninth view: ignored
	if a.active != 0 {
		t.Fatal("9 changed the view")
	}
	press(a, "?")
	if !a.help || !strings.Contains(stripANSI(render(a)), "press ? or esc to close") {
		t.Fatal("? did not open the help overlay")
	}
	press(a, "2") // keys do not leak through the overlay
	if a.active != 0 || !a.help {
		t.Fatal("a key leaked through the help overlay")
	}
	press(a, "esc")
	if a.help {
		t.Fatal("esc did not close the help")
	}
	if cmd := press(a, "q"); !isQuit(cmd) {
		t.Fatal("q did not quit")
	}
}

func TestCommandLine(t *testing.T) {
	a := newTestApp(t, 100, 30)
	press(a, ":")
	if !a.cmdline.input.active {
		t.Fatal(": did not open the command line")
	}
	typeText(a, "slow")
	if got := stripANSI(render(a)); !strings.Contains(got, ":slow") {
		t.Fatalf("typed text not shown:\n%s", got)
	}
	if cmd := press(a, "q"); isQuit(cmd) { // q is text here, not quit
		t.Fatal("q quit from inside the command line")
	}
	press(a, "ctrl+c")
	// ctrl+c always quits; reopen and run a real command.
	a = newTestApp(t, 100, 30)
	press(a, ":")
	typeText(a, "slowlog")
	runCmd(a, press(a, "enter"))
	if a.cmdline.input.active || a.activePane().Title() != "Slowlog" {
		t.Fatalf(":slowlog did not switch views (active %q)", a.activePane().Title())
	}
	press(a, ":")
	typeText(a, "ov") // a unique prefix is enough
	runCmd(a, press(a, "enter"))
	if a.activePane().Title() != "Overview" {
		t.Fatal(":ov did not switch to the Overview")
	}
	press(a, ":")
	typeText(a, "bogus")
	runCmd(a, press(a, "enter"))
	if !strings.Contains(stripANSI(render(a)), "unknown command :bogus") {
		t.Fatalf("unknown command not reported:\n%s", stripANSI(render(a)))
	}
	press(a, ":")
	typeText(a, "q")
	runCmd(a, press(a, "esc"))
	if a.cmdline.input.active {
		t.Fatal("esc did not close the command line")
	}
	press(a, ":")
	typeText(a, "quit")
	if cmd := press(a, "enter"); cmd == nil || !isQuit(a.runCommand("quit")) {
		t.Fatal(":quit does not quit")
	}
}

func TestCtrlCQuitsFromAnywhere(t *testing.T) {
	a := newTestApp(t, 100, 30)
	press(a, ":")
	if !isQuit(press(a, "ctrl+c")) {
		t.Fatal("ctrl+c did not quit from the command line")
	}
	press(a, "esc")
	press(a, "?")
	if !isQuit(press(a, "ctrl+c")) {
		t.Fatal("ctrl+c did not quit from the help overlay")
	}
}

func TestBackgroundColorPicksStyles(t *testing.T) {
	a := newTestApp(t, 80, 24)
	if !a.ctx.Styles.isDark {
		t.Fatal("default styles should assume a dark terminal")
	}
	a.Update(tea.BackgroundColorMsg{Color: lightColor{}})
	if a.ctx.Styles.isDark {
		t.Fatal("a light background did not switch to light styles")
	}
}

func TestSnapshotChannelAndStaleTicks(t *testing.T) {
	ch := make(chan *monitor.Snapshot, 1)
	snap := fakeSnapshot(3)
	ch <- snap
	msg := waitSnapshot(ch)()
	if m, ok := msg.(SnapshotMsg); !ok || m.Snap != snap {
		t.Fatalf("waitSnapshot returned %#v", msg)
	}
	close(ch)
	if msg := waitSnapshot(ch)(); msg != nil {
		t.Fatalf("closed channel gave %#v", msg)
	}
	if waitSnapshot(nil) != nil {
		t.Fatal("nil channel should give no command")
	}
	a := newTestApp(t, 80, 24)
	if _, cmd := a.Update(ageTickMsg{tag: a.ageTag + 1}); cmd != nil {
		t.Fatal("a stale age tick re-armed the loop")
	}
	if _, cmd := a.Update(ageTickMsg{tag: a.ageTag}); cmd == nil {
		t.Fatal("the current age tick did not re-arm")
	}
}

// lightColor is a white background.
type lightColor struct{}

func (lightColor) RGBA() (r, g, b, a uint32) { return 0xffff, 0xffff, 0xffff, 0xffff }

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func itoa(n int) string { return groupThousands(int64(n)) }

func TestPanelsTheServerDoesNotReport(t *testing.T) {
	a := New(Options{Keys: testKeyMap(), Now: func() time.Time { return testNow }, Location: time.UTC,
		Conn: ConnInfo{Display: "127.0.0.1:1 (embedded demo)", Write: true, Embedded: true}})
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	snap := fakeSnapshot(30)
	// What the embedded server's INFO has: clients and a few stats.
	snap.Info = monitor.ParseInfo("# Clients\r\nconnected_clients:3\r\n# Stats\r\ntotal_connections_received:9\r\ntotal_commands_processed:1234\r\n")
	a.Update(SnapshotMsg{Snap: snap})
	got := stripANSI(render(a))
	if n := strings.Count(got, "not reported by the embedded server"); n != 4 {
		t.Fatalf("%d boxes say not reported, want 4 (hit rate, memory, evictions, network):\n%s", n, got)
	}
	if !strings.Contains(got, "ops/s 1,234") || !strings.Contains(got, "keys per database not reported") {
		t.Fatalf("reported panels missing:\n%s", got)
	}
	if strings.Contains(got, "uptime") {
		t.Fatal("uptime shown although the server does not report it")
	}
}

// TestRedisViewsFitEverySize renders the Keys, Pub/Sub and App views,
// full of data, at many sizes: no line may be wider than the terminal and
// no view taller.
func TestRedisViewsFitEverySize(t *testing.T) {
	for w := 30; w <= 200; w += 34 {
		for h := 8; h <= 60; h += 13 {
			a := newTestApp(t, w, h)
			a.Update(SnapshotMsg{Snap: fakeSnapshot(100)})
			a.panes = append(a.panes, benchKeysView(a.ctx), benchPubSubView(a.ctx), benchAppView(a.ctx))
			a.resize()
			for i := range a.panes {
				a.active = i
				assertFits(t, render(a), w, h)
			}
		}
	}
}

func TestFailoverShowsInTheStatusBar(t *testing.T) {
	a := newTestApp(t, 140, 30)
	before := fakeClusterSnapshot()
	before.Events = before.Events[:0]
	a.Update(SnapshotMsg{Snap: before})
	after := fakeClusterSnapshot()
	_, cmd := a.Update(SnapshotMsg{Snap: after})
	runCmd(a, cmd)
	got := stripANSI(render(a))
	if !strings.Contains(got, "failover: 127.0.0.1:7001 replaced 127.0.0.1:7004") {
		t.Fatalf("no failover in the status bar:\n%s", got)
	}
	if !strings.Contains(got, "6 nodes (1 down)") {
		t.Fatalf("the status bar does not count the nodes:\n%s", got)
	}
}
