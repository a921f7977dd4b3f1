package monitor

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestSnapshotsAreImmutable reads delivered snapshots from other goroutines
// while the poller keeps writing new ones (run with -race), and checks an
// old snapshot never changes.
func TestSnapshotsAreImmutable(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--slowlog-log-slower-than", "0") // every command is slow: the slowlog moves each fetch
	app := appClient(t, s.Server)
	p := NewPoller(s.watched, Options{Interval: 100 * time.Millisecond, DetailInterval: 100 * time.Millisecond,
		SlowlogInterval: 100 * time.Millisecond, History: 8})

	snaps := make(chan *Snapshot, 64)
	stop := runPoller(t, p, func(s *Snapshot) {
		select {
		case snaps <- s:
		default:
		}
	})

	var readers sync.WaitGroup
	done := make(chan struct{})
	for i := 0; i < 2; i++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				case s := <-snaps:
					readAll(s)
				default:
					if s := p.Latest(); s != nil {
						readAll(s)
					}
				}
			}
		}()
	}

	waitFor(t, func() bool { s := p.Latest(); return s != nil && s.History.Len() >= 3 && s.Rates.Valid })
	old := p.Latest()
	frozen := fmt.Sprintf("%v %v %v %v %v", old.History, old.Commands, old.Slowlog, old.Unavailable, old.Keyspace)
	for i := 0; i < 20; i++ {
		traffic(t, app, 50, 50)
		seq := p.Latest().Seq
		waitFor(t, func() bool { return p.Latest().Seq > seq })
	}
	stop()
	close(done)
	readers.Wait()

	if p.Latest().History.Len() != 8 {
		t.Errorf("history len %d, want 8 (bounded)", p.Latest().History.Len())
	}
	if now := fmt.Sprintf("%v %v %v %v %v", old.History, old.Commands, old.Slowlog, old.Unavailable, old.Keyspace); now != frozen {
		t.Errorf("an old snapshot changed:\nthen %s\nnow  %s", frozen, now)
	}
}

// readAll touches everything a UI would render.
func readAll(s *Snapshot) {
	n := 0.0
	h := s.History
	for i := 0; i < h.Len(); i++ {
		n += h.OpsPerSec[i] + h.HitRate[i] + h.UsedMemory[i] + h.RTTMillis[i] + float64(h.Times[i].Unix())
	}
	for _, c := range s.Commands {
		n += c.CallsPerSec
		if c.Latency != nil {
			n += c.Latency.P99
		}
	}
	for _, e := range s.Slowlog {
		n += float64(len(e.Args))
	}
	for p, r := range s.Unavailable {
		n += float64(len(p) + len(r))
	}
	for k, v := range s.Info.Fields {
		n += float64(len(k) + len(v))
	}
	for _, a := range s.Alerts {
		n += float64(len(a.Message))
	}
	_ = NewReport(s)
	_ = StatLine(s)
	_ = n
}

func TestRunRefusesASecondRunAndStopsOnCancel(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	p := NewPoller(s.watched, Options{Interval: 100 * time.Millisecond})
	var got []*Snapshot
	var mu sync.Mutex
	stop := runPoller(t, p, func(s *Snapshot) { mu.Lock(); got = append(got, s); mu.Unlock() })
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 2 })
	if err := p.Run(context.Background(), nil); err != ErrRunning {
		t.Errorf("second Run: %v", err)
	}
	stop()
	mu.Lock()
	n := len(got)
	for i, s := range got {
		if s.Seq != uint64(i+1) {
			t.Errorf("snapshot %d has seq %d", i, s.Seq)
		}
	}
	defer mu.Unlock()
	if p.Latest() != got[n-1] {
		t.Error("Latest is not the last delivered snapshot")
	}
}
