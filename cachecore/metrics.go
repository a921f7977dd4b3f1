package cachecore

import (
	"github.com/prometheus/client_golang/prometheus"
)

// collector exposes a Cache's Stats as Prometheus metrics.
type collector struct {
	c *Cache

	hits, misses, sets, loads, invalidations *prometheus.Desc
	errors, loadDuration, breakerState       *prometheus.Desc
	breakerOpens                             *prometheus.Desc

	nearHits, nearMisses, nearEntries, nearBytes          *prometheus.Desc
	nearInvalidations, nearEvictions, nearFlushes, nearUp *prometheus.Desc
}

// NewCollector returns a Prometheus collector for c. Register it with
// prometheus.MustRegister. Every metric carries a constant label "cache"
// with the cache's Namespace, so several caches can be registered at once.
//
//	cache_hits_total{namespace}            lookups answered from the cache
//	cache_misses_total{namespace}          lookups that were not
//	cache_sets_total{namespace}            values written
//	cache_loads_total{namespace}           loader calls
//	cache_invalidations_total{namespace}   keys deleted
//	cache_errors_total{operation}          failed operations
//	cache_load_duration_seconds            histogram of loader durations
//	cache_circuit_breaker_state            0 closed, 1 half-open, 2 open
//	cache_circuit_breaker_opens_total      times the breaker opened
//	cache_near_hits_total                  reads answered by the near cache
//	cache_near_misses_total                reads the near cache sent to Redis
//	cache_near_entries, cache_near_bytes   what the near cache holds
//	cache_near_invalidations_total         near copies dropped after writes
//	cache_near_evictions_total             near copies dropped for room
//	cache_near_flushes_total               times the near cache was emptied
//	cache_near_up                          1 while the near cache is on
func NewCollector(c *Cache) prometheus.Collector {
	labels := prometheus.Labels{"cache": c.opts.Namespace}
	desc := func(name, help string, variable ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, variable, labels)
	}
	return &collector{
		c:             c,
		hits:          desc("cache_hits_total", "Cache lookups answered from Redis.", "namespace"),
		misses:        desc("cache_misses_total", "Cache lookups that found no usable value.", "namespace"),
		sets:          desc("cache_sets_total", "Values written to the cache.", "namespace"),
		loads:         desc("cache_loads_total", "Loader calls made on misses.", "namespace"),
		invalidations: desc("cache_invalidations_total", "Keys deleted by Delete and InvalidatePattern.", "namespace"),
		errors:        desc("cache_errors_total", "Failed cache operations.", "operation"),
		loadDuration:  desc("cache_load_duration_seconds", "Time spent in loaders."),
		breakerState:  desc("cache_circuit_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open."),
		breakerOpens:  desc("cache_circuit_breaker_opens_total", "Times the circuit breaker opened."),

		nearHits:          desc("cache_near_hits_total", "Reads answered by the near cache."),
		nearMisses:        desc("cache_near_misses_total", "Reads the near cache sent to Redis."),
		nearEntries:       desc("cache_near_entries", "Values held by the near cache."),
		nearBytes:         desc("cache_near_bytes", "Bytes held by the near cache."),
		nearInvalidations: desc("cache_near_invalidations_total", "Near cache copies dropped because their key was written."),
		nearEvictions:     desc("cache_near_evictions_total", "Near cache copies dropped to stay within its bounds."),
		nearFlushes:       desc("cache_near_flushes_total", "Times the near cache was emptied (tracking lost, or a flush)."),
		nearUp:            desc("cache_near_up", "1 while the near cache is on, 0 otherwise."),
	}
}

func (m *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.hits, m.misses, m.sets, m.loads, m.invalidations,
		m.errors, m.loadDuration, m.breakerState, m.breakerOpens, m.nearHits, m.nearMisses, m.nearEntries,
		m.nearBytes, m.nearInvalidations, m.nearEvictions, m.nearFlushes, m.nearUp} {
		ch <- d
	}
}

func (m *collector) Collect(ch chan<- prometheus.Metric) {
	s := m.c.Stats()
	counter := func(d *prometheus.Desc, v int64, label string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), label)
	}
	for name, n := range s.Namespaces {
		counter(m.hits, n.Hits, name)
		counter(m.misses, n.Misses, name)
		counter(m.sets, n.Sets, name)
		counter(m.loads, n.Loads, name)
		counter(m.invalidations, n.Invalidations, name)
	}
	for name, n := range s.ErrorsByOp {
		counter(m.errors, n, name)
	}
	h := s.LoadDurations
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[b.Seconds()] = h.Counts[i]
	}
	ch <- prometheus.MustNewConstHistogram(m.loadDuration, h.Count, h.Sum.Seconds(), buckets)
	ch <- prometheus.MustNewConstMetric(m.breakerState, prometheus.GaugeValue, float64(s.Breaker.State))
	ch <- prometheus.MustNewConstMetric(m.breakerOpens, prometheus.CounterValue, float64(s.Breaker.Opens))

	n := s.Near
	ch <- prometheus.MustNewConstMetric(m.nearHits, prometheus.CounterValue, float64(n.Hits))
	ch <- prometheus.MustNewConstMetric(m.nearMisses, prometheus.CounterValue, float64(n.Misses))
	ch <- prometheus.MustNewConstMetric(m.nearEntries, prometheus.GaugeValue, float64(n.Entries))
	ch <- prometheus.MustNewConstMetric(m.nearBytes, prometheus.GaugeValue, float64(n.Bytes))
	ch <- prometheus.MustNewConstMetric(m.nearInvalidations, prometheus.CounterValue, float64(n.Invalidations))
	ch <- prometheus.MustNewConstMetric(m.nearEvictions, prometheus.CounterValue, float64(n.Evictions))
	ch <- prometheus.MustNewConstMetric(m.nearFlushes, prometheus.CounterValue, float64(n.Flushes))
	up := 0.0
	if n.State == nearOn {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(m.nearUp, prometheus.GaugeValue, up)
}
