package monitor

import "time"

// series is what turns a sequence of ticks into snapshots, whatever was
// polled: the health with its round trips, the alert window, the history
// rings and the numbering. A node keeps one for its server; a cluster
// poller keeps one for the aggregate of its nodes.
type series struct {
	opts        Options
	history     *ring[point]
	rtts        *ring[time.Duration]
	window      *ring[windowTick]
	evictingFor time.Duration
	health      Health
	last        *Snapshot // the last snapshot taken while up
	seq         uint64
}

// windowTick is one tick's counts, kept for the alert window.
type windowTick struct {
	time                            time.Time
	dt                              time.Duration
	hits, misses, evicted, rejected int64
}

func newSeries(opts Options) series {
	return series{
		opts:    opts,
		history: newRing[point](opts.History),
		rtts:    newRing[time.Duration](opts.RTTWindow),
		// A window tick per Interval, with room for extra Polls between
		// ticks.
		window: newRing[windowTick](2*int(opts.Thresholds.Window/opts.Interval) + 4),
	}
}

// rebaseline forgets the window: its counts belong to a baseline that no
// longer holds.
func (t *series) rebaseline() {
	t.window.reset()
	t.evictingFor = 0
}

// up completes the snapshot of a successful tick: s has its server values,
// Rates and Slowlog; up sets Seq, Health, Window and History. The caller
// evaluates the alerts and then records s with keep.
func (t *series) up(now time.Time, s *Snapshot, rtt time.Duration) {
	t.seq++
	s.Time, s.Seq = now, t.seq
	if !t.health.Up {
		t.health = Health{Up: true, Since: now}
	}
	t.health.LastUp, t.health.Failures = now, 0
	t.health.RTT = rtt
	t.rtts.push(rtt)
	t.health.RTTMin, t.health.RTTAvg, t.health.RTTMax = rttStats(t.rtts)
	s.Health = t.health

	rates := s.Rates
	if rates.Valid {
		t.window.push(windowTick{time: now, dt: rates.Interval, hits: rates.Hits, misses: rates.Misses,
			evicted: rates.Evicted, rejected: rates.RejectedConnections})
		if rates.Evicted > 0 {
			t.evictingFor += rates.Interval
		} else {
			t.evictingFor = 0
		}
	}
	s.Window = t.windowAt(now, s.Slowlog)
	t.history.push(pointOf(s, rtt))
	s.History = historyOf(t.history)
}

// keep records s as the last snapshot taken while up, whose values a down
// snapshot repeats.
func (t *series) keep(s *Snapshot) { t.last = s }

// down builds the snapshot of a failed tick from the last one taken while
// up (stale values, no rates) and drops the window. The caller fills in
// what it knows and evaluates the alerts.
func (t *series) down(now time.Time, addr string, err error) *Snapshot {
	t.rebaseline()
	if t.health.Up || t.health.Since.IsZero() {
		t.health = Health{Since: now, LastUp: t.health.LastUp}
	}
	t.health.Up = false
	t.health.Err, t.health.Error, t.health.Reason = err, err.Error(), errorReason(err)
	t.health.Failures++
	t.health.RTT = 0

	t.seq++
	s := &Snapshot{Addr: addr, Unavailable: map[Panel]string{}}
	if t.last != nil {
		*s = *t.last // stale values; every slice and map in it is shared read-only
		s.Rates, s.Window = Rates{}, Window{}
	}
	s.Time, s.Seq, s.Health = now, t.seq, t.health
	t.history.push(downPoint(now))
	s.History = historyOf(t.history)
	return s
}

// windowAt sums the window ticks no older than Thresholds.Window, and
// counts the new slowlog entries first seen in it.
func (t *series) windowAt(now time.Time, slowlog []SlowlogEntry) Window {
	w := Window{EvictingFor: t.evictingFor}
	from := now.Add(-t.opts.Thresholds.Window)
	for i := 0; i < t.window.len(); i++ {
		wt := t.window.at(i)
		if !wt.time.After(from) {
			continue
		}
		w.Span += wt.dt
		w.Hits += wt.hits
		w.Misses += wt.misses
		w.Evicted += wt.evicted
		w.RejectedConnections += wt.rejected
	}
	if w.Hits+w.Misses > 0 {
		w.HitRate, w.HitRateValid = float64(w.Hits)/float64(w.Hits+w.Misses), true
	}
	for _, e := range slowlog {
		if e.New && e.FirstSeen.After(from) {
			w.NewSlowlog++
		}
	}
	return w
}

// pointOf is the history point of a snapshot taken while up.
func pointOf(s *Snapshot, rtt time.Duration) point {
	p := point{time: s.Time, ops: nan, hitRate: nan, hits: nan, misses: nan, evicted: nan, expired: nan,
		netIn: nan, netOut: nan, cpu: nan,
		used: float64(s.Memory.Used), max: float64(s.Memory.Max),
		clients: float64(s.Clients.Connected), blocked: float64(s.Clients.Blocked),
		keys: float64(s.Keys), rttMsec: float64(rtt) / float64(time.Millisecond),
		pubsubChannels: float64(s.PubSub.Channels), pubsubPatterns: float64(s.PubSub.Patterns)}
	if r := s.Rates; r.Valid {
		p.ops, p.hits, p.misses = r.OpsPerSec, r.HitsPerSec, r.MissesPerSec
		p.evicted, p.expired = r.EvictedPerSec, r.ExpiredPerSec
		p.netIn, p.netOut, p.cpu = r.NetInPerSec, r.NetOutPerSec, r.CPUPercent
		if r.HitRateValid {
			p.hitRate = r.HitRate
		}
	}
	return p
}
