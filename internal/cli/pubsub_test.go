package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/cachescope/cachescope/monitor"
)

// syncBuffer is a bytes.Buffer safe to read while a command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runPubSubCmd runs `cachescope pubsub args...` against srv, publishes
// with publish once the server lists its subscriptions (patterns and
// shard channels as wanted), and stops it once stdout has lines lines. It
// returns stdout and stderr.
func runPubSubCmd(t *testing.T, srv *redistest.Server, wantPats, wantShards int, lines int, publish func(*redis.Client), args ...string) (string, string) {
	t.Helper()
	var out, errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		root := newRoot(&Deps{Stdout: &out, Stderr: &errOut})
		root.SetArgs(append([]string{"pubsub", "--url", "redis://" + srv.Addr}, args...))
		done <- root.ExecuteContext(ctx)
	}()
	admin := srv.Client(t)
	waitUntil(t, "the subscriptions", func() bool {
		pats, _ := admin.PubSubNumPat(ctx).Result()
		shards, _ := admin.PubSubShardChannels(ctx, "*").Result()
		return int(pats) == wantPats && len(shards) == wantShards
	})
	publish(admin)
	waitUntil(t, "the output", func() bool { return strings.Count(out.String(), "\n") >= lines })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("pubsub: %v (stderr %q)", err, errOut.String())
	}
	return out.String(), errOut.String()
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rawTerminalBytes reports the bytes of s a terminal would act on.
func rawTerminalBytes(s string) bool {
	return strings.ContainsAny(s, "\x1b\x07\x00\u202e\u0085")
}

func TestPubSubJSONLines(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	big := strings.Repeat("b", 100_000)
	out, _ := runPubSubCmd(t, srv, 1, 0, 5, func(c *redis.Client) {
		ctx := context.Background()
		c.Publish(ctx, "orders:1", `{"id":1}`)
		c.Publish(ctx, "bin", "\xff\x00\xfe")
		c.Publish(ctx, "evil\x1b[2J", "\x1b]0;owned\x07\u202e\u0085")
		c.Publish(ctx, "big", big)
		c.Publish(ctx, "last", "bye")
	}, "--json")
	if rawTerminalBytes(out) {
		t.Fatalf("raw control bytes in the output: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines: %q", len(lines), out)
	}
	var got []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %v: %q", err, l)
		}
		if _, err := time.Parse(time.RFC3339Nano, m["time"].(string)); err != nil {
			t.Fatalf("time: %v", err)
		}
		got = append(got, m)
	}
	if m := got[0]; m["channel"] != "orders:1" || m["payload"] != `{"id":1}` || m["pattern"] != "*" || m["size"] != float64(8) {
		t.Errorf("line 1: %v", m)
	}
	if m := got[1]; m["payload_base64"] != base64.StdEncoding.EncodeToString([]byte("\xff\x00\xfe")) || m["size"] != float64(3) {
		t.Errorf("binary payload: %v", m)
	}
	if m := got[2]; m["channel"] != "evil\x1b[2J" || m["payload"] != "\x1b]0;owned\x07\u202e\u0085" || m["payload_base64"] != nil {
		t.Errorf("escapes: %v", m)
	}
	if m := got[3]; m["payload"] != big || m["size"] != float64(len(big)) {
		t.Errorf("big payload cut: size %v, %d bytes", m["size"], len(m["payload"].(string)))
	}
}

func TestPubSubTextLinesAreInert(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	out, _ := runPubSubCmd(t, srv, 1, 1, 3, func(c *redis.Client) {
		ctx := context.Background()
		c.Publish(ctx, "orders:evil\x1b[2J", "\x1b]0;owned\x07 multi\nline")
		c.Publish(ctx, "elsewhere", "not matched")
		c.Publish(ctx, "orders:big", strings.Repeat("b", 5000))
		c.SPublish(ctx, "shard:{1}", "sharded")
	}, "orders:*", "--shard", "shard:{1}")
	if rawTerminalBytes(out) {
		t.Fatalf("raw control bytes in the output: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), out)
	}
	byChannel := map[string]string{}
	for _, l := range lines {
		parts := strings.SplitN(l, "  ", 3)
		if len(parts) != 3 {
			t.Fatalf("line %q", l)
		}
		if _, err := time.Parse("15:04:05.000", parts[0]); err != nil {
			t.Fatalf("time in %q: %v", l, err)
		}
		byChannel[parts[1]] = parts[2]
	}
	if p := byChannel[`orders:evil\x1b[2J`]; p != `\x1b]0;owned\x07 multi\nline` {
		t.Errorf("escaped line: %q", p)
	}
	if p := byChannel["orders:big"]; !strings.HasSuffix(p, "… (5000 bytes)") || len(p) > 500 {
		t.Errorf("big payload: %q", p)
	}
	if p := byChannel["shard:{1} (shard)"]; p != "sharded" {
		t.Errorf("shard channel: %v", byChannel)
	}
}

func TestPubSubShardOnlyAndErrors(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	out, _ := runPubSubCmd(t, srv, 0, 1, 1, func(c *redis.Client) {
		ctx := context.Background()
		c.Publish(ctx, "classic", "not followed")
		c.SPublish(ctx, "shard:{1}", "sharded")
	}, "--shard", "shard:{1}", "--json")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil || m["channel"] != "shard:{1}" || m["shard"] != true {
		t.Fatalf("%v: %q", err, out)
	}

	for _, a := range [][]string{{"pubsub", ""}, {"pubsub", "a", "b"}, {"pubsub", "--shard", ""}} {
		if _, errOut, code := run(t, append(a, "--url", "redis://"+srv.Addr)...); code != ExitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", a, code, ExitUsage, errOut)
		}
	}

	if out, _, code := run(t, "pubsub", "--help"); code != ExitOK || !strings.Contains(out, "Usage:") || !strings.Contains(out, "--shard") {
		t.Errorf("pubsub --help: %d %q", code, out)
	}

	// A user without pub/sub permission: the refusal ends the command.
	admin := srv.Client(t)
	if err := admin.Do(context.Background(), "acl", "setuser", "nosub", "on", ">pw", "+@all", "-@pubsub", "~*").Err(); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(t, "pubsub", "--url", "redis://nosub:pw@"+srv.Addr)
	if code != ExitError || !strings.Contains(errOut, "refused") || !strings.Contains(errOut, "NOPERM") {
		t.Fatalf("refused: exit %d, %q", code, errOut)
	}
}

// slowWriter takes 50 ms per write: an output that cannot keep up.
type slowWriter struct{ syncBuffer }

func (s *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(50 * time.Millisecond)
	return s.syncBuffer.Write(p)
}

func TestPubSubReportsDropsAndDisconnects(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	watched := srv.Client(t)
	redistest.ForbidDangerous(t, watched)
	tap, err := monitor.NewTap(watched, monitor.TapOptions{RingSize: 1, MaxPayload: -1, QueueSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out slowWriter
	var errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runPubSub(ctx, tap, &out, &errOut, false) }()
	admin := srv.Client(t)
	waitUntil(t, "the subscription", func() bool { return admin.PubSubNumPat(ctx).Val() == 1 })

	pipe := admin.Pipeline()
	for i := 0; i < 20_000; i++ {
		pipe.Publish(ctx, "flood", "x")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a drop report", func() bool { return strings.Contains(errOut.String(), "dropped") })

	if err := admin.ClientKillByFilter(ctx, "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "a disconnect report", func() bool { return strings.Contains(errOut.String(), "disconnected, reconnecting") })
	waitUntil(t, "the new subscription", func() bool { return admin.PubSubNumPat(ctx).Val() == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("stderr: %s", errOut.String())
}
