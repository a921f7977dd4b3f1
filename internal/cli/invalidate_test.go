package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func fill(t *testing.T, admin *redis.Client, prefix string, n int, ttl time.Duration) {
	t.Helper()
	p := admin.Pipeline()
	for i := 0; i < n; i++ {
		p.Set(t.Context(), fmt.Sprintf("%s:%d", prefix, i), fmt.Sprintf("value-%d\xff", i), ttl)
	}
	if _, err := p.Exec(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func auditLines(t *testing.T, state string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, "cachescope", "audit.log"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return jsonLines(t, string(b))
}

func TestInvalidateRefusesWithoutATerminal(t *testing.T) {
	url, admin, state := keysServer(t)
	fill(t, admin, "p", 10, 0)
	_, errOut, code := run(t, "invalidate", "p:*", "--url", url)
	if code != ExitUsage || !strings.Contains(errOut, "--yes") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := admin.DBSize(t.Context()).Val(); n != 10 {
		t.Fatalf("%d keys left", n)
	}
	if len(auditLines(t, state)) != 0 {
		t.Fatal("a refused invalidation was audited")
	}
}

func TestInvalidateYesThenRestore(t *testing.T) {
	url, admin, state := keysServer(t)
	ctx := t.Context()
	fill(t, admin, "p", 300, time.Hour)
	fill(t, admin, "keep", 5, 0)
	out, errOut, code := run(t, "invalidate", "p:*", "--yes", "--json", "--rate", "0", "--url", url)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, f := range []string{"scanned", "matched", "deleted", "duration_ms", "backup", "backed_up", "sample", "dry_run"} {
		if _, ok := rep[f]; !ok {
			t.Errorf("JSON lacks %s", f)
		}
	}
	if rep["matched"].(float64) != 300 || rep["deleted"].(float64) != 300 || rep["scanned"].(float64) != 305 || rep["backed_up"].(float64) != 300 {
		t.Fatalf("report %v", rep)
	}
	backup := rep["backup"].(string)
	if !strings.HasPrefix(backup, filepath.Join(state, "cachescope", "backups")) {
		t.Fatalf("backup %q is not in the state directory", backup)
	}
	if n := admin.DBSize(ctx).Val(); n != 5 {
		t.Fatalf("%d keys left", n)
	}
	out, errOut, code = run(t, "restore", backup, "--json", "--url", url)
	if code != ExitOK {
		t.Fatalf("restore: exit %d: %s", code, errOut)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil || res["restored"].(float64) != 300 || res["action"] != "invalidate" || res["pattern"] != "p:*" {
		t.Fatalf("restore report %s (%v)", out, err)
	}
	if v := admin.Get(ctx, "p:7").Val(); v != "value-7\xff" {
		t.Fatalf("p:7 = %q", v)
	}
	if ttl := admin.PTTL(ctx, "p:7").Val(); ttl < 59*time.Minute {
		t.Fatalf("p:7 TTL %v", ttl)
	}
	audit := auditLines(t, state)
	if len(audit) != 2 || audit[0]["action"] != "invalidate" || audit[0]["count"].(float64) != 300 || audit[1]["action"] != "restore" || audit[0]["backup"] != backup {
		t.Fatalf("audit %v", audit)
	}
	// The text form says how to undo.
	fill(t, admin, "q", 3, 0)
	out, _, code = run(t, "invalidate", "q:*", "--yes", "--url", url, "--backup", filepath.Join(t.TempDir(), "q.backup"))
	if code != ExitOK || !strings.Contains(out, "deleted 3 of 3") || !strings.Contains(out, "cachescope restore") {
		t.Fatalf("text report %d:\n%s", code, out)
	}
}

func TestInvalidateReadOnlyAndDryRun(t *testing.T) {
	url, admin, state := keysServer(t)
	fill(t, admin, "p", 20, 0)
	_, errOut, code := run(t, "invalidate", "p:*", "--yes", "--read-only", "--url", url)
	if code != ExitUsage || !strings.Contains(errOut, "read-only") {
		t.Fatalf("read-only: exit %d: %s", code, errOut)
	}
	out, errOut, code := run(t, "invalidate", "p:*", "--dry-run", "--read-only", "--json", "--sample", "3", "--url", url)
	if code != ExitOK {
		t.Fatalf("dry run: exit %d: %s", code, errOut)
	}
	var rep map[string]any
	_ = json.Unmarshal([]byte(out), &rep)
	if rep["matched"].(float64) != 20 || rep["deleted"].(float64) != 0 || rep["dry_run"] != true || len(rep["sample"].([]any)) != 3 {
		t.Fatalf("dry run report %v", rep)
	}
	if n := admin.DBSize(t.Context()).Val(); n != 20 {
		t.Fatalf("%d keys left after a dry run", n)
	}
	if _, errOut, code := run(t, "restore", "/nonexistent", "--read-only", "--url", url); code != ExitUsage || !strings.Contains(errOut, "read-only") {
		t.Fatalf("restore in read-only: exit %d: %s", code, errOut)
	}
	if len(auditLines(t, state)) != 0 {
		t.Fatal("read-only runs were audited")
	}
	for _, bad := range [][]string{{"invalidate"}, {"invalidate", ""}, {"invalidate", "x", "--rate", "-1"}, {"invalidate", "x", "--backup", "f", "--no-backup"}} {
		if _, errOut, code := run(t, append(bad, "--url", url)...); code != ExitUsage {
			t.Errorf("%v: exit %d (%s)", bad, code, errOut)
		}
	}
}

func TestInvalidateAsksOnATerminal(t *testing.T) {
	url, admin, _ := keysServer(t)
	ctx := t.Context()
	fill(t, admin, "small", 5, 0)
	_, errOut, code := runWith(t, "n\n", true, "invalidate", "small:*", "--url", url)
	if code != ExitUsage || !strings.Contains(errOut, "5 keys match") || !strings.Contains(errOut, "[y/N]") {
		t.Fatalf("answer n: exit %d: %s", code, errOut)
	}
	if admin.DBSize(ctx).Val() != 5 {
		t.Fatal("deleted without a yes")
	}
	if _, errOut, code := runWith(t, "y\n", true, "invalidate", "small:*", "--url", url); code != ExitOK || admin.DBSize(ctx).Val() != 0 {
		t.Fatalf("answer y: exit %d: %s", code, errOut)
	}
	// More than 1000 keys: "y" is not enough, the count or pattern is.
	fill(t, admin, "big", 1500, 0)
	_, errOut, code = runWith(t, "y\n", true, "invalidate", "big:*", "--url", url, "--rate", "0")
	if code != ExitUsage || !strings.Contains(errOut, "Type the pattern or the number of keys (1500)") || admin.DBSize(ctx).Val() != 1500 {
		t.Fatalf("typed confirmation, answer y: exit %d: %s", code, errOut)
	}
	if _, errOut, code := runWith(t, "1500\n", true, "invalidate", "big:*", "--url", url, "--rate", "0"); code != ExitOK || admin.DBSize(ctx).Val() != 0 {
		t.Fatalf("typed count: exit %d: %s", code, errOut)
	}
	fill(t, admin, "big", 1200, 0)
	if _, errOut, code := runWith(t, "big:*\n", true, "invalidate", "big:*", "--url", url, "--rate", "0"); code != ExitOK || admin.DBSize(ctx).Val() != 0 {
		t.Fatalf("typed pattern: exit %d: %s", code, errOut)
	}
	// Nothing matches: nothing to ask.
	if out, errOut, code := runWith(t, "", true, "invalidate", "none:*", "--url", url); code != ExitOK || !strings.Contains(errOut, "No key matches") {
		t.Fatalf("no match: exit %d: %s %s", code, out, errOut)
	}
}

func TestInvalidateInterruptedReportsWhatItDeleted(t *testing.T) {
	url, admin, state := keysServer(t)
	fill(t, admin, "p", 20_000, 0)
	var out, errOut bytes.Buffer
	d := &Deps{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}
	root := newRoot(d)
	root.SetArgs([]string{"invalidate", "p:*", "--yes", "--json", "--rate", "1000", "--url", url})
	root.SetOut(&out)
	root.SetErr(&errOut)
	// At 1000 keys/s the run would take 20 s; the "Ctrl-C" (the same
	// context cancellation the signal handler does) comes long before.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	err := root.ExecuteContext(ctx)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err %v", err)
	}
	var rep map[string]any
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("no JSON report after the interruption: %v %q", err, out.String())
	}
	deleted := int64(rep["deleted"].(float64))
	left := admin.DBSize(t.Context()).Val()
	if rep["interrupted"] != true || deleted >= 20_000 || left != 20_000-deleted {
		t.Fatalf("report %v, %d keys left", rep, left)
	}
	audit := auditLines(t, state)
	if len(audit) != 1 || audit[0]["result"] != "cancelled" || int64(audit[0]["count"].(float64)) != deleted {
		t.Fatalf("audit %v", audit)
	}
}

func TestRestoreOfABadFile(t *testing.T) {
	url, _, _ := keysServer(t)
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("not a backup\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, "restore", bad, "--url", url)
	if code != ExitError || !strings.Contains(errOut, "not a cachescope backup") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, _, code := run(t, "restore", "--url", url); code != ExitUsage {
		t.Fatalf("no file: exit %d", code)
	}
}
