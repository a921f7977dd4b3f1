package main

import (
	"context"
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

	tm.Send("2")
	tm.WaitText("Commands", 5*time.Second)
	tm.Send("q")
	tm.WaitFor("the program to exit", 10*time.Second, func(string) bool {
		dead, status := tm.Exited()
		return dead && status != ""
	})
	if _, status := tm.Exited(); status != "0" {
		t.Fatalf("exit status %s", status)
	}
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
