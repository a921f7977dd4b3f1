package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/cachescope/cachescope/internal/connect"
	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/cachescope/cachescope/monitor"
	"github.com/cachescope/cachescope/ui"
)

// A password that a library or a server echoed into an error never
// reaches the dashboard: redactSnapshot removes it from the health, the
// alerts, the nodes and the events before the UI renders anything.
func TestPasswordNeverReachesTheDashboard(t *testing.T) {
	const secret = "hunter2-secret"
	tg, err := connect.Open(context.Background(), connect.Config{URL: "redis://app:" + secret + "@127.0.0.1:1", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Client.Close()
	leak := "ERR invalid password '" + secret + "'"
	now := time.Now()
	node := &monitor.Snapshot{Addr: "127.0.0.1:7001", Health: monitor.Health{Error: leak, Reason: leak, Err: errors.New(leak)}}
	snap := &monitor.Snapshot{
		Addr: tg.Display, Mode: monitor.ModeCluster, Time: now,
		Health:      monitor.Health{Error: leak, Reason: leak, Err: errors.New(leak), Since: now},
		Nodes:       []monitor.NodeStatus{{Addr: "127.0.0.1:7001", Role: "master", Error: leak, Reason: leak, Snapshot: node}},
		Unavailable: map[monitor.Panel]string{monitor.PanelSlowlog: leak},
		Events:      []monitor.TopologyEvent{{Time: now, Kind: monitor.TopologyNodeDown, Message: "node down: " + leak}},
		Cluster:     &monitor.ClusterState{Error: "topology: " + leak},
	}
	snap.Alerts = monitor.Evaluate(snap, monitor.Thresholds{})
	red := redactSnapshot(snap, tg)
	if red == snap || !strings.Contains(snap.Health.Error, secret) || !strings.Contains(snap.Nodes[0].Error, secret) {
		t.Fatal("redactSnapshot changed the snapshot it was given (snapshots are immutable)")
	}
	for what, text := range map[string]string{
		"health": red.Health.Error + red.Health.Reason + red.Health.Err.Error(), "alerts": red.Alerts[0].Message,
		"node": red.Nodes[0].Error + red.Nodes[0].Reason + red.Nodes[0].Snapshot.Health.Error, "event": red.Events[0].Message,
		"unavailable": red.Unavailable[monitor.PanelSlowlog],
		"cluster":     red.Cluster.Error, "report": mustJSON(t, monitor.NewReport(red)),
	} {
		if strings.Contains(text, secret) || !strings.Contains(text, "***") {
			t.Errorf("%s: %q", what, text)
		}
	}

	ch := make(chan *monitor.Snapshot)
	app := ui.New(ui.Options{Conn: ui.ConnInfo{Display: tg.Display, Mode: tg.Mode}, Snapshots: ch})
	app.Update(tea.WindowSizeMsg{Width: 140, Height: 40})
	app.Update(ui.SnapshotMsg{Snap: red})
	screen := app.View().Content
	if !strings.Contains(screen, "DOWN") || !strings.Contains(screen, "***") {
		t.Fatalf("the screen does not show the redacted error:\n%s", screen)
	}
	if strings.Contains(screen, secret) {
		t.Fatalf("the password is on the screen:\n%s", screen)
	}
	if strings.Contains(tg.Display, secret) {
		t.Fatalf("the password is in the display name %q", tg.Display)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	var b strings.Builder
	if err := writeJSON(&b, v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Wrong password, missing ACL permission, TLS mismatch: each exits 1 with
// one line that names the problem and the way out; the password appears
// neither there nor in the log file.
func TestCommandErrorsAreOneClearLine(t *testing.T) {
	acl := redistest.StartACL(t)
	if err := acl.Client(t).Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "cachescope.log")
	tlsSrv, files := redistest.StartTLS(t, "optional")
	for _, c := range []struct {
		name  string
		env   map[string]string
		args  []string
		parts []string
	}{
		{"wrong password", map[string]string{"REDISCLI_AUTH": "wrong-secret-123", "REDIS_USER": redistest.ReadOnlyUser},
			[]string{"keys", "--url", "redis://" + acl.Addr}, []string{"WRONGPASS", "REDISCLI_AUTH"}},
		{"missing permission", map[string]string{"REDISCLI_AUTH": redistest.ReadOnlyPassword, "REDIS_USER": redistest.ReadOnlyUser},
			[]string{"invalidate", "*", "--yes", "--rate", "0", "--url", "redis://" + acl.Addr}, []string{"NOPERM", `ACL user "viewer" lacks permission for DUMP (for the backup taken before deleting)`, "ACL SETUSER viewer +dump"}},
		{"TLS name", nil,
			[]string{"stats", "--url", "rediss://" + tlsSrv.Addr, "--tls-ca", files.CA, "--tls-server-name", "cache.example.com"},
			[]string{"valid for localhost, 127.0.0.1, not cache.example.com", "--tls-server-name"}},
		{"TLS authority", nil,
			[]string{"stats", "--url", "rediss://" + tlsSrv.Addr}, []string{"--tls-ca"}},
	} {
		env := map[string]string{"XDG_STATE_HOME": state, "REDISCLI_AUTH": "", "REDIS_USER": ""}
		for k, v := range c.env {
			env[k] = v
		}
		out, errOut, code := runEnv(t, env, append(c.args, "--log-file", logFile, "--timeout", "1s")...)
		t.Logf("%s: %s", c.name, strings.TrimSpace(errOut))
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != ExitError || len(lines) != 1 || strings.Contains(errOut, "goroutine") {
			t.Errorf("%s: exit %d, stderr:\n%s", c.name, code, errOut)
			continue
		}
		for _, p := range c.parts {
			if !strings.Contains(errOut, p) {
				t.Errorf("%s: %q lacks %q", c.name, errOut, p)
			}
		}
		if strings.Contains(out+errOut, "wrong-secret-123") || strings.Contains(out+errOut, redistest.ReadOnlyPassword) {
			t.Errorf("%s: the password is in the output", c.name)
		}
	}
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	// Each failure is logged (an empty log would prove nothing), and the
	// passwords are not.
	for _, want := range []string{"WRONGPASS", "NOPERM", "cache.example.com", "--tls-ca"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the log file lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(string(log), "wrong-secret-123") || strings.Contains(string(log), redistest.ReadOnlyPassword) {
		t.Errorf("the password is in the log file:\n%s", log)
	}
}

// runEnv runs the command line with environment variables set (for the
// rest of the test: not for parallel tests).
func runEnv(t *testing.T, env map[string]string, args ...string) (string, string, int) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	return run(t, args...)
}
