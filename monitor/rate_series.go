package monitor

import "time"

// rateSeries counts events (and their bytes) in one-second buckets, the
// last len(msgs) seconds of them, for windowed rates and sparklines. A
// bucket is keyed by its absolute second, so time that passes without
// events needs no work: buckets older than the newest written one by the
// series' length read as zero. Not safe for concurrent use.
type rateSeries struct {
	msgs, bytes []float64
	newest      int64 // absolute second of the newest bucket written
	written     bool
}

func newRateSeries(seconds int) *rateSeries {
	return &rateSeries{msgs: make([]float64, seconds), bytes: make([]float64, seconds)}
}

func secondOf(t time.Time) int64 { return t.Unix() }

func (r *rateSeries) slot(sec int64) int {
	n := int64(len(r.msgs))
	return int(((sec % n) + n) % n)
}

// add counts n events of size bytes at t. Events older than the series'
// span are ignored; events a little out of order land in their bucket.
func (r *rateSeries) add(t time.Time, n, bytes float64) {
	sec := secondOf(t)
	span := int64(len(r.msgs))
	switch {
	case !r.written:
		clear(r.msgs)
		clear(r.bytes)
		r.newest, r.written = sec, true
	case sec > r.newest:
		// Zero the buckets skipped since the newest one (at most all).
		for s := r.newest + 1; s <= sec && s <= r.newest+span; s++ {
			i := r.slot(s)
			r.msgs[i], r.bytes[i] = 0, 0
		}
		r.newest = sec
	case sec <= r.newest-span:
		return
	}
	i := r.slot(sec)
	r.msgs[i] += n
	r.bytes[i] += bytes
}

// at returns the counts of second sec.
func (r *rateSeries) at(sec int64) (float64, float64) {
	if !r.written || sec > r.newest || sec <= r.newest-int64(len(r.msgs)) {
		return 0, 0
	}
	i := r.slot(sec)
	return r.msgs[i], r.bytes[i]
}

// rate returns events and bytes per second over the window ending at now:
// the whole seconds before now's, plus now's partial second, divided by
// the time they cover (less before since, when the counting began later).
func (r *rateSeries) rate(now time.Time, window time.Duration, since time.Time) (float64, float64) {
	secs := int64(window / time.Second)
	secs = max(min(secs, int64(len(r.msgs))), 1)
	cur := secondOf(now)
	from := time.Unix(cur-secs+1, 0)
	if since.After(from) {
		from = since
	}
	span := now.Sub(from).Seconds()
	if span <= 0 {
		return 0, 0
	}
	var msgs, bytes float64
	for s := cur - secs + 1; s <= cur; s++ {
		m, b := r.at(s)
		msgs += m
		bytes += b
	}
	// A span shorter than a quarter second makes a noisy rate from a
	// handful of events: report it over a quarter second at least.
	return msgs / max(span, 0.25), bytes / max(span, 0.25)
}

// history returns the per-second counts of the series' span ending at
// now's second, oldest first.
func (r *rateSeries) history(now time.Time) []float64 {
	n := len(r.msgs)
	out := make([]float64, n)
	cur := secondOf(now)
	for i := range out {
		out[i], _ = r.at(cur - int64(n-1-i))
	}
	return out
}

// silentAt reports whether the series reads all zero at second sec: no
// event was counted in the span that ends there.
func (r *rateSeries) silentAt(sec int64) bool {
	return !r.written || r.newest <= sec-int64(len(r.msgs))
}
