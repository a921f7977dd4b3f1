package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/cachescope/cachescope/monitor"
)

// uiFixture drives a dashboard in a test: keys go through Update and the
// commands they return go to exec (synchronously for views without timers,
// asynchronously for those with loops).
type uiFixture struct {
	t    *testing.T
	app  *App
	exec func(tea.Cmd)
}

func (f *uiFixture) press(keys ...string) {
	f.t.Helper()
	for _, k := range keys {
		_, cmd := f.app.Update(keyPress(k))
		f.exec(cmd)
	}
}

func (f *uiFixture) typeText(s string) {
	for _, r := range s {
		_, cmd := f.app.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		f.exec(cmd)
	}
}

func (f *uiFixture) screen() string { return stripANSI(render(f.app)) }

// keysFixture is a dashboard whose Keys view browses a real server.
type keysFixture struct {
	uiFixture
	view  *keysView
	rdb   *redis.Client
	audit string
}

func newKeysFixture(t *testing.T, conn ConnInfo, w, h int) *keysFixture {
	t.Helper()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	redistest.ForbidDangerous(t, rdb)
	dir := t.TempDir()
	audit := filepath.Join(dir, "audit.log")
	actions, err := monitor.NewActions(rdb, monitor.ActionsOptions{Write: conn.Write, Reason: conn.ReadOnlyReason,
		Server: "test", AuditPath: audit, BackupDir: filepath.Join(dir, "backups")})
	if err != nil {
		t.Fatal(err)
	}
	if conn.Display == "" {
		conn.Display = srv.Addr
	}
	a := New(Options{Keys: testKeyMap(), Now: func() time.Time { return testNow }, Location: time.UTC, Conn: conn,
		Keyspace: monitor.NewKeys(rdb, monitor.KeysOptions{PageSize: 50}), Actions: actions})
	a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	f := &keysFixture{uiFixture: uiFixture{t: t, app: a}, rdb: rdb, audit: audit}
	f.exec = f.drive
	for _, p := range a.panes {
		if kv, ok := p.(*keysView); ok {
			f.view = kv
		}
	}
	return f
}

// open shows the Keys view and runs its first scan.
func (f *keysFixture) open() {
	f.t.Helper()
	for i, p := range f.app.panes {
		if p == Pane(f.view) {
			f.drive(f.app.activate(i))
		}
	}
}

// drive runs a command to completion, feeding every message it produces
// back into the dashboard, as the Bubble Tea runtime would.
func (f *keysFixture) drive(cmd tea.Cmd) {
	f.t.Helper()
	if cmd == nil {
		return
	}
	switch m := cmd().(type) {
	case nil, tea.QuitMsg:
	case tea.BatchMsg:
		for _, c := range m {
			f.drive(c)
		}
	default:
		_, next := f.app.Update(m)
		f.drive(next)
	}
}

func (f *keysFixture) set(pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := f.rdb.Set(context.Background(), pairs[i], pairs[i+1], 0).Err(); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *keysFixture) exists(key string) bool {
	return f.rdb.Exists(context.Background(), key).Val() == 1
}

func TestKeysViewBrowsesWithMetadataAndValue(t *testing.T) {
	f := newKeysFixture(t, ConnInfo{Write: true}, 140, 30)
	ctx := context.Background()
	f.set("user:1", `{"name":"ada","roles":["admin"]}`)
	f.rdb.HSet(ctx, "session:abc", "user", "1", "cart", "3")
	f.rdb.Expire(ctx, "session:abc", time.Hour)
	f.open()
	got := f.screen()
	for _, want := range []string{"2 keys · scan complete", "user:1", "session:abc", "hash", "59m", "string"} {
		if !strings.Contains(got, want) {
			t.Errorf("screen lacks %q:\n%s", want, got)
		}
	}
	// The first key's value shows beside the list, JSON pretty-printed.
	f.press("/")
	f.typeText("user:*")
	f.press("enter")
	got = f.screen()
	if !strings.Contains(got, `"name": "ada"`) || strings.Contains(got, "session:abc") {
		t.Fatalf("after filtering user:*:\n%s", got)
	}
}

func TestKeysViewShowsHostileKeysInertAndDeletesThem(t *testing.T) {
	f := newKeysFixture(t, ConnInfo{Write: true}, 140, 30)
	hostile := "evil:\x1b]0;owned\x07\x1b[2J\n\xff"
	f.set(hostile, "\x1b[31mred value")
	f.open()
	out := render(f.app)
	for _, raw := range []string{"\x1b]0;owned", "\x1b[2J", "\x1b[31mred"} {
		if strings.Contains(out, raw) {
			t.Fatalf("raw sequence %q reaches the terminal", raw)
		}
	}
	if got := f.screen(); !strings.Contains(got, `evil:\x1b]0;owned\x07\x1b[2J\n\xff`) || !strings.Contains(got, "binary key") {
		t.Fatalf("hostile key not shown escaped:\n%s", got)
	}
	f.press("d")
	if f.view.dialog == nil {
		t.Fatal("d did not ask for confirmation")
	}
	f.press("y")
	if f.exists(hostile) {
		t.Fatal("the binary key was not deleted")
	}
	entries, _ := os.ReadFile(f.audit)
	if !strings.Contains(string(entries), `"action":"delete"`) {
		t.Fatalf("audit log: %s", entries)
	}
}

func TestKeysViewReadOnlyRefusesEveryWrite(t *testing.T) {
	f := newKeysFixture(t, ConnInfo{Write: false, ReadOnlyReason: "read-only: remote server; restart with --write"}, 120, 30)
	f.set("a:1", "x", "a:2", "y")
	f.open()
	for _, k := range []string{"d", "t", "x", "b"} {
		f.press(k)
		if f.view.dialog != nil {
			t.Fatalf("%s opened a dialog in read-only mode", k)
		}
		if got := f.screen(); !strings.Contains(got, "restart with --write") {
			t.Fatalf("%s did not explain why it does nothing:\n%s", k, got)
		}
	}
	if n := f.rdb.DBSize(context.Background()).Val(); n != 2 {
		t.Fatalf("keys changed in read-only mode: %d", n)
	}
	// Analysis only reads: allowed.
	f.press(":")
	f.typeText("analyze")
	f.press("enter")
	if f.view.report == nil || f.view.report.a.Keys != 2 {
		t.Fatalf("analyze in read-only mode: %+v", f.view.report)
	}
	if got := f.screen(); !strings.Contains(got, "Analysis of every key") || !strings.Contains(got, "a:") {
		t.Fatalf("analysis report:\n%s", got)
	}
}

func TestKeysViewTypedConfirmationOnRemoteServer(t *testing.T) {
	f := newKeysFixture(t, ConnInfo{Write: true, Remote: true}, 120, 30)
	f.set("k", "v")
	f.open()
	f.press("d")
	if f.view.dialog == nil || f.view.dialog.kind != dialogTyped {
		t.Fatal("a deletion on a remote server must ask for a typed confirmation")
	}
	f.press("enter") // nothing typed
	if !f.exists("k") || f.view.dialog == nil {
		t.Fatal("enter alone deleted the key")
	}
	f.typeText("1")
	f.press("enter")
	if f.exists("k") {
		t.Fatal("the typed confirmation did not delete the key")
	}
}

func TestKeysViewInvalidateWithDryRunTypedConfirmAndBackup(t *testing.T) {
	f := newKeysFixture(t, ConnInfo{Write: true}, 140, 40)
	ctx := context.Background()
	p := f.rdb.Pipeline()
	for i := 0; i < 1500; i++ {
		p.Set(ctx, fmt.Sprintf("product:%d", i), i, time.Hour)
	}
	p.Set(ctx, "user:1", "keep", 0)
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	f.open()
	f.press(":")
	f.typeText("invalidate product:*")
	f.press("enter") // the pattern dialog opens prefilled
	f.press("enter") // dry run
	d := f.view.dialog
	if d == nil || d.kind != dialogTyped || !strings.Contains(f.screen(), "1,500 keys match product:*") {
		t.Fatalf("after the dry run (more than 1,000 keys: typed):\n%s", f.screen())
	}
	if n := f.rdb.DBSize(ctx).Val(); n != 1501 {
		t.Fatalf("the dry run deleted keys: %d left", n)
	}
	f.typeText("1500")
	f.press("enter")
	if n := f.rdb.DBSize(ctx).Val(); n != 1 || !f.exists("user:1") {
		t.Fatalf("%d keys left after invalidating product:*", n)
	}
	got := f.screen()
	if !strings.Contains(got, "Deleted 1,500 keys") || !strings.Contains(got, "cachescope restore") {
		t.Fatalf("summary:\n%s", got)
	}
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(f.audit), "backups", "*invalidate*"))
	if len(files) != 1 {
		t.Fatalf("backup files %v", files)
	}
	res, err := f.view.actions.Restore(ctx, files[0])
	if err != nil || res.Restored != 1500 {
		t.Fatalf("restore: %+v %v", res, err)
	}
	if ttl := f.rdb.TTL(ctx, "product:7").Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("restored TTL %v", ttl)
	}
}

func TestKeysViewTreeAndTTL(t *testing.T) {
	f := newKeysFixture(t, ConnInfo{Write: true}, 120, 30)
	f.set("user:1", "a", "user:2", "b", "cart:1", "c")
	f.open()
	f.press("T")
	got := f.screen()
	if !strings.Contains(got, "▸ user:") || !strings.Contains(got, "2 keys") || !strings.Contains(got, "▸ cart:") {
		t.Fatalf("tree mode:\n%s", got)
	}
	f.press("enter") // expand user:
	if got := f.screen(); !strings.Contains(got, "▾ user:") {
		t.Fatalf("expand:\n%s", got)
	}
	f.press("down") // user:1
	f.press("t")
	f.typeText("90s")
	f.press("enter")
	if ttl := f.rdb.TTL(context.Background(), "user:1").Val(); ttl <= 0 || ttl > 90*time.Second {
		t.Fatalf("TTL of user:1 = %v", ttl)
	}
	f.press("t")
	f.typeText("none")
	f.press("enter")
	if ttl := f.rdb.TTL(context.Background(), "user:1").Val(); ttl != -1 {
		t.Fatalf("TTL of user:1 after removing it = %v", ttl)
	}
	f.press("t")
	f.typeText("soon")
	f.press("enter")
	if !strings.Contains(f.screen(), "not a TTL") {
		t.Fatal("a bad TTL was not refused")
	}
}

func TestKeysViewRowCapBoundsMemory(t *testing.T) {
	f := newKeysFixture(t, ConnInfo{Write: true}, 100, 20)
	ctx := context.Background()
	for start := 0; start < maxRows+3000; start += 1000 {
		args := make([]any, 0, 2000)
		for i := start; i < start+1000; i++ {
			args = append(args, fmt.Sprintf("k:%06d", i), "v")
		}
		f.rdb.MSet(ctx, args...)
	}
	f.open()
	for i := 0; i < 400 && !f.view.page.Done; i++ {
		f.press("G")
	}
	if !f.view.page.Done {
		t.Fatal("scrolling to the end never finished the scan")
	}
	if len(f.view.rows) > maxRows || f.view.dropped == 0 || len(f.view.rows)+f.view.dropped != maxRows+3000 {
		t.Fatalf("%d rows held, %d dropped", len(f.view.rows), f.view.dropped)
	}
	if !strings.Contains(f.screen(), "dropped to bound memory") {
		t.Fatal("the dropped rows are not mentioned")
	}
	var inTree int64
	for _, n := range f.view.tree.Root().Children() {
		inTree += n.Count
	}
	if inTree != int64(len(f.view.rows)) {
		t.Fatalf("the namespace tree holds %d keys, the list %d: not bounded by the same cap", inTree, len(f.view.rows))
	}
}

func TestValueViewerPagesABigHash(t *testing.T) {
	f := newKeysFixture(t, ConnInfo{Write: true}, 140, 30)
	ctx := context.Background()
	args := make([]any, 0, 2000)
	for i := 0; i < 1000; i++ {
		args = append(args, fmt.Sprintf("f%04d", i), i)
	}
	f.rdb.HSet(ctx, "big", args...)
	f.open()
	f.press("enter")
	first := f.view.detail.page
	if len(first.Elements) == 0 || len(first.Elements) > 200 || !first.HasNext {
		t.Fatalf("first page: %d elements, next %v", len(first.Elements), first.HasNext)
	}
	f.press("]")
	second := f.view.detail.page
	if second.At == first.At || len(second.Elements) == 0 {
		t.Fatal("] did not read the next page")
	}
	f.press("[")
	if f.view.detail.page.At != first.At {
		t.Fatal("[ did not go back")
	}
	f.press("esc")
	if f.view.focusDetail {
		t.Fatal("esc did not leave the value")
	}
}

func TestWrapPlain(t *testing.T) {
	if got := wrapPlain("abcdefg", 3); strings.Join(got, "|") != "abc|def|g" {
		t.Fatalf("wrapPlain = %q", got)
	}
	if got := wrapPlain("日本語テ", 5); strings.Join(got, "|") != "日本|語テ" {
		t.Fatalf("wide runes: %q", got)
	}
	if got := wrapPlain("short", 10); len(got) != 1 {
		t.Fatalf("%q", got)
	}
	long := strings.Repeat("x", 65536)
	if got := wrapPlain(long, 100); len(got) != 656 || len(got[655]) != 36 {
		t.Fatalf("64 KiB line: %d rows", len(got))
	}
}
