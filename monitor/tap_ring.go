package monitor

import (
	"slices"
	"strings"
)

// msgRing is the tap's message ring: at most cap messages and about
// maxBytes of payload; pushing beyond either bound drops the oldest. Not
// safe for concurrent use: the tap's lock guards it.
type msgRing struct {
	buf      []TapMessage
	start, n int
	bytes    int
	maxBytes int
}

// msgOverhead approximates what a message costs besides its payload and
// channel name, for the byte bound.
const msgOverhead = 96

func newMsgRing(capacity, maxBytes int) *msgRing {
	return &msgRing{buf: make([]TapMessage, max(capacity, 1)), maxBytes: maxBytes}
}

func msgCost(m *TapMessage) int {
	return len(m.Payload) + len(m.Channel) + len(m.Pattern) + msgOverhead
}

func (r *msgRing) push(m TapMessage) {
	if r.n == len(r.buf) {
		r.popOldest()
	}
	cost := msgCost(&m)
	for r.n > 0 && r.bytes+cost > r.maxBytes {
		r.popOldest()
	}
	r.buf[(r.start+r.n)%len(r.buf)] = m
	r.n++
	r.bytes += cost
}

func (r *msgRing) popOldest() {
	old := &r.buf[r.start]
	r.bytes -= msgCost(old)
	*old = TapMessage{} // let the payload go
	r.start = (r.start + 1) % len(r.buf)
	r.n--
}

func (r *msgRing) at(i int) *TapMessage { return &r.buf[(r.start+i)%len(r.buf)] }

// firstAfter returns the index of the first message with Seq > after (Seq
// grows along the ring).
func (r *msgRing) firstAfter(after uint64) int {
	lo, hi := 0, r.n
	for lo < hi {
		mid := (lo + hi) / 2
		if r.at(mid).Seq <= after {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// match returns copies of the newest f.Limit messages that match f,
// oldest first, and how many match in all. Only the returned messages are
// copied: the scan reads the ring in place.
func (r *msgRing) match(f TapFilter) ([]TapMessage, int) {
	from := r.firstAfter(f.After)
	filtered := f.Channel != "" || f.Text != ""
	if !filtered {
		n := r.n - from
		if f.Limit > 0 {
			from = max(from, r.n-f.Limit)
		}
		out := make([]TapMessage, r.n-from)
		for i := range out {
			out[i] = *r.at(from + i)
		}
		return out, n
	}
	var out []TapMessage
	matched := 0
	for i := r.n - 1; i >= from; i-- { // newest first, so Limit keeps the newest
		m := r.at(i)
		if f.Channel != "" && !containsFold(m.Channel, f.Channel) {
			continue
		}
		if f.Text != "" && !containsFold(m.Payload, f.Text) && !containsFold(m.Channel, f.Text) {
			continue
		}
		matched++
		if f.Limit <= 0 || len(out) < f.Limit {
			out = append(out, *m)
		}
	}
	slices.Reverse(out)
	return out, matched
}

func (r *msgRing) reset() {
	clear(r.buf)
	r.start, r.n, r.bytes = 0, 0, 0
}

// containsFold reports whether s contains sub, ignoring ASCII case,
// without allocating. Candidates are found with IndexByte (vectorised),
// so scanning a ring of payloads for a word is fast.
func containsFold(s, sub string) bool {
	if len(sub) == 0 {
		return true
	}
	lower, upper := lowerASCII(sub[0]), upperASCII(sub[0])
	for i := 0; i+len(sub) <= len(s); i++ {
		j := indexEither(s[i:len(s)-len(sub)+1], lower, upper)
		if j < 0 {
			return false
		}
		i += j
		if equalFoldASCII(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// indexEither returns the index of the first a or b in s, or -1.
func indexEither(s string, a, b byte) int {
	i := strings.IndexByte(s, a)
	if a == b {
		return i
	}
	before := s
	if i >= 0 {
		before = s[:i]
	}
	if j := strings.IndexByte(before, b); j >= 0 {
		return j
	}
	return i
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
