package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/cachescope/cachescope/monitor"
)

// liveFixture runs the dashboard's commands the way the Bubble Tea runtime
// does (each in a goroutine, results fed back to Update one at a time), for
// views with background loops (the tap, the pollers), for as long as asked.
type liveFixture struct {
	uiFixture
	rdb     *redis.Client // the server, for the test's own commands
	audit   string
	results chan tea.Msg
	pending int
}

func newLiveFixture(t *testing.T, write bool, args ...string) *liveFixture {
	t.Helper()
	srv := redistest.Start(t, args...)
	watched := srv.Client(t)
	redistest.ForbidDangerous(t, watched)
	// The writer has no guard: enabling key events is the one CONFIG SET
	// the dashboard may send, as an explicit user action.
	writer := srv.Client(t)
	audit := filepath.Join(t.TempDir(), "audit.log")
	actions, err := monitor.NewActions(writer, monitor.ActionsOptions{Write: write, Reason: "read-only: remote; use --write",
		Server: "test", AuditPath: audit})
	if err != nil {
		t.Fatal(err)
	}
	a := New(Options{Keys: testKeyMap(), Now: time.Now, Location: time.UTC, Redis: watched, Actions: actions,
		Conn: ConnInfo{Display: srv.Addr, Write: write, ReadOnlyReason: "read-only: remote; use --write"}})
	a.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
	f := &liveFixture{uiFixture: uiFixture{t: t, app: a}, rdb: srv.Client(t), audit: audit, results: make(chan tea.Msg, 4096)}
	f.exec = f.start
	t.Cleanup(a.Close)
	return f
}

func (f *liveFixture) start(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	f.pending++
	go func() { f.results <- cmd() }()
}

// run feeds results back until cond holds (checked after each message) or
// d passes; it reports whether cond held.
func (f *liveFixture) run(d time.Duration, cond func() bool) bool {
	deadline := time.After(d)
	for {
		if cond != nil && cond() {
			return true
		}
		select {
		case m := <-f.results:
			f.pending--
			switch mm := m.(type) {
			case nil, tea.QuitMsg:
			case tea.BatchMsg:
				for _, c := range mm {
					f.start(c)
				}
			default:
				_, next := f.app.Update(m)
				f.start(next)
			}
		case <-deadline:
			return cond != nil && cond()
		}
	}
}

func (f *liveFixture) waitScreen(what string, d time.Duration) string {
	f.t.Helper()
	ok := f.run(d, func() bool { return strings.Contains(f.screen(), what) })
	if !ok {
		f.t.Fatalf("screen never showed %q:\n%s", what, f.screen())
	}
	return f.screen()
}

func (f *liveFixture) showView(title string) {
	f.start(f.app.show(title))
}

func TestPubSubViewTapShowsMessagesInert(t *testing.T) {
	f := newLiveFixture(t, true)
	f.showView("Pub/Sub")
	f.waitScreen("Live tap  off", 5*time.Second)
	f.press("s")
	f.waitScreen("subscribed", 5*time.Second)
	ctx := context.Background()
	f.rdb.Publish(ctx, "orders", `{"id":7,"total":19.5}`)
	f.rdb.Publish(ctx, "evil\x1b[2J", "pay\x1b]0;owned\x07load")
	got := f.waitScreen("orders", 5*time.Second)
	f.waitScreen(`evil\x1b[2J`, 5*time.Second)
	if raw := render(f.app); strings.Contains(raw, "\x1b[2J") || strings.Contains(raw, "\x1b]0;owned") {
		t.Fatal("a channel name or payload reached the terminal raw")
	}
	if !strings.Contains(f.screen(), `pay\x1b]0;owned\x07load`) {
		t.Fatalf("hostile payload not shown escaped:\n%s", got)
	}
	// The newest message is on top; enter shows the other one pretty.
	f.press("down", "enter")
	f.waitScreen(`"total": 19.5`, 2*time.Second)
	f.press("esc")

	// Filter, pause, clear.
	f.press("/")
	f.typeText("orders")
	f.press("enter")
	f.run(time.Second, func() bool { return !strings.Contains(f.screen(), `pay\x1b`) })
	if strings.Contains(f.screen(), `pay\x1b`) {
		t.Fatal("the filter kept a message without the text")
	}
	f.press("space")
	f.waitScreen("PAUSED", 2*time.Second)
	f.rdb.Publish(ctx, "orders", `{"id":8}`)
	f.run(time.Second, nil)
	if strings.Contains(f.screen(), `{"id":8}`) {
		t.Fatal("a paused stream took a new message")
	}
	f.press("space", "c")
	f.run(time.Second, func() bool { return !strings.Contains(f.screen(), "orders ") })
	f.press("s")
	f.waitScreen("Live tap  off", 2*time.Second)
}

func TestPubSubViewPublishAndReadOnly(t *testing.T) {
	f := newLiveFixture(t, true)
	sub := f.rdb.Subscribe(context.Background(), "news")
	defer sub.Close()
	if _, err := sub.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.showView("Pub/Sub")
	f.waitScreen("Channels", 5*time.Second)
	f.press("p")
	f.typeText("news hello world")
	f.press("enter")
	f.waitScreen("published to news: 1 subscriber", 5*time.Second)
	msg, err := sub.ReceiveMessage(context.Background())
	if err != nil || msg.Payload != "hello world" {
		t.Fatalf("subscriber got %v, %v", msg, err)
	}
	audit, _ := os.ReadFile(f.audit)
	if !strings.Contains(string(audit), `"action":"publish"`) {
		t.Fatalf("publish not audited: %s", audit)
	}

	ro := newLiveFixture(t, false)
	ro.showView("Pub/Sub")
	ro.press("p")
	ro.waitScreen("use --write", 2*time.Second)
	ro.press("E")
	ro.waitScreen("use --write", 2*time.Second)
	if ro.app.activePane().(*pubsubView).dialog != nil {
		t.Fatal("a write dialog opened in read-only mode")
	}
}

func TestPubSubViewEnablesAndFollowsKeyEvents(t *testing.T) {
	f := newLiveFixture(t, true)
	f.showView("Pub/Sub")
	f.waitScreen(`notify-keyspace-events ""`, 5*time.Second)
	f.press("E")
	f.waitScreen("enable key events", 2*time.Second)
	f.press("y")
	f.waitScreen("key events on", 5*time.Second)
	flags := f.rdb.ConfigGet(context.Background(), "notify-keyspace-events").Val()["notify-keyspace-events"]
	for _, c := range "Exeg" {
		if !strings.ContainsRune(flags, c) {
			t.Fatalf("notify-keyspace-events = %q lacks %c", flags, c)
		}
	}
	f.waitScreen("expired", 5*time.Second)
	subscribed := f.run(5*time.Second, func() bool {
		v := f.app.activePane().(*pubsubView)
		return v.kevSnap != nil && v.kevSnap.State == monitor.TapSubscribed
	})
	if !subscribed {
		t.Fatal("the key event subscription never came up")
	}
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		f.rdb.Set(ctx, "k", "v", 0)
		f.rdb.Del(ctx, "k")
	}
	ok := f.run(5*time.Second, func() bool {
		v := f.app.activePane().(*pubsubView)
		return v.kevSnap != nil && v.kevSnap.Del.Count == 20
	})
	if !ok {
		t.Fatalf("del events not counted:\n%s", f.screen())
	}
	audit, _ := os.ReadFile(f.audit)
	if !strings.Contains(string(audit), `"action":"enable_key_events"`) {
		t.Fatalf("enabling key events not audited: %s", audit)
	}
}

func TestAppViewShowsTelemetry(t *testing.T) {
	f := newLiveFixture(t, true)
	f.showView("App")
	f.waitScreen("No application reports telemetry", 5*time.Second)
	f.waitScreen("Telemetry: 5 * time.Second})", time.Second)

	c, err := cachecore.New(cachecore.Options{Redis: f.rdb, Telemetry: 100 * time.Millisecond, InstanceID: "api-7"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	lim := cachecore.NewLimiter(f.rdb, cachecore.LimiterOptions{})
	c.ReportLimiter(lim)
	ctx := context.Background()
	stop := time.Now().Add(6 * time.Second)
	go func() {
		var v int
		_ = c.Set(ctx, "product:1", 1, 0)
		for time.Now().Before(stop) {
			_ = c.Get(ctx, "product:1", &v)
			_ = c.Get(ctx, "product:miss", &v)
			_, _ = lim.Allow(ctx, "login:bob", cachecore.Limit{Algorithm: cachecore.FixedWindow, Rate: 1, Period: time.Minute})
			time.Sleep(5 * time.Millisecond)
		}
	}()
	f.waitScreen("api-7", 10*time.Second)
	got := f.waitScreen("50.0%", 10*time.Second) // product: one hit, one miss
	for _, want := range []string{"product", "login", "closed", "instances 1 live of 1"} {
		if !strings.Contains(got, want) {
			t.Errorf("App view lacks %q:\n%s", want, got)
		}
	}
}
