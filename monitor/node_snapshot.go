package monitor

import (
	"maps"
	"time"
)

// windowTick is one tick's counts, kept for the alert window.
type windowTick struct {
	time                            time.Time
	dt                              time.Duration
	hits, misses, evicted, rejected int64
}

// up builds the snapshot of a successful tick.
func (n *node) up(now time.Time, info Info, rates Rates, rtt time.Duration) *Snapshot {
	n.seq++
	s := &Snapshot{
		Addr:          n.addr,
		Time:          now,
		Seq:           n.seq,
		Server:        serverOf(info),
		Clients:       clientsOf(info),
		Memory:        memoryOf(info),
		Persistence:   persistenceOf(info),
		Replication:   replicationOf(info),
		Keyspace:      info.Keyspace(),
		Rates:         rates,
		Commands:      n.commands,
		Errors:        n.errors,
		DetailAt:      n.detailAt,
		DetailWindow:  n.detailWindow,
		Slowlog:       n.slowlog,
		LatencyEvents: n.latencyEvents,
		SlowlogAt:     n.lastSlowlog,
		Unavailable:   n.unavailable(),
		Info:          info,
	}
	s.PubSub = pubSubOf(info, n.commands, n.detailAt, n.detailWindow)
	for _, db := range s.Keyspace {
		s.Keys += db.Keys
	}

	if !n.health.Up {
		n.health = Health{Up: true, Since: now}
	}
	n.health.LastUp, n.health.Failures = now, 0
	n.health.RTT = rtt
	n.rtts.push(rtt)
	n.health.RTTMin, n.health.RTTAvg, n.health.RTTMax = rttStats(n.rtts)
	s.Health = n.health

	if rates.Valid {
		n.window.push(windowTick{time: now, dt: rates.Interval, hits: rates.Hits, misses: rates.Misses,
			evicted: rates.Evicted, rejected: rates.RejectedConnections})
		if rates.Evicted > 0 {
			n.evictingFor += rates.Interval
		} else {
			n.evictingFor = 0
		}
	}
	s.Window = n.windowAt(now)

	p := point{time: now, ops: nan, hitRate: nan, hits: nan, misses: nan, evicted: nan, expired: nan,
		netIn: nan, netOut: nan, cpu: nan,
		used: float64(s.Memory.Used), max: float64(s.Memory.Max),
		clients: float64(s.Clients.Connected), blocked: float64(s.Clients.Blocked),
		keys: float64(s.Keys), rttMsec: float64(rtt) / float64(time.Millisecond),
		pubsubChannels: float64(s.PubSub.Channels), pubsubPatterns: float64(s.PubSub.Patterns)}
	if rates.Valid {
		p.ops, p.hits, p.misses = rates.OpsPerSec, rates.HitsPerSec, rates.MissesPerSec
		p.evicted, p.expired = rates.EvictedPerSec, rates.ExpiredPerSec
		p.netIn, p.netOut, p.cpu = rates.NetInPerSec, rates.NetOutPerSec, rates.CPUPercent
		if rates.HitRateValid {
			p.hitRate = rates.HitRate
		}
	}
	n.history.push(p)
	s.History = historyOf(n.history)

	s.Alerts = Evaluate(s, n.opts.Thresholds)
	n.last = s
	return s
}

// down builds the snapshot of a failed tick and drops the baseline, so
// the first tick after recovery only rebaselines.
func (n *node) down(now time.Time, err error) *Snapshot {
	n.prev, n.prevDetail, n.prevHist = nil, nil, nil
	n.window.reset()
	n.evictingFor = 0
	// Everything is asked for again as soon as the server answers: it may
	// be another server now, with other permissions.
	n.lastDetail, n.lastSlowlog = time.Time{}, time.Time{}
	clear(n.refused)

	if n.health.Up || n.health.Since.IsZero() {
		n.health = Health{Since: now, LastUp: n.health.LastUp}
	}
	n.health.Up = false
	n.health.Err, n.health.Error, n.health.Reason = err, err.Error(), errorReason(err)
	n.health.Failures++
	n.health.RTT = 0

	n.seq++
	s := &Snapshot{Addr: n.addr, Unavailable: map[Panel]string{}}
	if n.last != nil {
		*s = *n.last // stale values; every slice and map in it is shared read-only
		s.Rates, s.Window = Rates{}, Window{}
	}
	s.Time, s.Seq, s.Health = now, n.seq, n.health
	n.history.push(downPoint(now))
	s.History = historyOf(n.history)
	s.Alerts = Evaluate(s, n.opts.Thresholds)
	return s
}

// windowAt sums the window ticks no older than Thresholds.Window.
func (n *node) windowAt(now time.Time) Window {
	w := Window{EvictingFor: n.evictingFor}
	from := now.Add(-n.opts.Thresholds.Window)
	for i := 0; i < n.window.len(); i++ {
		t := n.window.at(i)
		if !t.time.After(from) {
			continue
		}
		w.Span += t.dt
		w.Hits += t.hits
		w.Misses += t.misses
		w.Evicted += t.evicted
		w.RejectedConnections += t.rejected
	}
	if w.Hits+w.Misses > 0 {
		w.HitRate, w.HitRateValid = float64(w.Hits)/float64(w.Hits+w.Misses), true
	}
	for _, e := range n.slowlog {
		if e.New && e.FirstSeen.After(from) {
			w.NewSlowlog++
		}
	}
	return w
}

func (n *node) unavailable() map[Panel]string {
	out := make(map[Panel]string, len(n.refused))
	for p, r := range maps.All(n.refused) {
		out[p] = r.reason
	}
	return out
}
