package monitor

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestTapRatesOverTheWindow(t *testing.T) {
	t.Parallel()
	tap, clock := offlineTap(t, TapOptions{RateWindow: 10 * time.Second, History: 30})
	t0 := clock.now()
	// 10 messages of 100 bytes on "a" in each of the first 4 seconds, 5
	// of 10 bytes on "b" in the third.
	for sec := 0; sec < 4; sec++ {
		at := t0.Add(time.Duration(sec)*time.Second + 500*time.Millisecond)
		clock.set(at)
		var batch []TapMessage
		for i := 0; i < 10; i++ {
			batch = append(batch, msg(at, "a", strings.Repeat("x", 100)))
			tap.received.Add(1)
			tap.receivedBytes.Add(100)
		}
		if sec == 2 {
			for i := 0; i < 5; i++ {
				batch = append(batch, msg(at, "b", strings.Repeat("y", 10)))
				tap.received.Add(1)
				tap.receivedBytes.Add(10)
			}
		}
		tap.account(batch)
	}
	// 5 s after the start: everything is in the window, which began at
	// the start: a = 40 messages / 5 s.
	clock.set(t0.Add(5 * time.Second))
	snap := tap.Snapshot(TapFilter{})
	rates := map[string]ChannelRate{}
	for _, c := range snap.Channels {
		rates[c.Channel] = c
	}
	a, b := rates["a"], rates["b"]
	if a.MsgsPerSec != 8 || a.BytesPerSec != 800 || b.MsgsPerSec != 1 || b.BytesPerSec != 10 {
		t.Fatalf("rates a=%v/%v b=%v/%v", a.MsgsPerSec, a.BytesPerSec, b.MsgsPerSec, b.BytesPerSec)
	}
	if snap.Channels[0].Channel != "a" {
		t.Fatalf("busiest first: %+v", snap.Channels)
	}
	if snap.Stats.MsgsPerSec != 9 || snap.Stats.BytesPerSec != 810 {
		t.Fatalf("total rates %v msgs/s %v B/s", snap.Stats.MsgsPerSec, snap.Stats.BytesPerSec)
	}
	// The sparkline: one point per second, the last the current second.
	h := a.History
	if len(h) != 30 || h[29] != 0 || h[28] != 0 || h[27] != 10 || h[26] != 10 || h[25] != 10 || h[24] != 10 || h[23] != 0 {
		t.Fatalf("history of a: %v", h)
	}
	// 20 s later "a" has left the 10 s window.
	clock.set(t0.Add(25 * time.Second))
	snap = tap.Snapshot(TapFilter{})
	for _, c := range snap.Channels {
		if c.MsgsPerSec != 0 || c.Messages == 0 {
			t.Fatalf("%s: %v msgs/s after the window, %d total", c.Channel, c.MsgsPerSec, c.Messages)
		}
	}
}

func TestTapPauseClearAndFilter(t *testing.T) {
	t.Parallel()
	tap, clock := offlineTap(t, TapOptions{})
	at := clock.now()
	tap.account([]TapMessage{
		msg(at, "Orders:EU", `{"id":1,"status":"PAID"}`),
		msg(at, "orders:us", `{"id":2,"status":"new"}`),
		msg(at, "users", `paid invoice`),
	})

	// Filters: channel substring, ignoring case; text in the payload or
	// the channel; both together; Limit keeps the newest; After.
	for _, c := range []struct {
		f    TapFilter
		want []uint64
	}{
		{TapFilter{}, []uint64{1, 2, 3}},
		{TapFilter{Channel: "ORDERS"}, []uint64{1, 2}},
		{TapFilter{Text: "paid"}, []uint64{1, 3}},
		{TapFilter{Text: "users"}, []uint64{3}},
		{TapFilter{Channel: "orders", Text: "paid"}, []uint64{1}},
		{TapFilter{Limit: 2}, []uint64{2, 3}},
		{TapFilter{Channel: "orders", Limit: 1}, []uint64{2}},
		{TapFilter{After: 1}, []uint64{2, 3}},
		{TapFilter{After: 1, Text: "paid"}, []uint64{3}},
		{TapFilter{Text: "nothing"}, nil},
	} {
		s := tap.Snapshot(c.f)
		var got []uint64
		for _, m := range s.Messages {
			got = append(got, m.Seq)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%+v: got %v, want %v", c.f, got, c.want)
		}
		wantMatched := len(c.want)
		if c.f.Limit > 0 {
			wantMatched = map[string]int{"": 3, "orders": 2}[c.f.Channel]
		}
		if s.Matched != wantMatched {
			t.Errorf("%+v: matched %d, want %d", c.f, s.Matched, wantMatched)
		}
	}

	// A snapshot is immutable: later messages do not change it.
	before := tap.Snapshot(TapFilter{})

	// Pause: the ring is frozen; counting goes on.
	tap.SetPaused(true)
	tap.account([]TapMessage{msg(at, "users", "while paused"), msg(at, "users", "still paused")})
	s := tap.Snapshot(TapFilter{})
	if len(s.Messages) != 3 || !s.Stats.Paused || s.Stats.SkippedWhilePaused != 2 || s.Stats.Accounted != 5 {
		t.Fatalf("paused: %d messages, stats %+v", len(s.Messages), s.Stats)
	}
	var users ChannelRate
	for _, c := range s.Channels {
		if c.Channel == "users" {
			users = c
		}
	}
	if users.Messages != 3 {
		t.Fatalf("paused messages not counted: %+v", users)
	}
	tap.SetPaused(false)
	tap.account([]TapMessage{msg(at, "users", "resumed")})
	s = tap.Snapshot(TapFilter{})
	if len(s.Messages) != 4 || s.Messages[3].Payload != "resumed" || s.Messages[3].Seq != 6 {
		t.Fatalf("after resume: %+v", s.Messages)
	}

	// Clear empties the ring, not the counters.
	tap.Clear()
	s = tap.Snapshot(TapFilter{})
	if len(s.Messages) != 0 || s.Stats.InRing != 0 || s.Stats.RingBytes != 0 || s.Stats.Accounted != 6 || len(s.Channels) != 3 {
		t.Fatalf("after clear: %d messages, %+v", len(s.Messages), s.Stats)
	}
	tap.account([]TapMessage{msg(at, "users", "after clear")})
	if s := tap.Snapshot(TapFilter{After: 6}); len(s.Messages) != 1 || s.Messages[0].Seq != 7 {
		t.Fatalf("after clear, new message: %+v", s.Messages)
	}
	if len(before.Messages) != 3 || before.Messages[2].Payload != "paid invoice" || before.Stats.Accounted != 3 {
		t.Fatalf("an old snapshot changed: %+v", before)
	}
}

func TestTapRingIsBoundedByCountAndBytes(t *testing.T) {
	t.Parallel()
	tap, clock := offlineTap(t, TapOptions{RingSize: 100})
	at := clock.now()
	for i := 0; i < 1000; i++ {
		tap.account([]TapMessage{msg(at, "c", fmt.Sprint(i))})
	}
	s := tap.Snapshot(TapFilter{})
	if len(s.Messages) != 100 || s.Messages[0].Payload != "900" || s.Messages[99].Payload != "999" {
		t.Fatalf("count bound: %d messages from %q", len(s.Messages), s.Messages[0].Payload)
	}
	tap, _ = offlineTap(t, TapOptions{RingSize: 100, RingBytes: 10_000})
	big := strings.Repeat("z", 3000)
	for i := 0; i < 10; i++ {
		tap.account([]TapMessage{msg(at, "c", big)})
	}
	s = tap.Snapshot(TapFilter{})
	if s.Stats.RingBytes > 10_000 || len(s.Messages) != 3 {
		t.Fatalf("byte bound: %d messages, %d bytes", len(s.Messages), s.Stats.RingBytes)
	}
}

func TestTapCutsPayloadsKeepingTheirSize(t *testing.T) {
	t.Parallel()
	tap, _ := offlineTap(t, TapOptions{MaxPayload: 10})
	// "é" is two bytes: a cut at 10 would split the sixth one.
	long := strings.Repeat("é", 20)
	tap.enqueue(&redis.Message{Channel: "c", Pattern: "*", Payload: long}, false)
	tap.enqueue(&redis.Message{Channel: "c", Pattern: "*", Payload: "short"}, false)
	binary := string([]byte{0xff, 0xfe, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89})
	tap.enqueue(&redis.Message{Channel: "c", Pattern: "*", Payload: binary}, false)
	m := <-tap.queue
	if m.Payload != strings.Repeat("é", 5) || m.Size != 40 || !m.Truncated() {
		t.Fatalf("cut UTF-8: %q size %d", m.Payload, m.Size)
	}
	if m := <-tap.queue; m.Payload != "short" || m.Size != 5 || m.Truncated() {
		t.Fatalf("short: %+v", m)
	}
	if m := <-tap.queue; m.Payload != binary[:10] || m.Size != 12 {
		t.Fatalf("binary: %q %d", m.Payload, m.Size)
	}
}

func TestTapDropsAndCountsWhenTheConsumerFallsBehind(t *testing.T) {
	t.Parallel()
	tap, clock := offlineTap(t, TapOptions{QueueSize: 100, QueueBytes: 1 << 20})
	// Nobody drains the queue: the reader must neither block nor grow it.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1000; i++ {
			tap.enqueue(&redis.Message{Channel: "c", Payload: "0123456789"}, false)
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("enqueue blocked on a full queue")
	}
	clock.set(clock.now().Add(time.Second))
	st := tap.Stats()
	if st.Received != 1000 || st.Dropped != 900 || st.DroppedBytes != 9000 || len(tap.queue) != 100 {
		t.Fatalf("stats %+v, queue %d", st, len(tap.queue))
	}
	if st.DroppedPerSec <= 0 || math.Abs(st.MsgsPerSec/st.DroppedPerSec-1000.0/900) > 1e-9 {
		t.Fatalf("rates: %v msgs/s, %v dropped/s", st.MsgsPerSec, st.DroppedPerSec)
	}
	s := tap.Snapshot(TapFilter{})
	if len(s.Events) != 1 || s.Events[0].Kind != EventDropping {
		t.Fatalf("events %+v", s.Events)
	}

	// The byte bound applies too: big messages are dropped before the
	// queue is full of them.
	tap2, _ := offlineTap(t, TapOptions{QueueSize: 1000, QueueBytes: 10_000, MaxPayload: -1})
	for i := 0; i < 10; i++ {
		tap2.enqueue(&redis.Message{Channel: "c", Payload: strings.Repeat("b", 4000)}, false)
	}
	if st := tap2.Stats(); len(tap2.queue) != 2 || st.Dropped != 8 || tap2.queuedBytes.Load() > 10_000 {
		t.Fatalf("byte-bounded queue holds %d, stats %+v", len(tap2.queue), st)
	}
}

func TestTapChannelsPastTheCapGoToOther(t *testing.T) {
	t.Parallel()
	tap, clock := offlineTap(t, TapOptions{MaxChannels: 3, History: 5})
	t0 := clock.now()
	for i := 0; i < 10; i++ {
		tap.account([]TapMessage{msg(t0, fmt.Sprintf("ch%d", i), "x")})
	}
	s := tap.Snapshot(TapFilter{})
	if len(s.Channels) != 3 || s.Other.Messages != 7 || s.Other.Channel != "" {
		t.Fatalf("channels %d, other %+v", len(s.Channels), s.Other)
	}
	// Channels silent for the whole history give their place up.
	clock.set(t0.Add(10 * time.Second))
	tap.account([]TapMessage{msg(clock.now(), "new", "x")})
	s = tap.Snapshot(TapFilter{})
	if len(s.Channels) != 1 || s.Channels[0].Channel != "new" {
		t.Fatalf("after the sweep: %+v", s.Channels)
	}
}
