package ui

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cachescope/cachescope/monitor"
)

// BenchmarkView renders each view at 120x40 and at 200x60 in its heaviest
// steady state: a full 15-minute history (900 points per series), 10,000
// loaded keys, a tap ring of 10,000 messages, 50 namespaces of application
// telemetry. The target is under 5 ms a frame. bench/run.sh runs it.
func BenchmarkView(b *testing.B) {
	for _, size := range [][2]int{{120, 40}, {200, 60}} {
		b.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(b *testing.B) { benchViews(b, size[0], size[1]) })
	}
}

func benchViews(b *testing.B, width, height int) {
	snap := fakeSnapshot(900)
	a := newTestApp(b, width, height)
	a.Update(SnapshotMsg{Snap: snap})
	keys := benchKeysView(a.ctx)
	pubsub := benchPubSubView(a.ctx)
	app := benchAppView(a.ctx)
	a.panes = append(a.panes, keys, pubsub, app)
	a.resize()
	for i, p := range a.panes {
		b.Run(p.Title(), func(b *testing.B) {
			a.active = i
			b.ReportAllocs()
			for b.Loop() {
				_ = a.View()
			}
		})
	}
}

func benchKeysView(ctx *Context) *keysView {
	v := newKeysView(ctx, nil, nil)
	for i := 0; i < maxRows; i++ {
		k := fmt.Sprintf("product:%d:details", i)
		v.rows = append(v.rows, k)
		v.meta[k] = monitor.KeyMeta{Key: k, Exists: true, Type: "string", TTL: time.Duration(i) * time.Second, HasTTL: true, Memory: 168}
	}
	v.page = monitor.Page{Examined: 50_000, Total: 1_000_000}
	v.refreshRows()
	v.list.move(5000)
	v.detail.key = v.rows[5000]
	v.detail.meta = v.meta[v.detail.key]
	v.detail.page = monitor.ValuePage{Type: "string", Length: 64 << 10, Data: fmt.Sprintf(`{"id":5000,"tags":%q}`, make([]string, 50))}
	v.detail.lines = renderValue(v.detail.page)
	return v
}

func benchPubSubView(ctx *Context) *pubsubView {
	v := newPubSubView(ctx, nil, nil, nil)
	v.tap = &monitor.Tap{}
	ts := &monitor.TapSnapshot{Patterns: []string{"*"}, Stats: monitor.TapStats{State: monitor.TapSubscribed, MsgsPerSec: 50_000, InRing: 10_000}}
	for i := 0; i < 10_000; i++ {
		ts.Messages = append(ts.Messages, monitor.TapMessage{Seq: uint64(i), Time: testNow, Channel: fmt.Sprintf("events:%d", i%20),
			Payload: fmt.Sprintf(`{"order":%d,"items":[1,2,3],"note":"hello"}`, i), Size: 48})
	}
	for i := 0; i < 20; i++ {
		h := make([]float64, 60)
		for j := range h {
			h[j] = 2500 + 500*math.Sin(float64(j))
		}
		ts.Channels = append(ts.Channels, monitor.ChannelRate{Channel: fmt.Sprintf("events:%d", i), MsgsPerSec: 2500, BytesPerSec: 120_000, History: h})
	}
	v.tapSnap = ts
	v.refreshMessages()
	v.chans = &monitor.ChannelsSnapshot{}
	for i := 0; i < 20; i++ {
		v.chans.Channels = append(v.chans.Channels, monitor.ChannelInfo{Name: fmt.Sprintf("events:%d", i), Subscribers: 3})
	}
	v.kevCfg = &monitor.KeyEventsConfig{Available: true}
	return v
}

func benchAppView(ctx *Context) *appView {
	v := newAppView(ctx, nil)
	s := &monitor.AppSnapshot{Live: 3}
	hist := make([]float64, 150)
	for i := range hist {
		hist[i] = 0.9 + 0.05*math.Sin(float64(i)/10)
	}
	for i := 0; i < 50; i++ {
		s.Namespaces = append(s.Namespaces, monitor.NamespaceRates{Name: fmt.Sprintf("ns%d", i), HitRate: 0.93, HitRateValid: true,
			HitsPerSec: 900, MissesPerSec: 70, History: monitor.NamespaceHistory{HitRate: hist}})
	}
	for i := 0; i < 5; i++ {
		s.Limiters = append(s.Limiters, monitor.LimiterRates{Name: fmt.Sprintf("lim%d", i), AllowedPerSec: 100, DeniedPerSec: 3,
			DenyRatio: 0.03, DenyRatioValid: true, History: monitor.LimiterHistory{DenyRatio: hist}})
	}
	for i := 0; i < 3; i++ {
		s.Instances = append(s.Instances, monitor.AppInstance{ID: fmt.Sprintf("api-%d", i), Host: "web", Breaker: "closed",
			Reported: testNow, RatesValid: true, Total: monitor.NamespaceRates{HitRate: 0.93, HitRateValid: true}})
	}
	v.snap = s
	return v
}
