package monitor

import (
	"sort"
	"time"
)

// detailSample is what a detail tick read: the command and error counters
// and the poller's own calls up to just before that tick's INFO.
type detailSample struct {
	local      time.Time
	serverUsec int64
	commands   map[string]CommandCounters
	errors     map[string]int64
	lifetime   map[string]map[string]float64
	ownCalls   map[string]int64 // the poller's processed calls by command name
	ownErrors  map[string]int64 // error replies the poller caused, by prefix
}

// wentDown reports whether a per-command or per-error counter decreased:
// CONFIG RESETSTAT clears them, so the deltas must not be used.
func (d *detailSample) wentDown(prev *detailSample) bool {
	for name, p := range prev.commands {
		if c, ok := d.commands[name]; ok && (c.Calls < p.Calls || c.Usec < p.Usec) {
			return true
		}
	}
	for prefix, p := range prev.errors {
		if c, ok := d.errors[prefix]; ok && c < p {
			return true
		}
	}
	return false
}

// commandStats builds the Commands and Errors of a snapshot. With prev nil
// (no baseline) only lifetime values are filled in. hist holds percentiles
// from histogram deltas, keyed by command.
func commandStats(prev, cur *detailSample, dt time.Duration, hist map[string]Percentiles) ([]CommandStat, []ErrorStat) {
	secs := dt.Seconds()
	rates := prev != nil && secs > 0
	cmds := make([]CommandStat, 0, len(cur.commands))
	for name, c := range cur.commands {
		s := CommandStat{Name: name, Calls: c.Calls, MeanUsec: c.UsecPerCall}
		if rates {
			p := prev.commands[name] // zero when new since the last sample
			own := cur.ownCalls[name] - prev.ownCalls[name]
			calls := max(c.Calls-p.Calls-own, 0)
			s.CallsPerSec = float64(calls) / secs
			s.RejectedPerSec = float64(max(c.RejectedCalls-p.RejectedCalls, 0)) / secs
			s.FailedPerSec = float64(max(c.FailedCalls-p.FailedCalls, 0)) / secs
			// usec cannot be split between the poller and the
			// application, so the mean covers every call in the window.
			if all := c.Calls - p.Calls; all > 0 {
				s.MeanUsec = float64(max(c.Usec-p.Usec, 0)) / float64(all)
			}
		}
		if ps, ok := hist[name]; ok {
			s.Latency = &ps
		}
		if lt, ok := cur.lifetime[name]; ok {
			p50, ok1 := lt["p50"]
			p99, ok2 := lt["p99"]
			if ok1 && ok2 {
				s.LifetimeLatency = &Percentiles{P50: p50, P99: p99}
			}
		}
		cmds = append(cmds, s)
	}
	sort.Slice(cmds, func(a, b int) bool {
		if cmds[a].CallsPerSec != cmds[b].CallsPerSec {
			return cmds[a].CallsPerSec > cmds[b].CallsPerSec
		}
		if cmds[a].Calls != cmds[b].Calls {
			return cmds[a].Calls > cmds[b].Calls
		}
		return cmds[a].Name < cmds[b].Name
	})

	errs := make([]ErrorStat, 0, len(cur.errors))
	for prefix, n := range cur.errors {
		e := ErrorStat{Prefix: prefix, Count: n}
		if rates {
			own := cur.ownErrors[prefix] - prev.ownErrors[prefix]
			e.PerSec = float64(max(n-prev.errors[prefix]-own, 0)) / secs
		}
		errs = append(errs, e)
	}
	sort.Slice(errs, func(a, b int) bool {
		if errs[a].PerSec != errs[b].PerSec {
			return errs[a].PerSec > errs[b].PerSec
		}
		if errs[a].Count != errs[b].Count {
			return errs[a].Count > errs[b].Count
		}
		return errs[a].Prefix < errs[b].Prefix
	})
	return cmds, errs
}

// cumulativeAt evaluates a cumulative histogram at bound usec: the count at
// the largest listed bound not above it. Listed bounds are the only places
// the count changes, so this is exact for any bound.
func cumulativeAt(buckets []Bucket, usec int64) int64 {
	i := sort.Search(len(buckets), func(i int) bool { return buckets[i].Usec > usec })
	if i == 0 {
		return 0
	}
	return buckets[i-1].Count
}

// histogramPercentiles estimates p50 and p99 of the calls between two
// histograms of one command (prev may be empty: counts since zero). It
// reports false when there were no calls or a count went down (a reset).
// Within a bucket the value is interpolated linearly, so results are
// estimates good to about the bucket width (a factor of two).
func histogramPercentiles(prev, cur Histogram) (Percentiles, bool) {
	if cur.Calls < prev.Calls {
		return Percentiles{}, false
	}
	// The window's distribution at each of cur's bounds; bounds only prev
	// lists cannot hold new calls (the cumulative count is flat there).
	delta := make([]Bucket, 0, len(cur.Buckets))
	for _, b := range cur.Buckets {
		d := b.Count - cumulativeAt(prev.Buckets, b.Usec)
		if d < 0 {
			return Percentiles{}, false
		}
		if n := len(delta); n > 0 && d < delta[n-1].Count {
			return Percentiles{}, false // not cumulative: malformed
		}
		delta = append(delta, Bucket{Usec: b.Usec, Count: d})
	}
	if len(delta) == 0 || delta[len(delta)-1].Count == 0 {
		return Percentiles{}, false
	}
	total := float64(delta[len(delta)-1].Count)
	quantile := func(q float64) float64 {
		target := q * total
		var lowBound, lowCount float64
		for _, b := range delta {
			if float64(b.Count) >= target {
				width := float64(b.Count) - lowCount
				if width <= 0 {
					return float64(b.Usec)
				}
				return lowBound + (float64(b.Usec)-lowBound)*(target-lowCount)/width
			}
			lowBound, lowCount = float64(b.Usec), float64(b.Count)
		}
		return float64(delta[len(delta)-1].Usec)
	}
	return Percentiles{P50: quantile(0.50), P99: quantile(0.99)}, true
}
