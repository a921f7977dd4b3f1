package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAnalyzeJSONAndTable(t *testing.T) {
	url, admin, _ := keysServer(t)
	fill(t, admin, "user", 200, time.Minute*30)
	fill(t, admin, "session", 100, 0)
	admin.Set(t.Context(), "blob\xff", strings.Repeat("x", 100_000), 0)
	out, errOut, code := run(t, "analyze", "--json", "--rate", "0", "--url", url)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var a struct {
		Keys       int64 `json:"keys"`
		Complete   bool  `json:"complete"`
		TTL        map[string]int64
		Namespaces []map[string]any
		Biggest    []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if a.Keys != 301 || !a.Complete || a.TTL["none"] != 101 || a.TTL["under_1h"] != 200 {
		t.Fatalf("analysis %+v", a)
	}
	if len(a.Namespaces) != 3 || a.Biggest[0]["key_base64"] != "YmxvYv8=" || a.Biggest[0]["type"] != "string" {
		t.Fatalf("namespaces %v biggest %v", a.Namespaces, a.Biggest[0])
	}
	out, errOut, code = run(t, "analyze", "user:*", "--url", url)
	if code != ExitOK || !strings.Contains(out, "200 keys") || !strings.Contains(out, "user:") || !strings.Contains(out, "BIGGEST KEYS") {
		t.Fatalf("table: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = run(t, "analyze", "--read-only", "--sample", "50", "--url", url)
	if code != ExitOK || !strings.Contains(out, "50 keys") || !strings.Contains(out, "a sample") {
		t.Fatalf("sampled, read-only: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{{"analyze", "--sample", "0"}, {"analyze", "--type", "nope"}, {"analyze", "a", "b"}} {
		if _, errOut, code := run(t, append(bad, "--url", url)...); code != ExitUsage {
			t.Errorf("%v: exit %d (%s)", bad, code, errOut)
		}
	}
}
