package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cachescope/cachescope/internal/redistest"
)

// stats through real sentinels: the master is resolved by name, and the
// report says it is Sentinel mode and which server the master is.
func TestStatsThroughSentinel(t *testing.T) {
	t.Parallel()
	g := redistest.StartSentinel(t, redistest.SentinelConfig{})
	var sentinels []string
	for _, s := range g.Sentinels {
		sentinels = append(sentinels, s.Addr)
	}
	out, errOut, code := run(t, "stats", "--json", "--interval", "200ms",
		"--sentinel", strings.Join(sentinels, ","), "--master", g.MasterName)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Up         bool   `json:"up"`
		Mode       string `json:"mode"`
		MasterAddr string `json:"master_addr"`
		Nodes      []struct {
			Addr string `json:"addr"`
			Role string `json:"role"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	master := g.Servers[0].Addr
	if !r.Up || r.Mode != "sentinel" || r.MasterAddr != master {
		t.Errorf("up %v mode %q master %q, want the master %s in sentinel mode:\n%s", r.Up, r.Mode, r.MasterAddr, master, out)
	}
	if len(r.Nodes) != 1 || r.Nodes[0].Addr != master || r.Nodes[0].Role != "master" {
		t.Errorf("nodes %+v, want the master %s", r.Nodes, master)
	}
}
