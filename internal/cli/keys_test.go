package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// runWith executes the command line with stdin holding input, and stdin
// reported as a terminal or not.
func runWith(t *testing.T, input string, terminal bool, args ...string) (string, string, int) {
	t.Helper()
	stdin := strings.NewReader(input)
	saved := isTerminal
	isTerminal = func(f any) bool { return terminal && f == any(stdin) }
	defer func() { isTerminal = saved }()
	var out, errOut bytes.Buffer
	code := Execute(Deps{Stdin: stdin, Stdout: &out, Stderr: &errOut, Version: "test"}, args)
	return out.String(), errOut.String(), code
}

// keysServer starts a server and returns its URL and an admin client, with
// the state directory (audit log, backups) in a temporary directory.
func keysServer(t *testing.T) (string, *redis.Client, string) {
	t.Helper()
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	srv := redistest.Start(t)
	admin := srv.Client(t)
	// The commands open their own clients, out of the tests' reach, so the
	// server's own command statistics show what they sent.
	t.Cleanup(func() { forbidDangerousSent(t, admin) })
	return "redis://" + srv.Addr, admin, state
}

// forbidDangerousSent fails the test if the server ever ran a command the
// safety model forbids (the tests' setup does not use any).
func forbidDangerousSent(t *testing.T, admin *redis.Client) {
	t.Helper()
	info, err := admin.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Errorf("commandstats: %v", err)
		return
	}
	for _, line := range strings.Split(info, "\n") {
		name, _, _ := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":")
		switch name {
		case "keys", "monitor", "flushall", "flushdb", "debug", "config|set":
			t.Errorf("the server ran %s: %s", name, strings.TrimSpace(line))
		}
	}
}

func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, line)
		}
		rows = append(rows, m)
	}
	return rows
}

func TestKeysJSONKeepsEveryByte(t *testing.T) {
	url, admin, _ := keysServer(t)
	ctx := t.Context()
	keys := map[string]bool{"user:1": true, "bin:\xff\x00": true, "esc:\x1b[2J": true, "bidi:\u202eevil": true}
	for k := range keys {
		admin.Set(ctx, k, "v", 0)
	}
	admin.Set(ctx, "ttl", "v", time.Hour)
	admin.HSet(ctx, "hash", "f", "v")
	out, errOut, code := run(t, "keys", "--json", "--url", url)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.ContainsAny(out, "\x1b\u202e") {
		t.Fatalf("raw escape or bidi control in the JSON output: %q", out)
	}
	rows := jsonLines(t, out)
	if len(rows) != 6 {
		t.Fatalf("%d rows:\n%s", len(rows), out)
	}
	for _, r := range rows {
		key := r["key"].(string)
		if b64, ok := r["key_base64"].(string); ok {
			raw, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				t.Fatal(err)
			}
			key = string(raw)
		}
		for _, field := range []string{"type", "ttl_ms", "memory", "encoding", "length"} {
			if _, ok := r[field]; !ok {
				t.Errorf("%q lacks %s", key, field)
			}
		}
		switch key {
		case "ttl":
			if ms := r["ttl_ms"].(float64); ms < 3_500_000 || ms > 3_600_000 {
				t.Errorf("ttl_ms %v", ms)
			}
		case "hash":
			if r["type"] != "hash" || r["length"].(float64) != 1 {
				t.Errorf("hash row %v", r)
			}
		default:
			if !keys[key] {
				t.Errorf("unexpected key %q", key)
			}
			delete(keys, key)
			if r["ttl_ms"].(float64) != -1 || r["type"] != "string" {
				t.Errorf("row %v", r)
			}
		}
	}
	if len(keys) != 0 {
		t.Fatalf("keys not listed exactly: %v", keys)
	}
}

func TestKeysTableFiltersAndLimit(t *testing.T) {
	url, admin, _ := keysServer(t)
	ctx := t.Context()
	for _, k := range []string{"user:1", "user:2", "user:3", "cart:1"} {
		admin.Set(ctx, k, "v", 0)
	}
	admin.HSet(ctx, "user:h", "f", "v")
	admin.Set(ctx, "evil\x1b]0;pwned\x07", "v", 0)
	out, errOut, code := run(t, "keys", "--url", url)
	if code != ExitOK || !strings.HasPrefix(out, "TYPE") || strings.Contains(out, "\x1b") || !strings.Contains(out, `evil\x1b]0;pwned\x07`) {
		t.Fatalf("exit %d, table not sanitized:\n%q\n%s", code, out, errOut)
	}
	out, _, _ = run(t, "keys", "user:*", "--type", "hash", "--url", url)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "user:h") {
		t.Fatalf("type filter:\n%s", out)
	}
	out, _, _ = run(t, "keys", "cart:1", "--url", url)
	if !strings.Contains(out, "cart:1") || strings.Count(out, "\n") != 2 {
		t.Fatalf("exact key:\n%s", out)
	}
	out, errOut, code = run(t, "keys", "--limit", "2", "--json", "--url", url)
	if code != ExitOK || len(jsonLines(t, out)) != 2 || !strings.Contains(errOut, "--limit 2") {
		t.Fatalf("limit: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, bad := range [][]string{{"keys", "--type", "bogus"}, {"keys", "--limit", "-1"}, {"keys", "a", "b"}} {
		if _, errOut, code := run(t, append(bad, "--url", url)...); code != ExitUsage {
			t.Errorf("%v: exit %d (%s)", bad, code, errOut)
		}
	}
}

func TestTerminalSafeJSON(t *testing.T) {
	in := map[string]string{"k": "a\u202eb\u0085c日本\u2028"}
	var buf bytes.Buffer
	if err := jsonLine(&buf, in); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	if !strings.Contains(got, `\u202e`) || !strings.Contains(got, `\u0085`) || !strings.Contains(got, "日本") {
		t.Fatalf("output %q", got)
	}
	var back map[string]string
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back["k"] != in["k"] {
		t.Fatalf("round trip %q %v", back["k"], err)
	}
}

func TestNewCommandsHaveHelp(t *testing.T) {
	for _, cmd := range []string{"keys", "invalidate", "restore", "analyze"} {
		out, _, code := run(t, cmd, "--help")
		if code != ExitOK || !strings.Contains(out, "Usage:") || !strings.Contains(out, "Exit status") {
			t.Errorf("%s --help: %d %q", cmd, code, out)
		}
	}
}
