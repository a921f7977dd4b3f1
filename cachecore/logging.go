package cachecore

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

type atomicCounter = atomic.Int64

// errorLog logs swallowed errors at most once per interval, and says how
// many it suppressed in between, so a Redis outage under load produces a
// line every few seconds rather than one per call.
type errorLog struct {
	logger     *slog.Logger
	every      time.Duration
	now        func() time.Time
	next       atomic.Int64 // unix nanoseconds before which lines are suppressed
	suppressed atomic.Int64
}

func (l *errorLog) log(op, key string, err error) {
	now := l.now().UnixNano()
	next := l.next.Load()
	if now < next || !l.next.CompareAndSwap(next, now+int64(l.every)) {
		l.suppressed.Add(1)
		return
	}
	l.logger.Warn("cachecore: operation failed", "op", op, "key", key, "error", err,
		"suppressed", l.suppressed.Swap(0))
}

// keySet is a set of keys with an atomic add, for "once per key" work.
type keySet struct{ m sync.Map }

// add reports whether key was added (false if already present).
func (s *keySet) add(key string) bool {
	_, loaded := s.m.LoadOrStore(key, struct{}{})
	return !loaded
}

func (s *keySet) remove(key string) { s.m.Delete(key) }
