package monitor

import (
	"maps"
	"time"
)

// up builds the snapshot of a successful tick.
func (n *node) up(now time.Time, info Info, rates Rates, rtt time.Duration) *Snapshot {
	s := &Snapshot{
		Addr:          n.addr,
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
	n.series.up(now, s, rtt)
	n.decorate(s)
	s.Alerts = Evaluate(s, n.opts.Thresholds)
	n.series.keep(s)
	return s
}

// down builds the snapshot of a failed tick and drops the baseline, so
// the first tick after recovery only rebaselines.
func (n *node) down(now time.Time, err error) *Snapshot {
	n.prev, n.prevDetail, n.prevHist = nil, nil, nil
	// Everything is asked for again as soon as the server answers: it may
	// be another server now, with other permissions.
	n.lastDetail, n.lastSlowlog = time.Time{}, time.Time{}
	clear(n.refused)

	s := n.series.down(now, n.addr, err)
	n.decorate(s)
	s.Alerts = Evaluate(s, n.opts.Thresholds)
	return s
}

func (n *node) unavailable() map[Panel]string {
	out := make(map[Panel]string, len(n.refused))
	for p, r := range maps.All(n.refused) {
		out[p] = r.reason
	}
	return out
}
