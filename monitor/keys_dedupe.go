package monitor

import "hash/maphash"

// keySet remembers which keys a browse session returned, as 64-bit hashes
// in an open-addressing table, so that its memory is 8 bytes per slot
// (at most 16 per key at the table's load factor) instead of the keys
// themselves. It stops growing at limit keys: past it, has still answers
// for the keys it holds and add does nothing. With a random seed per set,
// two distinct keys collide with a probability of about n²/2⁶⁵, negligible
// for the millions of keys it is meant for. Not safe for concurrent use.
type keySet struct {
	seed  maphash.Seed
	slots []uint64 // 0 is an empty slot
	n     int
	limit int
}

func newKeySet(limit int) *keySet {
	return &keySet{seed: maphash.MakeSeed(), slots: make([]uint64, 1024), limit: limit}
}

func (s *keySet) hash(key string) uint64 {
	h := maphash.String(s.seed, key)
	if h == 0 {
		h = 1
	}
	return h
}

// has reports whether key was added.
func (s *keySet) has(key string) bool {
	h := s.hash(key)
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			return false
		}
	}
}

// add remembers key, unless the set is full.
func (s *keySet) add(key string) {
	if s.n >= s.limit {
		return
	}
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	if s.insert(s.hash(key)) {
		s.n++
	}
}

func (s *keySet) insert(h uint64) bool {
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return false
		case 0:
			s.slots[i] = h
			return true
		}
	}
}

func (s *keySet) grow() {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	for _, h := range old {
		if h != 0 {
			s.insert(h)
		}
	}
}

// len returns how many keys the set holds.
func (s *keySet) len() int { return s.n }

// full reports whether the set stopped remembering new keys.
func (s *keySet) full() bool { return s.n >= s.limit }
