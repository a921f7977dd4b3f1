package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// A UI runs the tap while the Pub/Sub view is open, and reads a snapshot
// on each frame: the newest messages that match its filter, the channel
// rates and the counters. Space pauses the ring (the rates go on).
func ExampleTap() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	tap, err := monitor.NewTap(rdb, monitor.TapOptions{}) // PSUBSCRIBE *
	if err != nil {
		panic(err)
	}
	ctx, closeView := context.WithTimeout(context.Background(), 3*time.Second)
	defer closeView()
	go tap.Run(ctx, nil)

	frame := time.NewTicker(100 * time.Millisecond)
	defer frame.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-frame.C:
		}
		s := tap.Snapshot(monitor.TapFilter{Text: "order", Limit: 20})
		for _, m := range s.Messages {
			fmt.Println(m.Time.Format("15:04:05"), sanitize.Line(m.Channel), monitor.PayloadPreview(m.Payload, 60))
		}
		for _, c := range s.Channels {
			fmt.Printf("%s %.1f msg/s %.0f B/s\n", sanitize.Line(c.Channel), c.MsgsPerSec, c.BytesPerSec)
		}
		if s.Stats.Dropped > 0 {
			fmt.Println("dropped", s.Stats.Dropped)
		}
	}
}

// The detail pane shows a payload pretty-printed when it is JSON, and
// inert whatever it holds.
func ExampleFormatPayload() {
	text, kind := monitor.FormatPayload(`{"order":42,"items":["a"]}`)
	fmt.Println(kind)
	fmt.Println(text)
	text, kind = monitor.FormatPayload("\x1b[2Jgotcha")
	fmt.Println(kind, text)
	// Output:
	// json
	// {
	//   "order": 42,
	//   "items": [
	//     "a"
	//   ]
	// }
	// text \x1b[2Jgotcha
}

// The channels table: refreshed every ten seconds while the view is open.
func ExampleChannelsPoller() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	p := monitor.NewChannelsPoller(rdb, monitor.ChannelsOptions{Pattern: "events:*"})
	s := p.Poll(context.Background())
	if s.Err != nil {
		fmt.Println("unavailable:", s.Error)
		return
	}
	for _, c := range s.Channels {
		fmt.Println(sanitize.Line(c.Name), c.Subscribers, c.Shard)
	}
	if s.Truncated {
		fmt.Printf("first %d of %d channels\n", len(s.Channels), s.Listed)
	}
}

// The application view: per-namespace hit rates over the instances that
// write cachecore telemetry.
func ExampleAppPoller() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	p := monitor.NewAppPoller(rdb, monitor.AppOptions{})
	s := p.Poll(context.Background())
	if s.NoInstances {
		fmt.Println("no instance reports telemetry: set cachecore.Options.Telemetry")
		return
	}
	for _, ns := range s.Namespaces {
		if ns.HitRateValid {
			fmt.Printf("%s: %.1f%% hits, %.1f misses/s\n", sanitize.Line(ns.Name), ns.HitRate*100, ns.MissesPerSec)
		}
	}
}

// Turning keyspace events on is a write: only for an explicit, confirmed
// action in write mode.
func ExampleEnableKeyEvents() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
	defer rdb.Close()
	// The view first reads the setting (monitor.ReadKeyEventsConfig) and
	// offers the action when cfg.Missing() is not empty.
	writeMode, confirmed := false, true // from the UI
	_, err := monitor.EnableKeyEvents(context.Background(), rdb, writeMode && confirmed)
	fmt.Println(errors.Is(err, monitor.ErrReadOnly)) // nothing was sent
	// Output: true
}
