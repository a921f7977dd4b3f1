package monitor

import (
	"context"
	"fmt"
	"maps"
	"time"
)

func errUnexpectedReply(cmd string, v any) error {
	return fmt.Errorf("monitor: unexpected %s reply of type %T", cmd, v)
}

// tick samples the server once and returns the new snapshot. With all set,
// every tier runs regardless of when it last did (the one-shot Sample).
func (n *node) tick(ctx context.Context, all bool) *Snapshot {
	n.mu.Lock()
	defer n.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
	defer cancel()

	start := n.now()
	if n.unsupported != nil {
		return n.down(start, n.unsupported)
	}
	detail := (all || n.due(n.lastDetail, n.opts.DetailInterval, start)) && n.available(PanelCommandStats, start)
	// The own-call counts a detail sample is corrected by are those up to
	// just before its INFO, like the tick's own mark.
	ownCalls, ownErrors := maps.Clone(n.ownCalls), maps.Clone(n.ownErrors)

	text, rtt, mark, err := n.readInfo(ctx, detail)
	if err != nil && detail && isServerError(err) {
		// A server that refuses INFO all (an embedded or proxied one)
		// loses the command statistics, not the whole tick.
		n.refused[PanelCommandStats] = refusal{reason: err.Error(), at: start}
		n.lastDetail, detail = start, false
		text, rtt, mark, err = n.readInfo(ctx, false)
	}
	now := n.now()
	if err != nil {
		return n.down(now, err)
	}
	info := ParseInfo(text)
	cur := countersOf(info, now)
	if n.opts.Lookups != nil {
		cur.ownHits, cur.ownMisses = n.opts.Lookups.Load()
	}

	rebaseline := n.prev == nil || cur.runID != n.prev.counters.runID || cur.wentDown(n.prev.counters)
	if n.prev != nil && cur.runID != n.prev.counters.runID {
		n.restarted()
	}
	var rates Rates
	if rebaseline {
		n.prevDetail, n.prevHist = nil, nil
		n.series.rebaseline()
	} else {
		rates = computeRates(n.prev.counters, cur, mark.sub(n.prev.mark))
	}
	n.prev = &tickBase{counters: cur, mark: mark}

	if detail {
		n.readDetail(ctx, info, cur, ownCalls, ownErrors, now)
	}
	if all || n.due(n.lastSlowlog, n.opts.SlowlogInterval, now) {
		n.readSlowlog(ctx, now)
	}
	return n.up(now, info, rates, rtt)
}

// restarted forgets what belongs to the previous server process: slowlog
// ids start again from 0, and a refused command may be allowed now.
func (n *node) restarted() {
	n.slowlogMaxID = -1
	clear(n.refused)
}

// readDetail refreshes the per-command and per-error statistics from the
// detail sections of this tick's INFO, and the windowed percentiles from
// LATENCY HISTOGRAM.
func (n *node) readDetail(ctx context.Context, info Info, cur counters, ownCalls, ownErrors map[string]int64, now time.Time) {
	if !info.Has("commandstats") {
		n.refused[PanelCommandStats] = refusal{reason: "commandstats not reported by the server", at: now}
		n.lastDetail = now
		return
	}
	delete(n.refused, PanelCommandStats)
	d := &detailSample{
		local:      cur.local,
		serverUsec: cur.serverUsec,
		commands:   info.CommandStats(),
		errors:     info.ErrorStats(),
		lifetime:   info.LatencyPercentiles(),
		ownCalls:   ownCalls,
		ownErrors:  ownErrors,
	}
	if n.prevDetail != nil && d.wentDown(n.prevDetail) {
		n.prevDetail, n.prevHist = nil, nil
	}

	var percentiles map[string]Percentiles
	if n.available(PanelLatencyHistogram, now) {
		v, err := n.call(ctx, "latency|histogram", "latency", "histogram")
		var hist map[string]histogram
		if err == nil {
			hist, err = parseLatencyHistogram(v)
		}
		switch {
		case err != nil:
			n.refuse(PanelLatencyHistogram, err, now)
			n.prevHist = nil
		default:
			delete(n.refused, PanelLatencyHistogram)
			if n.prevDetail != nil && n.prevHist != nil {
				percentiles = make(map[string]Percentiles, len(hist))
				for name, h := range hist {
					if p, ok := histogramPercentiles(n.prevHist[name], h); ok {
						percentiles[name] = p
					}
				}
			}
			n.prevHist = hist
		}
	}

	var dt time.Duration
	if n.prevDetail != nil {
		dt = interval(counters{local: n.prevDetail.local, serverUsec: n.prevDetail.serverUsec}, cur)
	}
	if dt <= 0 {
		n.commands, n.errors = commandStats(nil, d, 0, percentiles)
	} else {
		n.commands, n.errors = commandStats(n.prevDetail, d, dt, percentiles)
	}
	n.prevDetail, n.detailAt, n.detailWindow, n.lastDetail = d, now, dt, now
}

// readSlowlog fetches new SLOWLOG entries and LATENCY LATEST.
func (n *node) readSlowlog(ctx context.Context, now time.Time) {
	n.lastSlowlog = now
	if n.available(PanelSlowlog, now) {
		v, err := n.call(ctx, "slowlog|get", "slowlog", "get", n.opts.SlowlogCount)
		var entries []SlowlogEntry
		if err == nil {
			entries, err = parseSlowlog(v)
		}
		if err != nil {
			n.refuse(PanelSlowlog, err, now)
		} else {
			delete(n.refused, PanelSlowlog)
			n.mergeSlowlog(entries, now)
		}
	}
	if n.available(PanelLatencyEvents, now) {
		v, err := n.call(ctx, "latency|latest", "latency", "latest")
		var events []LatencyEvent
		if err == nil {
			events, err = parseLatencyLatest(v)
		}
		if err != nil {
			n.refuse(PanelLatencyEvents, err, now)
		} else {
			delete(n.refused, PanelLatencyEvents)
			if n.member {
				for i := range events {
					events[i].Node = n.addr
				}
			}
			n.latencyEvents = events
		}
	}
}

// mergeSlowlog adds the entries not seen before (ids above the highest seen)
// to the front of the kept list. Entries in the log at the poller's first
// fetch are kept for display but are not New.
func (n *node) mergeSlowlog(entries []SlowlogEntry, now time.Time) {
	var fresh []SlowlogEntry
	maxID := n.slowlogMaxID
	for _, e := range entries { // newest first, as SLOWLOG GET returns them
		if e.ID <= n.slowlogMaxID {
			continue
		}
		e.FirstSeen, e.New = now, n.slowlogBaselined
		if n.member {
			e.Node = n.addr
		}
		fresh = append(fresh, e)
		maxID = max(maxID, e.ID)
	}
	n.slowlogMaxID = maxID
	n.slowlogBaselined = true
	if len(fresh) == 0 {
		return
	}
	// A new slice each time: snapshots already handed out keep theirs.
	kept := make([]SlowlogEntry, 0, min(len(fresh)+len(n.slowlog), n.opts.SlowlogKeep))
	kept = append(kept, fresh...)
	kept = append(kept, n.slowlog...)
	if len(kept) > n.opts.SlowlogKeep {
		kept = kept[:n.opts.SlowlogKeep]
	}
	n.slowlog = kept
}
