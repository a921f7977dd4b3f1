package monitor

import (
	"time"

	"github.com/cachescope/cachescope/cachecore"
)

// nsAcc accumulates a namespace's counters and rates, for one instance
// (over its window) or summed over instances.
type nsAcc struct {
	counts, delta                          cachecore.Counts
	hits, misses, errors, loads, sets, inv float64 // per second
	valid                                  bool    // some rates are known
}

func newNSAcc() *nsAcc { return &nsAcc{} }

func addCounts(a *cachecore.Counts, b cachecore.Counts) {
	a.Hits += b.Hits
	a.Misses += b.Misses
	a.Errors += b.Errors
	a.Sets += b.Sets
	a.Loads += b.Loads
	a.Invalidations += b.Invalidations
	a.LoadTime += b.LoadTime
}

// addDelta adds one delta of an instance whose deltas cover span in all:
// the sum of its deltas over span is its rate over the window.
func (a *nsAcc) addDelta(d cachecore.Counts, span time.Duration) {
	secs := span.Seconds()
	if secs <= 0 {
		return
	}
	addCounts(&a.delta, d)
	a.hits += float64(d.Hits) / secs
	a.misses += float64(d.Misses) / secs
	a.errors += float64(d.Errors) / secs
	a.loads += float64(d.Loads) / secs
	a.sets += float64(d.Sets) / secs
	a.inv += float64(d.Invalidations) / secs
	a.valid = true
}

func (a *nsAcc) add(o *nsAcc) {
	addCounts(&a.counts, o.counts)
	addCounts(&a.delta, o.delta)
	a.hits += o.hits
	a.misses += o.misses
	a.errors += o.errors
	a.loads += o.loads
	a.sets += o.sets
	a.inv += o.inv
	a.valid = a.valid || o.valid
}

func (a *nsAcc) rates(name string) NamespaceRates {
	r := NamespaceRates{Name: name, Counts: a.counts, HitsPerSec: a.hits, MissesPerSec: a.misses,
		ErrorsPerSec: a.errors, LoadsPerSec: a.loads, SetsPerSec: a.sets, InvalidatedPerSec: a.inv}
	if n := a.delta.Hits + a.delta.Misses; n > 0 {
		r.HitRate, r.HitRateValid = float64(a.delta.Hits)/float64(n), true
	}
	if a.delta.Loads > 0 {
		r.MeanLoadTime, r.MeanLoadValid = a.delta.LoadTime/time.Duration(a.delta.Loads), true
	}
	return r
}

// limAcc is nsAcc for a limiter name.
type limAcc struct {
	counts, delta           cachecore.LimiterCounts
	allowed, denied, errors float64
	valid                   bool
}

func (a *limAcc) addDelta(d cachecore.LimiterCounts, span time.Duration) {
	secs := span.Seconds()
	if secs <= 0 {
		return
	}
	a.delta.Allowed += d.Allowed
	a.delta.Denied += d.Denied
	a.delta.Errors += d.Errors
	a.allowed += float64(d.Allowed) / secs
	a.denied += float64(d.Denied) / secs
	a.errors += float64(d.Errors) / secs
	a.valid = true
}

func (a *limAcc) add(o *limAcc) {
	a.counts.Allowed += o.counts.Allowed
	a.counts.Denied += o.counts.Denied
	a.counts.Errors += o.counts.Errors
	a.delta.Allowed += o.delta.Allowed
	a.delta.Denied += o.delta.Denied
	a.delta.Errors += o.delta.Errors
	a.allowed += o.allowed
	a.denied += o.denied
	a.errors += o.errors
	a.valid = a.valid || o.valid
}

func (a *limAcc) rates(name string) LimiterRates {
	r := LimiterRates{Name: name, Counts: a.counts, AllowedPerSec: a.allowed, DeniedPerSec: a.denied, ErrorsPerSec: a.errors}
	if n := a.delta.Allowed + a.delta.Denied; n > 0 {
		r.DenyRatio, r.DenyRatioValid = float64(a.delta.Denied)/float64(n), true
	}
	return r
}

// nsSeries are a tracked namespace's history rings.
type nsSeries struct {
	hitRate, hits, misses, errors, loads, meanLoad *ring[float64]
	lastPresent                                    uint64 // seq of the last read it had figures in
}

// newNSSeries returns series of capacity points, with gaps (NaN) for the
// points taken before the name was tracked.
func newNSSeries(capacity, gaps int) *nsSeries {
	s := &nsSeries{hitRate: newRing[float64](capacity), hits: newRing[float64](capacity), misses: newRing[float64](capacity),
		errors: newRing[float64](capacity), loads: newRing[float64](capacity), meanLoad: newRing[float64](capacity)}
	for range gaps {
		s.push(nil)
	}
	return s
}

// push adds a point: a's rates, or gaps when a is nil or has none.
func (s *nsSeries) push(a *nsAcc) {
	if a == nil || !a.valid {
		for _, r := range []*ring[float64]{s.hitRate, s.hits, s.misses, s.errors, s.loads, s.meanLoad} {
			r.push(nan)
		}
		return
	}
	r := a.rates("")
	s.hits.push(r.HitsPerSec)
	s.misses.push(r.MissesPerSec)
	s.errors.push(r.ErrorsPerSec)
	s.loads.push(r.LoadsPerSec)
	if r.HitRateValid {
		s.hitRate.push(r.HitRate)
	} else {
		s.hitRate.push(nan)
	}
	if r.MeanLoadValid {
		s.meanLoad.push(float64(r.MeanLoadTime) / float64(time.Millisecond))
	} else {
		s.meanLoad.push(nan)
	}
}

func (s *nsSeries) history() NamespaceHistory {
	return NamespaceHistory{HitRate: s.hitRate.slice(), HitsPerSec: s.hits.slice(), MissesPerSec: s.misses.slice(),
		ErrorsPerSec: s.errors.slice(), LoadsPerSec: s.loads.slice(), MeanLoadMillis: s.meanLoad.slice()}
}

// limSeries are a tracked limiter's history rings.
type limSeries struct {
	allowed, denied, ratio *ring[float64]
	lastPresent            uint64
}

func newLimSeries(capacity, gaps int) *limSeries {
	s := &limSeries{allowed: newRing[float64](capacity), denied: newRing[float64](capacity), ratio: newRing[float64](capacity)}
	for range gaps {
		s.push(nil)
	}
	return s
}

func (s *limSeries) push(a *limAcc) {
	if a == nil || !a.valid {
		s.allowed.push(nan)
		s.denied.push(nan)
		s.ratio.push(nan)
		return
	}
	r := a.rates("")
	s.allowed.push(r.AllowedPerSec)
	s.denied.push(r.DeniedPerSec)
	if r.DenyRatioValid {
		s.ratio.push(r.DenyRatio)
	} else {
		s.ratio.push(nan)
	}
}

func (s *limSeries) history() LimiterHistory {
	return LimiterHistory{AllowedPerSec: s.allowed.slice(), DeniedPerSec: s.denied.slice(), DenyRatio: s.ratio.slice()}
}

// trackNS returns the key a namespace is summed under: its own name while
// fewer than MaxNames-1 names are tracked (or it is tracked already), else
// OtherName. A new name's series start with gaps.
func (p *AppPoller) trackNS(name string) string {
	name = trackName(p.nsSeries, name, p.opts.MaxNames, func() *nsSeries { return newNSSeries(p.opts.History, p.times.len()) })
	p.nsSeries[name].lastPresent = p.seq
	return name
}

// trackLim is trackNS for limiter names.
func (p *AppPoller) trackLim(name string) string {
	name = trackName(p.limSeries, name, p.opts.MaxNames, func() *limSeries { return newLimSeries(p.opts.History, p.times.len()) })
	p.limSeries[name].lastPresent = p.seq
	return name
}

// trackName returns the key name is summed under in series (its own, or
// OtherName once maxNames-1 others are tracked), adding a new series for
// it when there is none.
func trackName[S any](series map[string]S, name string, maxNames int, newSeries func() S) string {
	if _, ok := series[name]; ok {
		return name
	}
	tracked := len(series)
	if _, other := series[OtherName]; other {
		tracked--
	}
	if name != OtherName && tracked >= maxNames-1 {
		name = OtherName
	}
	if _, ok := series[name]; !ok {
		series[name] = newSeries()
	}
	return name
}

// history adds this read's point to every series, forgets names absent
// for a whole history, and fills the snapshot's sums.
func (p *AppPoller) history(now time.Time, s *AppSnapshot, total *nsAcc, nsSums map[string]*nsAcc, limSums map[string]*limAcc) {
	p.times.push(now)
	p.total.push(total)
	s.HistoryTimes = p.times.slice()
	s.Total = total.rates("")
	s.Total.History = p.total.history()
	forget := uint64(p.opts.History)
	for name, series := range p.nsSeries {
		series.push(nsSums[name])
		if p.seq-series.lastPresent >= forget {
			delete(p.nsSeries, name)
		}
	}
	for name, series := range p.limSeries {
		series.push(limSums[name])
		if p.seq-series.lastPresent >= forget {
			delete(p.limSeries, name)
		}
	}
	for _, name := range namesOtherLast(nsSums) {
		r := nsSums[name].rates(name)
		if series := p.nsSeries[name]; series != nil {
			r.History = series.history()
		}
		s.Namespaces = append(s.Namespaces, r)
	}
	for _, name := range namesOtherLast(limSums) {
		r := limSums[name].rates(name)
		if series := p.limSeries[name]; series != nil {
			r.History = series.history()
		}
		s.Limiters = append(s.Limiters, r)
	}
}
