package cachecore

import (
	"strings"
	"sync"
	"sync/atomic"
)

// LimiterOtherName is the name under which [Limiter.Stats] counts the
// decisions of names beyond LimiterOptions.MaxNames. A limiter really named
// "other" shares its counts.
const LimiterOtherName = "other"

// LimiterCounts are the decisions made for one limiter name since the
// Limiter was created.
type LimiterCounts struct {
	// Allowed and Denied count the decisions returned for AllowN with
	// n >= 1, including those made by FailOpen when Redis could not be
	// asked. Peeks (n == 0) and bad input are not counted.
	Allowed, Denied uint64
	// Errors counts the decisions among Allowed and Denied that were made
	// without Redis (by LimiterOptions.FailOpen).
	Errors uint64
}

// LimiterStats is a snapshot of a Limiter's decision counts.
type LimiterStats struct {
	// ByName maps a limiter name, the part of the key before its first
	// ':' (the whole key when it has none), to its counts. It holds at most
	// LimiterOptions.MaxNames names plus [LimiterOtherName].
	ByName map[string]LimiterCounts
}

// Total sums the counts of every name.
func (s LimiterStats) Total() LimiterCounts {
	var t LimiterCounts
	for _, c := range s.ByName {
		t.Allowed += c.Allowed
		t.Denied += c.Denied
		t.Errors += c.Errors
	}
	return t
}

// Stats returns the decision counts per limiter name. Each count is exact
// (every decision is counted once, with atomic adds); the snapshot is not
// taken at one instant across names, so decisions made while it is taken
// may appear in some names and not others.
func (l *Limiter) Stats() LimiterStats {
	return l.stats.snapshot()
}

// limiterStats counts decisions per name without locks on the hot path:
// names are found in a sync.Map (lock-free reads once a name exists) and
// counted with atomics.
type limiterStats struct {
	names    sync.Map // string -> *limiterCounter
	size     atomic.Int64
	maxNames int64
	other    limiterCounter
}

type limiterCounter struct {
	allowed, denied, errors atomic.Uint64
}

func (s *limiterStats) init(maxNames int) { s.maxNames = int64(maxNames) }

// limiterName is the part of key before its first ':'.
func limiterName(key string) string {
	if i := strings.IndexByte(key, ':'); i >= 0 {
		return key[:i]
	}
	return key
}

func (s *limiterStats) counter(key string) *limiterCounter {
	name := limiterName(key)
	if c, ok := s.names.Load(name); ok {
		return c.(*limiterCounter)
	}
	// Reserve a slot before storing, so concurrent new names can never
	// push the map past maxNames.
	if s.size.Add(1) > s.maxNames {
		s.size.Add(-1)
		// Another goroutine may have just stored this very name.
		if c, ok := s.names.Load(name); ok {
			return c.(*limiterCounter)
		}
		return &s.other
	}
	// Clone: name may be a substring of a caller's large key, which the
	// map would otherwise keep alive.
	c, loaded := s.names.LoadOrStore(strings.Clone(name), new(limiterCounter))
	if loaded {
		s.size.Add(-1)
	}
	return c.(*limiterCounter)
}

func (s *limiterStats) record(key string, allowed, failed bool) {
	c := s.counter(key)
	if allowed {
		c.allowed.Add(1)
	} else {
		c.denied.Add(1)
	}
	if failed {
		c.errors.Add(1)
	}
}

func (s *limiterStats) snapshot() LimiterStats {
	out := LimiterStats{ByName: make(map[string]LimiterCounts)}
	s.names.Range(func(k, v any) bool {
		out.ByName[k.(string)] = v.(*limiterCounter).load()
		return true
	})
	if o := s.other.load(); o != (LimiterCounts{}) {
		prev := out.ByName[LimiterOtherName]
		out.ByName[LimiterOtherName] = LimiterCounts{
			Allowed: prev.Allowed + o.Allowed,
			Denied:  prev.Denied + o.Denied,
			Errors:  prev.Errors + o.Errors,
		}
	}
	return out
}

func (c *limiterCounter) load() LimiterCounts {
	return LimiterCounts{Allowed: c.allowed.Load(), Denied: c.denied.Load(), Errors: c.errors.Load()}
}
