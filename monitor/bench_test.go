package monitor

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchServer answers like fakeServer but with INFO counters that move
// every call, so rates are computed in full, and without recording.
type benchServer struct {
	tick, all string
	calls     int64
}

func newBenchServer(b *testing.B) *benchServer {
	return &benchServer{tick: readTestdata(b, "info_7.0_tick.txt"), all: readTestdata(b, "info_7.0_all.txt")}
}

func (f *benchServer) reply(args []string) (any, error) {
	f.calls++
	switch {
	case args[0] == "info":
		text := f.tick
		if len(args) == 2 {
			text = f.all
		}
		// Moving counters, as a busy server's would be.
		return strings.Replace(text, "total_commands_processed:10016", fmt.Sprintf("total_commands_processed:%d", 10016+f.calls*1000), 1), nil
	case args[0] == "latency" && args[1] == "histogram":
		return []any{
			"get", []any{"calls", 20001 + f.calls, "histogram_usec", []any{int64(1), 19978 + f.calls, int64(2), int64(19988) + f.calls, int64(66), int64(20001) + f.calls}},
			"set", []any{"calls", 20000 + f.calls, "histogram_usec", []any{int64(1), 19796 + f.calls, int64(132), 20000 + f.calls}},
		}, nil
	}
	return []any{}, nil
}

// BenchmarkTick is the poller's CPU cost for one ordinary tick (parse one
// INFO, compute rates, evaluate alerts, copy 900 points of history into
// the snapshot), without the network.
func BenchmarkTick(b *testing.B) {
	benchTicks(b, time.Second, 1<<62)
}

// BenchmarkDetailTick adds what a detail tick does: INFO all with command
// statistics, LATENCY HISTOGRAM, per-command rates and percentiles.
func BenchmarkDetailTick(b *testing.B) {
	benchTicks(b, time.Second, time.Second)
}

func benchTicks(b *testing.B, interval, detail time.Duration) {
	srv := newBenchServer(b)
	f := &fakeServer{reply: srv.reply}
	clock := newFakeClock()
	n := fakeNode(f, Options{Interval: interval, DetailInterval: detail, SlowlogInterval: 1 << 62}, clock)
	ctx := context.Background()
	for i := 0; i < DefaultHistory; i++ { // full history, as after 15 minutes
		clock.advance(interval)
		n.tick(ctx, false)
	}
	f.sent = nil
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		clock.advance(interval)
		if s := n.tick(ctx, false); !s.Health.Up || !s.Rates.Valid {
			b.Fatalf("tick failed: %+v %+v", s.Health, s.Rates)
		}
		f.sent = f.sent[:0]
	}
}

// BenchmarkParseInfo is ParseInfo alone on a tick's reply (about 5 KB).
func BenchmarkParseInfo(b *testing.B) {
	text := readTestdata(b, "info_7.0_tick.txt")
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ParseInfo(text)
	}
}
