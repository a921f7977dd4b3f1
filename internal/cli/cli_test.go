package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cachescope/cachescope/internal/redistest"
)

// run executes the command line and returns stdout, stderr and the exit
// code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Execute(Deps{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Version: "test"}, args)
	return out.String(), errOut.String(), code
}

func TestStatsJSON(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	rdb.Set(t.Context(), "a", "1", 0)
	out, errOut, code := run(t, "stats", "--json", "--interval", "200ms", "--url", "redis://"+srv.Addr)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, field := range []string{"up", "rtt_ms", "version", "ops_per_sec", "hit_rate", "hits_per_sec", "misses_per_sec",
		"used_memory", "maxmemory", "maxmemory_policy", "fragmentation_ratio", "evicted_per_sec", "expired_per_sec",
		"connected_clients", "blocked_clients", "keys", "alerts"} {
		if _, ok := r[field]; !ok {
			t.Errorf("stats --json lacks %q", field)
		}
	}
	if r["up"] != true || r["keys"].(float64) != 1 {
		t.Fatalf("report %v", r)
	}
}

func TestStatsTableAndFlagsAfterArgs(t *testing.T) {
	srv := redistest.Start(t)
	// Flags may come after the command.
	out, errOut, code := run(t, "stats", "--interval=100ms", "--host", "127.0.0.1", "--port", itoa(srv.Port))
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"ops/s", "hit rate", "memory", "alerts"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestStatsExitCodes(t *testing.T) {
	srv := redistest.Start(t)
	addr := srv.Addr
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, "stats", "--url", "redis://"+addr, "--timeout", "500ms")
	if code != ExitError || !strings.Contains(errOut, "refused") {
		t.Fatalf("unreachable server: exit %d, stderr %q", code, errOut)
	}
	// JSON still reports the outage, then exits 1.
	out, _, code := run(t, "stats", "--json", "--url", "redis://"+addr, "--timeout", "500ms")
	if code != ExitError || !strings.Contains(out, `"up":false`) {
		t.Fatalf("unreachable server --json: exit %d, %q", code, out)
	}
	for _, args := range [][]string{
		{"stats", "--bogus"},
		{"stats", "--interval", "-1s"},
		{"stats", "extra-arg"},
		{"stats", "--url", "redis://x", "--host", "y"},
		{"stats", "--write", "--read-only"},
	} {
		if _, errOut, code := run(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, ExitUsage, errOut)
		}
	}
}

func TestStatsNeverShowsThePassword(t *testing.T) {
	srv := redistest.Start(t, "--requirepass", "right-secret")
	t.Setenv("REDISCLI_AUTH", "wrong-secret-123")
	out, errOut, code := run(t, "stats", "--json", "--url", "redis://"+srv.Addr)
	if code != ExitError {
		t.Fatalf("wrong password: exit %d", code)
	}
	if !strings.Contains(out+errOut, "WRONGPASS") {
		t.Errorf("the error does not say WRONGPASS: %s %s", out, errOut)
	}
	if strings.Contains(out+errOut, "wrong-secret-123") {
		t.Fatal("the password appears in the output")
	}
	t.Setenv("REDISCLI_AUTH", "right-secret")
	if _, errOut, code := run(t, "stats", "--url", "redis://"+srv.Addr, "--interval", "100ms"); code != ExitOK {
		t.Fatalf("right password from REDISCLI_AUTH: exit %d %s", code, errOut)
	}
}

func TestStatsWatchPrintsLines(t *testing.T) {
	srv := redistest.Start(t)
	var out, errOut bytes.Buffer
	ctx, cancel := contextWithTimeout(t, 1200)
	defer cancel()
	root := newRoot(&Deps{Stdout: &out, Stderr: &errOut})
	root.SetArgs([]string{"stats", "--watch", "--interval", "200ms", "--url", "redis://" + srv.Addr})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "keys") {
		t.Fatalf("watch output:\n%s", out.String())
	}
}

func TestVersionAndHelp(t *testing.T) {
	out, _, code := run(t, "--version")
	if code != ExitOK || !strings.Contains(out, "test") {
		t.Fatalf("--version: %d %q", code, out)
	}
	for _, cmd := range []string{"stats", "demo"} {
		out, _, code := run(t, cmd, "--help")
		if code != ExitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("%s --help: %d %q", cmd, code, out)
		}
	}
}
