package cachecore

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// nearStore is the near cache's memory: a sharded map of raw values with
// an entry and a byte budget, evicting with CLOCK (second chance), so a hit
// takes only a shard's read lock and, the first time after a sweep, sets
// one atomic flag: no list to reorder under a write lock.
//
// A fill is two steps, begin before the Redis read and commit after it,
// because the read and the invalidation travel on different connections: a
// value read before a write can arrive after that write's invalidation. An
// invalidation (or a flush) that lands between begin and commit cancels the
// fill, so a stale value is never stored.
type nearStore struct {
	seed   maphash.Seed
	shards []nearShard
	epoch  atomic.Uint64 // bumped by every flush; fills from an older epoch are dropped

	maxEntryBytes int64
	evictions     atomic.Int64
}

type nearShard struct {
	mu       sync.RWMutex
	entries  map[string]*nearEntry
	clock    []*nearEntry // every entry, in insertion order; hand walks it
	hand     int
	pending  map[string]uint64 // key -> token of the fill in progress
	bytes    int64
	maxN     int
	maxBytes int64
	_        [40]byte // keep shards' hot fields on separate cache lines
}

type nearEntry struct {
	key     string
	raw     []byte
	expires int64 // unix nanoseconds
	size    int64
	slot    int // index in clock
	used    atomic.Bool
	decoded atomic.Pointer[nearDecoded] // see near_decoded.go
}

const nearShards = 16

// nearEntryOverhead approximates the bytes an entry costs beyond its key and
// value (the entry, its map slot and its clock slot).
const nearEntryOverhead = 96

func newNearStore(maxEntries int, maxBytes int64) *nearStore {
	s := &nearStore{seed: maphash.MakeSeed(), shards: make([]nearShard, nearShards)}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.entries = make(map[string]*nearEntry)
		sh.pending = make(map[string]uint64)
		// Split the budgets so that the shards' sum is exactly the total.
		sh.maxN = maxEntries / nearShards
		if i < maxEntries%nearShards {
			sh.maxN++
		}
		sh.maxBytes = maxBytes / nearShards
		if int64(i) < maxBytes%nearShards {
			sh.maxBytes++
		}
	}
	s.maxEntryBytes = maxBytes / nearShards
	return s
}

func (s *nearStore) shard(key string) *nearShard {
	return &s.shards[maphash.String(s.seed, key)%nearShards]
}

// get returns the value of key if it is held and not expired at now.
func (s *nearStore) get(key string, now int64) ([]byte, bool) {
	if e := s.entry(key, now); e != nil {
		return e.raw, true
	}
	return nil, false
}

// entry returns the entry of key if it is held and not expired at now.
func (s *nearStore) entry(key string, now int64) *nearEntry {
	sh := s.shard(key)
	sh.mu.RLock()
	e, ok := sh.entries[key]
	sh.mu.RUnlock()
	if !ok || now >= e.expires {
		return nil
	}
	if !e.used.Load() {
		e.used.Store(true)
	}
	return e
}

var nearTokens atomic.Uint64

// begin registers a fill of key and returns its token, or 0 when a fill of
// key is already in progress (the caller reads Redis but does not store).
func (s *nearStore) begin(key string) (token, epoch uint64) {
	epoch = s.epoch.Load()
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, busy := sh.pending[key]; busy {
		return 0, epoch
	}
	token = nearTokens.Add(1)
	sh.pending[key] = token
	return token, epoch
}

// commit stores raw under key if the fill is still valid: no invalidation
// of key and no flush since begin. ttl <= 0 means no bound from Redis;
// maxAge bounds every entry. raw == nil (an absent key) only ends the fill.
func (s *nearStore) commit(key string, token, epoch uint64, raw []byte, expires int64) {
	if token == 0 {
		return
	}
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.pending[key] != token {
		return // invalidated, flushed, or taken over
	}
	delete(sh.pending, key)
	if raw == nil || s.epoch.Load() != epoch {
		return
	}
	// The value counts twice: its bytes and room for a decoded copy.
	size := int64(len(key)+2*len(raw)) + nearEntryOverhead
	if size > s.maxEntryBytes || sh.maxN == 0 {
		return
	}
	if old, ok := sh.entries[key]; ok {
		sh.remove(old)
	}
	for len(sh.entries) >= sh.maxN || sh.bytes+size > sh.maxBytes {
		sh.evictOne()
		s.evictions.Add(1)
	}
	e := &nearEntry{key: key, raw: raw, expires: expires, size: size, slot: len(sh.clock)}
	sh.entries[key] = e
	sh.clock = append(sh.clock, e)
	sh.bytes += size
}

// cancel ends a fill that will not commit (the read failed).
func (s *nearStore) cancel(key string, token uint64) {
	if token == 0 {
		return
	}
	sh := s.shard(key)
	sh.mu.Lock()
	if sh.pending[key] == token {
		delete(sh.pending, key)
	}
	sh.mu.Unlock()
}

// invalidate drops key and cancels any fill of it in progress. It reports
// whether an entry was dropped.
func (s *nearStore) invalidate(key string) bool {
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	delete(sh.pending, key)
	e, ok := sh.entries[key]
	if ok {
		sh.remove(e)
	}
	return ok
}

// invalidateMatching drops every entry (and fill) whose key matches.
func (s *nearStore) invalidateMatching(match func(string) bool) int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k := range sh.pending {
			if match(k) {
				delete(sh.pending, k)
			}
		}
		for k, e := range sh.entries {
			if match(k) {
				sh.remove(e)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

// flush drops everything and makes every fill in progress void.
func (s *nearStore) flush() {
	s.epoch.Add(1)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		clear(sh.entries)
		clear(sh.pending)
		clear(sh.clock)
		sh.clock = sh.clock[:0]
		sh.hand, sh.bytes = 0, 0
		sh.mu.Unlock()
	}
}

// usage returns the entries and bytes held.
func (s *nearStore) usage() (entries int, bytes int64) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		entries += len(sh.entries)
		bytes += sh.bytes
		sh.mu.RUnlock()
	}
	return entries, bytes
}

// remove takes e out of the shard; the caller holds the write lock.
func (sh *nearShard) remove(e *nearEntry) {
	delete(sh.entries, e.key)
	last := len(sh.clock) - 1
	moved := sh.clock[last]
	sh.clock[e.slot] = moved
	moved.slot = e.slot
	sh.clock[last] = nil
	sh.clock = sh.clock[:last]
	if sh.hand >= len(sh.clock) {
		sh.hand = 0
	}
	sh.bytes -= e.size
}

// evictOne removes the first entry the clock hand finds unused since its
// last pass (clearing the flags it passes); the caller holds the write lock.
func (sh *nearShard) evictOne() {
	if len(sh.clock) == 0 {
		return
	}
	for {
		if sh.hand >= len(sh.clock) {
			sh.hand = 0
		}
		e := sh.clock[sh.hand]
		if e.used.Load() {
			e.used.Store(false)
			sh.hand++
			continue
		}
		sh.remove(e)
		return
	}
}

// expiresAt turns a Redis PTTL and the near cache's MaxAge into an absolute
// deadline.
func expiresAt(now time.Time, pttl, maxAge time.Duration) int64 {
	d := maxAge
	if pttl >= 0 && pttl < d {
		d = pttl
	}
	return now.Add(d).UnixNano()
}
