package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/cachescope/cachescope/internal/tmuxtest"
)

// buildBinary builds cachescope once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cachescope")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var liveOps = regexp.MustCompile(`ops/s [1-9][0-9,.]*k?`)

// TestEndToEndDashboard runs the real binary in tmux against a real
// redis-server: live numbers appear, stopping the server shows DOWN,
// restarting it recovers, and q quits cleanly.
func TestEndToEndDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	srv := redistest.Start(t)
	bin := buildBinary(t)
	rdb := srv.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // traffic, so the numbers move
		for ctx.Err() == nil {
			rdb.Set(ctx, "k", "v", 0)
			rdb.Get(ctx, "k")
			rdb.Get(ctx, "absent")
			time.Sleep(time.Millisecond)
		}
	}()

	// Anything written to stderr would scribble over the screen.
	stderr := filepath.Join(t.TempDir(), "stderr")
	tm := tmuxtest.Start(t, 120, 40, bin+" --url redis://"+srv.Addr+" --refresh 250ms 2>"+stderr)
	tm.WaitText("● UP", 15*time.Second)
	tm.WaitFor("live ops/s", 15*time.Second, liveOps.MatchString)
	tm.WaitText("hit rate", time.Second)
	if _, ok := firstColor(tm.ScreenANSI()); !ok {
		t.Fatal("no colors on a color terminal: the NO_COLOR check below would prove nothing")
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	tm.WaitText("● DOWN", 15*time.Second)
	tm.WaitText("connection refused", 5*time.Second)

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	tm.WaitText("● UP", 15*time.Second)
	tm.WaitFor("live ops/s after the restart", 15*time.Second, liveOps.MatchString)

	tm.Send(":")
	tm.Type("slowlog")
	tm.Send("Enter")
	tm.WaitText("Commands", 5*time.Second)
	tm.Send("q")
	tm.WaitExit(10 * time.Second)
	if b, err := os.ReadFile(stderr); err != nil || len(b) > 0 {
		t.Fatalf("the dashboard wrote to stderr (%v): %q", err, b)
	}
}

// TestEndToEndStartsWithServerDown: the dashboard opens although the server
// is not there yet, says why and suggests the demo, then connects by itself
// when the server appears. With NO_COLOR set it draws no colors.
func TestEndToEndStartsWithServerDown(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	srv := redistest.Start(t)
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	tm := tmuxtest.Start(t, 80, 24, "NO_COLOR=1 "+bin+" --url redis://"+srv.Addr+" --refresh 250ms")
	tm.WaitText("● DOWN", 15*time.Second)
	screen := tm.WaitText("cachescope demo", 5*time.Second)
	if !strings.Contains(screen, "refused") {
		t.Fatalf("the reason is not shown:\n%s", screen)
	}
	if seq, ok := firstColor(tm.ScreenANSI()); ok {
		t.Fatalf("NO_COLOR set but the screen has colors: %q", seq)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	tm.WaitText("● UP", 15*time.Second)
	tm.Send("q")
}

var sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// firstColor finds an SGR sequence that sets a color (39 and 49, the
// default colors, are resets, not colors).
func firstColor(ansi string) (string, bool) {
	for _, m := range sgr.FindAllStringSubmatch(ansi, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			n, err := strconv.Atoi(p)
			if err != nil {
				continue
			}
			if (n >= 30 && n <= 38) || (n >= 40 && n <= 48) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107) {
				return m[0], true
			}
		}
	}
	return "", false
}

// redisCLI runs redis-cli against addr, for checks that do not go through
// the code under test.
func redisCLI(t *testing.T, port int, args ...string) string {
	t.Helper()
	out, err := exec.Command("redis-cli", append([]string{"-p", strconv.Itoa(port)}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestEndToEndKeysAndPubSub: filter the keys, open one, delete it,
// invalidate a pattern with the typed confirmation, restore it from the
// backup; then tap pub/sub and see a message published by redis-cli.
func TestEndToEndKeysAndPubSub(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	srv := redistest.Start(t)
	bin := buildBinary(t)
	state := t.TempDir()
	rdb := srv.Client(t)
	ctx := context.Background()
	p := rdb.Pipeline()
	for i := 0; i < 1200; i++ {
		p.Set(ctx, fmt.Sprintf("product:%d", i), fmt.Sprintf(`{"id":%d}`, i), time.Hour)
	}
	p.Set(ctx, "user:ada", `{"name":"Ada Lovelace"}`, 0)
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}

	tm := tmuxtest.Start(t, 120, 40, "XDG_STATE_HOME="+state+" "+bin+" --url redis://"+srv.Addr)
	tm.WaitText("● UP", 15*time.Second)
	tm.Send("2")
	tm.WaitText("filter", 5*time.Second)
	tm.Send("/")
	tm.Type("user:*")
	tm.Send("Enter")
	tm.WaitText("1 key · scan complete", 10*time.Second)
	tm.Send("Enter")
	tm.WaitText(`"name": "Ada Lovelace"`, 5*time.Second)
	tm.Send("Escape")
	time.Sleep(300 * time.Millisecond) // esc then d at once would read as alt+d
	tm.Send("d")
	tm.WaitText("Delete 1 key", 5*time.Second)
	tm.Send("y")
	tm.WaitText("deleted 1 key", 5*time.Second)
	if got := redisCLI(t, srv.Port, "exists", "user:ada"); got != "0" {
		t.Fatalf("user:ada still exists after the delete (EXISTS = %s)", got)
	}

	tm.Send(":")
	tm.Type("invalidate product:*")
	tm.Send("Enter")
	tm.WaitText("Pattern of the keys to delete", 5*time.Second)
	tm.Send("Enter")
	tm.WaitText("1,200 keys match product:*", 15*time.Second)
	tm.Send("Enter") // a typed confirmation: enter alone does nothing
	tm.WaitText("that is not it", 5*time.Second)
	tm.Type("1200")
	tm.Send("Enter")
	screen := tm.WaitText("Deleted 1,200 keys", 15*time.Second)
	if got := redisCLI(t, srv.Port, "dbsize"); got != "0" {
		t.Fatalf("DBSIZE %s after invalidating every key", got)
	}
	backup := regexp.MustCompile(`restore (\S+invalidate\S*)`).FindStringSubmatch(strings.ReplaceAll(screen, "│\n", ""))
	files, _ := filepath.Glob(filepath.Join(state, "cachescope", "backups", "*invalidate*"))
	if len(files) != 1 {
		t.Fatalf("backup files: %v (screen: %v)", files, backup)
	}
	out, err := exec.Command(bin, "restore", files[0], "--url", "redis://"+srv.Addr).CombinedOutput()
	if err != nil {
		t.Fatalf("cachescope restore: %v\n%s", err, out)
	}
	if got := redisCLI(t, srv.Port, "get", "product:7"); got != `{"id":7}` {
		t.Fatalf("restored product:7 = %q", got)
	}
	if ttl, _ := strconv.Atoi(redisCLI(t, srv.Port, "ttl", "product:7")); ttl <= 0 || ttl > 3600 {
		t.Fatalf("restored TTL %d", ttl)
	}

	tm.Send("Escape")
	time.Sleep(300 * time.Millisecond)
	tm.Send("3")
	tm.WaitText("Live tap", 5*time.Second)
	tm.Send("s")
	tm.WaitText("subscribed", 10*time.Second)
	redisCLI(t, srv.Port, "publish", "orders", `{"order":42}`)
	tm.WaitText(`{"order":42}`, 10*time.Second)
	tm.Send("q")
	tm.WaitExit(10 * time.Second)
}

// TestEndToEndDemoAppView: the demo's workload reports telemetry, and the
// App view shows its per-namespace hit rates.
func TestEndToEndDemoAppView(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	redistest.Require(t)
	bin := buildBinary(t)
	tm := tmuxtest.Start(t, 120, 40, "XDG_STATE_HOME="+t.TempDir()+" "+bin+" demo")
	tm.WaitText("● UP", 20*time.Second)
	tm.Send("4")
	tm.WaitText("demo-shop-api", 20*time.Second)
	tm.WaitFor("a hit rate for the product namespace", 20*time.Second, func(s string) bool {
		return regexp.MustCompile(`product\s+\d+(\.\d)?%`).MatchString(s)
	})
	tm.Send("q")
	tm.WaitExit(15 * time.Second)
}

// TestEndToEndHungServer: a server stopped with SIGSTOP keeps its
// connections open and answers nothing. The dashboard says DOWN within its
// timeout, keeps answering keys meanwhile (it switches views), and is UP
// again after SIGCONT.
func TestEndToEndHungServer(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	srv := redistest.Start(t)
	bin := buildBinary(t)
	tm := tmuxtest.Start(t, 100, 30, bin+" --url redis://"+srv.Addr+" --refresh 250ms")
	tm.WaitText("● UP", 15*time.Second)
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Resume() })
	if screen := tm.WaitText("● DOWN", 15*time.Second); !strings.Contains(screen, "timeout") {
		t.Fatalf("DOWN without the reason (a timeout):\n%s", screen)
	}
	// The UI is not frozen behind the hung server: a view switch shows.
	tm.Send(":")
	tm.Type("slowlog")
	tm.Send("Enter")
	tm.WaitText("Commands", 5*time.Second)
	tm.Send(":")
	tm.Type("overview")
	tm.Send("Enter")
	tm.WaitText("● DOWN", 5*time.Second)
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	tm.WaitText("● UP", 15*time.Second)
	tm.Send("q")
	tm.WaitExit(10 * time.Second)
}
