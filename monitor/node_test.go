package monitor

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// serverError is an error as go-redis reports a Redis error reply.
type serverError string

func (e serverError) Error() string { return string(e) }
func (serverError) RedisError()     {}

var _ redis.Error = serverError("")

// fakeServer answers the poller's commands from a script, for behaviour a
// real redis-server 7.0 cannot show (older versions, odd replies) and for
// exact schedules. It records what it was sent.
type fakeServer struct {
	mu    sync.Mutex
	sent  []string
	reply func(args []string) (any, error)
}

func (f *fakeServer) Do(ctx context.Context, args ...any) *redis.Cmd {
	words := make([]string, len(args))
	for i, a := range args {
		words[i] = strings.ToLower(fmt.Sprint(a))
	}
	f.mu.Lock()
	f.sent = append(f.sent, strings.Join(words, " "))
	f.mu.Unlock()
	cmd := redis.NewCmd(ctx, args...)
	v, err := f.reply(words)
	if err != nil {
		cmd.SetErr(err)
	} else {
		cmd.SetVal(v)
	}
	return cmd
}

func (f *fakeServer) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

// redis7 answers like a Redis 7 server would, with INFO from the captures.
func redis7(t testing.TB) func([]string) (any, error) {
	tick, all := readTestdata(t, "info_7.0_tick.txt"), readTestdata(t, "info_7.0_all.txt")
	return func(args []string) (any, error) {
		switch {
		case args[0] == "info" && len(args) == 2 && args[1] == "all":
			return all, nil
		case args[0] == "info":
			return tick, nil
		case args[0] == "latency" && args[1] == "histogram":
			return []any{"get", []any{"calls", int64(1), "histogram_usec", []any{int64(1), int64(1)}}}, nil
		case args[0] == "slowlog":
			return []any{}, nil
		case args[0] == "latency" && args[1] == "latest":
			return []any{}, nil
		}
		return nil, serverError("ERR unknown command")
	}
}

func fakeNode(f *fakeServer, opts Options, clock *fakeClock) *node {
	n := newNode("fake:6379", f, opts)
	n.now = clock.now
	return n
}

func TestTierScheduleAtDefaultRefresh(t *testing.T) {
	f := &fakeServer{reply: redis7(t)}
	clock := newFakeClock()
	n := fakeNode(f, Options{}, clock)
	const ticks = 60
	for i := 0; i < ticks; i++ {
		if s := n.tick(context.Background(), false); !s.Health.Up {
			t.Fatalf("tick %d: %s", i, s.Health.Error)
		}
		clock.advance(time.Second)
	}
	counts := map[string]int{}
	for _, c := range f.commands() {
		counts[c]++
	}
	want := map[string]int{
		"info " + strings.Join(tickSections, " "): 54, // every tick but the detail ones
		"info all":          6, // every 10s
		"latency histogram": 6, // every 10s
		"slowlog get 64":    2, // every 30s
		"latency latest":    2, // every 30s
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("commands over %d ticks:\n got %v\nwant %v", ticks, counts, want)
	}
	total := len(f.commands())
	if perSec := float64(total) / ticks; perSec > 1.2 {
		t.Errorf("%.2f commands/s at the default refresh", perSec)
	}
}

func TestLegacyServerGetsPlainInfo(t *testing.T) {
	tick := readTestdata(t, "info_7.0_tick.txt")
	all := readTestdata(t, "info_7.0_all.txt")
	f := &fakeServer{reply: func(args []string) (any, error) {
		switch {
		case args[0] == "info" && len(args) > 2:
			return nil, serverError("ERR syntax error")
		case args[0] == "info" && len(args) == 2:
			return all, nil
		case args[0] == "info":
			return tick, nil
		case args[0] == "latency" && args[1] == "histogram":
			return nil, serverError("ERR unknown subcommand 'histogram'. Try LATENCY HELP.")
		case args[0] == "slowlog", args[0] == "latency":
			return []any{}, nil
		}
		return nil, serverError("ERR unknown command")
	}}
	clock := newFakeClock()
	n := fakeNode(f, Options{}, clock)
	var snaps []*Snapshot
	for i := 0; i < 11; i++ {
		snaps = append(snaps, n.tick(context.Background(), false))
		clock.advance(time.Second)
	}
	for i, s := range snaps {
		if !s.Health.Up {
			t.Fatalf("tick %d down: %s", i, s.Health.Error)
		}
	}
	last := snaps[len(snaps)-1]
	if reason := last.Unavailable[PanelLatencyHistogram]; !strings.Contains(reason, "unknown subcommand") {
		t.Errorf("histogram panel: %q (%v)", reason, last.Unavailable)
	}
	if len(last.Unavailable) != 1 || len(last.Commands) == 0 {
		t.Errorf("unavailable %v, %d commands", last.Unavailable, len(last.Commands))
	}
	counts := map[string]int{}
	for _, c := range f.commands() {
		counts[c]++
	}
	// Tick 0 is a detail tick (INFO all); tick 1 tries multi-section INFO
	// once, then plain INFO from then on; INFO all on the detail ticks (0
	// and 10); the refused histogram is asked once.
	if counts["info "+strings.Join(tickSections, " ")] != 1 || counts["info"] != 9 || counts["info all"] != 2 || counts["latency histogram"] != 1 {
		t.Errorf("commands: %v", counts)
	}
}

func TestUnexpectedRepliesDoNotBreakTheTick(t *testing.T) {
	tick := readTestdata(t, "info_7.0_all.txt")
	f := &fakeServer{reply: func(args []string) (any, error) {
		switch args[0] {
		case "info":
			return tick, nil
		case "latency":
			return int64(42), nil
		case "slowlog":
			return "not a list", nil
		}
		return nil, nil
	}}
	n := fakeNode(f, Options{}, newFakeClock())
	s := n.tick(context.Background(), false)
	if !s.Health.Up || len(s.Slowlog) != 0 || len(s.LatencyEvents) != 0 {
		t.Fatalf("snapshot %+v", s.Health)
	}
	// Not refusals by the server, so not marked unavailable: retried.
	if len(s.Unavailable) != 0 {
		t.Errorf("unavailable: %v", s.Unavailable)
	}

	f.reply = func([]string) (any, error) { return int64(1), nil }
	if s := n.tick(context.Background(), false); s.Health.Up || !strings.Contains(s.Health.Error, "unexpected INFO reply") {
		t.Errorf("INFO answered with an integer: %+v", s.Health)
	}
}

func TestRingClientIsRefusedClearly(t *testing.T) {
	r := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	defer r.Close()
	s := NewPoller(r, Options{}).Poll(context.Background())
	if s.Health.Up || s.Health.Err != ErrUnsupportedClient {
		t.Errorf("ring client: %+v", s.Health)
	}
}

func TestUnreachableClusterIsDownWithTheReason(t *testing.T) {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, MaxRetries: -1})
	defer c.Close()
	p := NewPoller(c, Options{Addr: "cluster 127.0.0.1:1"})
	defer p.Close()
	s := p.Poll(context.Background())
	if s.Health.Up || s.Health.Reason != "connection refused" || s.Mode != ModeCluster {
		t.Errorf("unreachable cluster: mode %q %+v", s.Mode, s.Health)
	}
	if len(s.Alerts) != 1 || s.Alerts[0].ID != AlertDown {
		t.Errorf("alerts %v", s.Alerts)
	}
}

// miniredisLike answers as the embedded server of `cachescope demo`
// (github.com/alicebob/miniredis/v2) does: INFO takes at most one section
// and knows only "clients"; LATENCY and SLOWLOG do not exist.
func miniredisLike(args []string) (any, error) {
	switch {
	case args[0] == "info" && len(args) > 2:
		return nil, serverError("ERR wrong number of arguments for 'info' command")
	case args[0] == "info" && len(args) == 2 && args[1] != "clients":
		return nil, serverError(fmt.Sprintf("section (%s) is not supported", args[1]))
	case args[0] == "info":
		return "# Clients\nconnected_clients:3\r\n", nil
	}
	return nil, serverError(fmt.Sprintf("ERR unknown command `%s`, with args beginning with: ", args[0]))
}

func TestEmbeddedServerKeepsTheDashboardUp(t *testing.T) {
	f := &fakeServer{reply: miniredisLike}
	clock := newFakeClock()
	n := fakeNode(f, Options{}, clock)
	for i := 0; i < 12; i++ {
		s := n.tick(context.Background(), false)
		if !s.Health.Up {
			t.Fatalf("tick %d: down: %s", i, s.Health.Error)
		}
		if s.Clients.Connected != 3 {
			t.Fatalf("tick %d: clients %d", i, s.Clients.Connected)
		}
		if i == 11 {
			for _, p := range []Panel{PanelCommandStats, PanelSlowlog, PanelLatencyEvents} {
				if s.Unavailable[p] == "" {
					t.Errorf("panel %s not marked unavailable: %v", p, s.Unavailable)
				}
			}
			if !strings.Contains(s.Unavailable[PanelCommandStats], "not supported") {
				t.Errorf("commandstats reason %q", s.Unavailable[PanelCommandStats])
			}
			if len(s.Alerts) != 0 {
				t.Errorf("alerts on an embedded server: %v", s.Alerts)
			}
		}
		clock.advance(time.Second)
	}
	// Refusals are remembered: INFO all is not asked for every 5s.
	counts := map[string]int{}
	for _, c := range f.commands() {
		counts[c]++
	}
	if counts["info all"] != 1 || counts["slowlog get 64"] != 1 {
		t.Errorf("commands: %v", counts)
	}
}
