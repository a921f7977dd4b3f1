package monitor

import (
	"sort"
	"time"

	"github.com/cachescope/cachescope/cachecore"
)

// appState is what an AppPoller remembers between reads.
type appState struct {
	opts      AppOptions
	seq       uint64
	instances map[string]*appInstanceState

	times     *ring[time.Time]
	total     *nsSeries
	nsSeries  map[string]*nsSeries  // tracked namespace names, plus OtherName
	limSeries map[string]*limSeries // tracked limiter names, plus OtherName
}

func newAppState(opts AppOptions) appState {
	return appState{
		opts:      opts,
		instances: map[string]*appInstanceState{},
		times:     newRing[time.Time](opts.History),
		total:     newNSSeries(opts.History, 0),
		nsSeries:  map[string]*nsSeries{},
		limSeries: map[string]*limSeries{},
	}
}

// appInstanceState is one instance's last report and its recent deltas.
type appInstanceState struct {
	last     cachecore.TelemetryInstance
	lastSeen time.Time  // local time the report last changed
	deltas   []appDelta // oldest first, within the window
}

// appDelta is the difference between two consecutive reports of one
// process.
type appDelta struct {
	at    time.Time // the newer report's time (the instance's clock)
	dt    time.Duration
	total cachecore.Counts
	ns    map[string]cachecore.Counts
	lim   map[string]cachecore.LimiterCounts
}

// observe takes a new read of one instance.
func (st *appInstanceState) observe(inst cachecore.TelemetryInstance, now time.Time, window time.Duration) {
	prev := st.last
	if inst.Reported.Equal(prev.Reported) && inst.Started.Equal(prev.Started) {
		return // the same report as last time
	}
	st.last, st.lastSeen = inst, now
	dt := inst.Reported.Sub(prev.Reported)
	if !inst.Started.Equal(prev.Started) || dt <= 0 || wentDown(prev, inst) {
		st.deltas = nil // a restart (or a reset): rebaseline
		return
	}
	d := appDelta{at: inst.Reported, dt: dt, total: subCounts(inst.Total, prev.Total),
		ns: make(map[string]cachecore.Counts, len(inst.Namespaces)), lim: make(map[string]cachecore.LimiterCounts, len(inst.Limiters))}
	for name, c := range inst.Namespaces {
		d.ns[name] = subCounts(c, prev.Namespaces[name])
	}
	for name, c := range inst.Limiters {
		p := prev.Limiters[name]
		d.lim[name] = cachecore.LimiterCounts{Allowed: c.Allowed - p.Allowed, Denied: c.Denied - p.Denied, Errors: c.Errors - p.Errors}
	}
	st.deltas = append(st.deltas, d)
	// Keep the deltas of the window, and always the newest one: the window
	// is at least one report interval.
	from := inst.Reported.Add(-window)
	i := 0
	for i < len(st.deltas)-1 && !st.deltas[i].at.After(from) {
		i++
	}
	st.deltas = append([]appDelta(nil), st.deltas[i:]...)
}

// wentDown reports whether a cumulative counter of cur is below prev's:
// the process restarted with the same start time, or its counters were
// reset. A namespace or limiter that disappeared counts as gone down.
func wentDown(prev, cur cachecore.TelemetryInstance) bool {
	below := func(c, p cachecore.Counts) bool {
		return c.Hits < p.Hits || c.Misses < p.Misses || c.Errors < p.Errors || c.Sets < p.Sets ||
			c.Loads < p.Loads || c.Invalidations < p.Invalidations || c.LoadTime < p.LoadTime
	}
	for name, p := range prev.Namespaces {
		c, ok := cur.Namespaces[name]
		if !ok || below(c, p) {
			return true
		}
	}
	for name, p := range prev.Limiters {
		c, ok := cur.Limiters[name]
		if !ok || c.Allowed < p.Allowed || c.Denied < p.Denied || c.Errors < p.Errors {
			return true
		}
	}
	return cur.BreakerOpens < prev.BreakerOpens
}

func subCounts(a, b cachecore.Counts) cachecore.Counts {
	return cachecore.Counts{Hits: a.Hits - b.Hits, Misses: a.Misses - b.Misses, Errors: a.Errors - b.Errors,
		Sets: a.Sets - b.Sets, Loads: a.Loads - b.Loads, Invalidations: a.Invalidations - b.Invalidations,
		LoadTime: a.LoadTime - b.LoadTime}
}

// reportInterval is the instance's interval, or the poller's when the
// report does not say.
func (p *AppPoller) reportInterval(inst cachecore.TelemetryInstance) time.Duration {
	if inst.Interval > 0 {
		return inst.Interval
	}
	return p.opts.Interval
}

// update folds a read into the state and builds the snapshot.
func (p *AppPoller) update(now time.Time, read []cachecore.TelemetryInstance, err error) *AppSnapshot {
	p.seq++
	if err == nil {
		for _, inst := range read {
			st := p.instances[inst.ID]
			if st == nil {
				st = &appInstanceState{last: inst, lastSeen: now}
				p.instances[inst.ID] = st
				continue
			}
			st.observe(inst, now, p.opts.Window)
		}
	}
	// Fade out: stale after 1.5 intervals without a new report, dropped
	// after 3 (the poller's own interval added: it only looks that often).
	s := &AppSnapshot{Time: now, Seq: p.seq}
	ids := make([]string, 0, len(p.instances))
	for id, st := range p.instances {
		interval := p.reportInterval(st.last)
		if now.Sub(st.lastSeen) > 3*interval+p.opts.Interval {
			delete(p.instances, id)
			continue
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)

	total := newNSAcc()
	nsSums, limSums := map[string]*nsAcc{}, map[string]*limAcc{}
	for _, id := range ids {
		st := p.instances[id]
		interval := p.reportInterval(st.last)
		inst, nsAccs, limAccs, totalAcc := p.instanceRates(st)
		inst.Stale = now.Sub(st.lastSeen) > interval*3/2+p.opts.Interval
		s.Instances = append(s.Instances, inst)
		if inst.Stale {
			continue
		}
		s.Live++
		total.add(totalAcc)
		// By name, so that which names get their own place is stable.
		for _, name := range sortedKeys(nsAccs) {
			a := nsAccs[name]
			key := p.trackNS(name)
			if nsSums[key] == nil {
				nsSums[key] = newNSAcc()
			}
			nsSums[key].add(a)
		}
		for _, name := range sortedKeys(limAccs) {
			a := limAccs[name]
			key := p.trackLim(name)
			if limSums[key] == nil {
				limSums[key] = &limAcc{}
			}
			limSums[key].add(a)
		}
	}
	s.NoInstances = len(s.Instances) == 0
	if err != nil {
		s.Err, s.Error = err, err.Error()
	}
	p.history(now, s, total, nsSums, limSums)
	return s
}

// instanceRates computes one instance's rates over its window.
func (p *AppPoller) instanceRates(st *appInstanceState) (AppInstance, map[string]*nsAcc, map[string]*limAcc, *nsAcc) {
	r := st.last
	inst := AppInstance{ID: r.ID, Host: r.Host, PID: r.PID, Cache: r.Cache, Started: r.Started, Reported: r.Reported,
		Interval: r.Interval, LastSeen: st.lastSeen, RatesValid: len(st.deltas) > 0, Breaker: r.Breaker,
		BreakerOpens: r.BreakerOpens, ErrorsByOp: r.ErrorsByOp}
	var dt time.Duration
	for _, d := range st.deltas {
		dt += d.dt
	}
	total := newNSAcc()
	total.counts = r.Total
	nsAccs := map[string]*nsAcc{}
	for name, c := range r.Namespaces {
		a := newNSAcc()
		a.counts = c
		nsAccs[name] = a
	}
	limAccs := map[string]*limAcc{}
	for name, c := range r.Limiters {
		limAccs[name] = &limAcc{counts: c}
	}
	for _, d := range st.deltas {
		total.addDelta(d.total, dt)
		for name, c := range d.ns {
			if a := nsAccs[name]; a != nil {
				a.addDelta(c, dt)
			}
		}
		for name, c := range d.lim {
			if a := limAccs[name]; a != nil {
				a.addDelta(c, dt)
			}
		}
	}
	inst.Total = total.rates("")
	// The instance's own lists, capped like the sums.
	cappedNS, cappedLim := map[string]*nsAcc{}, map[string]*limAcc{}
	for _, name := range sortedKeys(nsAccs) {
		key := capName(name, len(cappedNS), p.opts.MaxNames, cappedNS)
		if cappedNS[key] == nil {
			cappedNS[key] = newNSAcc()
		}
		cappedNS[key].add(nsAccs[name])
	}
	for _, name := range sortedKeys(limAccs) {
		key := capName(name, len(cappedLim), p.opts.MaxNames, cappedLim)
		if cappedLim[key] == nil {
			cappedLim[key] = &limAcc{}
		}
		cappedLim[key].add(limAccs[name])
	}
	for _, name := range namesOtherLast(cappedNS) {
		inst.Namespaces = append(inst.Namespaces, cappedNS[name].rates(name))
	}
	for _, name := range namesOtherLast(cappedLim) {
		inst.Limiters = append(inst.Limiters, cappedLim[name].rates(name))
	}
	return inst, nsAccs, limAccs, total
}

// capName returns name, or OtherName when MaxNames-1 names are taken
// already (the last place is for OtherName).
func capName[V any](name string, taken, maxNames int, m map[string]V) string {
	if _, ok := m[name]; ok || name == OtherName {
		return name
	}
	if taken >= maxNames-1 {
		return OtherName
	}
	return name
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// namesOtherLast returns m's keys by name, with OtherName last.
func namesOtherLast[V any](m map[string]V) []string {
	names := sortedKeys(m)
	out := names[:0]
	other := false
	for _, n := range names {
		if n == OtherName {
			other = true
			continue
		}
		out = append(out, n)
	}
	if other {
		out = append(out, OtherName)
	}
	return out
}
