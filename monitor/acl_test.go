package monitor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// The read-only ACL user gets the whole read-only dashboard (stats,
// commands, slowlog, keys and values of every type, analysis, channels,
// the tap, the application's telemetry) without a refused panel, and every
// write comes back as ErrNoPermission naming the user and the command.
func TestReadOnlyACLUserDashboard(t *testing.T) {
	t.Parallel()
	s := redistest.StartACL(t)
	ctx := context.Background()
	admin := s.Client(t)
	for _, cmd := range [][]any{
		{"set", "str", "value"}, {"hset", "hash", "f", "v"}, {"rpush", "list", "a", "b"},
		{"sadd", "set", "m"}, {"zadd", "zset", "1", "m"}, {"xadd", "stream", "*", "f", "v"},
	} {
		if err := admin.Do(ctx, cmd...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ro := guardedClient(t, redistest.ACLOptions(s, redistest.ReadOnlyUser, redistest.ReadOnlyPassword))

	clock := newFakeClock()
	p := clockedPoller(ro, Options{}, clock)
	pollAfter(t, p, clock, 0)
	snap := pollAfter(t, p, clock, DefaultSlowlogInterval)
	if !snap.Health.Up || !snap.Rates.Valid || len(snap.Unavailable) != 0 || len(snap.Commands) == 0 {
		t.Fatalf("stats as the read-only user: up %v valid %v unavailable %v commands %d (%s)",
			snap.Health.Up, snap.Rates.Valid, snap.Unavailable, len(snap.Commands), snap.Health.Error)
	}

	k := NewKeys(ro, KeysOptions{})
	b, err := k.Browse(Query{})
	if err != nil {
		t.Fatal(err)
	}
	page, err := b.Next(ctx)
	if err != nil || len(page.Keys) != 6 {
		t.Fatalf("browse: %v %v", page.Keys, err)
	}
	metas, err := k.Meta(ctx, page.Keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range metas {
		if !m.Exists || m.Type == "" {
			t.Fatalf("meta %+v", m)
		}
		if _, err := k.ReadValue(ctx, m.Key, m.Type, ValueAt{}); err != nil {
			t.Errorf("read %s (%s): %v", m.Key, m.Type, err)
		}
	}
	if a, err := k.Analyze(ctx, AnalyzeOptions{Rate: -1, ScanRate: -1}); err != nil || a.Keys != 6 {
		t.Errorf("analyze: %d keys, %v", a.Keys, err)
	}
	if ch := NewChannelsPoller(ro, ChannelsOptions{}).Poll(ctx); ch.Err != nil || ch.ShardUnavailable != "" {
		t.Errorf("channels: %v %q", ch.Err, ch.ShardUnavailable)
	}
	tap := subscribedTap(t, ro, TapOptions{Patterns: []string{"*"}}, nil)
	if err := admin.Publish(ctx, "news", "hello").Err(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the tap to receive", func() bool { return tap.Stats().Received == 1 })
	if app := NewAppPoller(ro, AppOptions{}).Poll(ctx); app.Err != nil {
		t.Errorf("application telemetry: %v", app.Err)
	}
	if cfg, err := ReadKeyEventsConfig(ctx, ro); err != nil {
		t.Errorf("key events config: %+v %v", cfg, err)
	}

	// Writes: write mode on (a loopback server), the server refuses. (The
	// writer may send the one CONFIG SET cachescope knows, so it is not
	// the guarded client.)
	writer := redis.NewClient(redistest.ACLOptions(s, redistest.ReadOnlyUser, redistest.ReadOnlyPassword))
	t.Cleanup(func() { _ = writer.Close() })
	acts, err := NewActions(writer, ActionsOptions{Write: true, AuditPath: filepath.Join(t.TempDir(), "audit.log")})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		err     error
		command string
	}{
		"delete":     {second(acts.Delete(ctx, []string{"str"}, DeleteOptions{})), "UNLINK"},
		"backup":     {second(acts.Delete(ctx, []string{"str"}, DeleteOptions{Backup: filepath.Join(t.TempDir(), "b")})), "DUMP"},
		"expire":     {second(acts.Expire(ctx, "str", time.Minute)), "PEXPIRE"},
		"persist":    {second(acts.Persist(ctx, "str")), "PERSIST"},
		"publish":    {second(acts.Publish(ctx, "news", "x")), "PUBLISH"},
		"invalidate": {second(acts.Invalidate(ctx, "str*", InvalidateOptions{})), "UNLINK"},
		"bump":       {second(acts.BumpVersion(ctx, "", "catalog")), "SET"},
		"key events": {second(acts.EnableKeyEvents(ctx)), "CONFIG|SET"},
	} {
		if !errors.Is(c.err, ErrNoPermission) {
			t.Errorf("%s: %v, want ErrNoPermission", name, c.err)
			continue
		}
		want := `the ACL user "viewer" lacks permission for ` + c.command
		if !strings.HasPrefix(c.err.Error(), want) || !strings.Contains(c.err.Error(), "ACL SETUSER viewer +"+strings.ToLower(c.command)) {
			t.Errorf("%s: %q, want it to start %q", name, c.err, want)
		}
	}
	if v := admin.Get(ctx, "str").Val(); v != "value" {
		t.Fatalf("the key changed: %q", v)
	}
	// The refusals are audited as errors.
	audit, err := os.ReadFile(acts.AuditPath())
	if err != nil || strings.Count(string(audit), `"result":"error"`) != 8 || !strings.Contains(string(audit), "NOPERM") {
		t.Errorf("audit log: %v\n%s", err, audit)
	}
}

func second[T any](_ T, err error) error { return err }
