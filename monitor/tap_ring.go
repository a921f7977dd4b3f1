package monitor

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

// countAfter returns the number of messages with Seq > after.
func (r *msgRing) countAfter(after uint64) int { return r.n - r.firstAfter(after) }

// copyAfter copies the messages with Seq > after, oldest first: the newest
// limit of them (all when limit <= 0).
func (r *msgRing) copyAfter(after uint64, limit int) []TapMessage {
	from := r.firstAfter(after)
	if limit > 0 && r.n-from > limit {
		from = r.n - limit
	}
	out := make([]TapMessage, r.n-from)
	for i := range out {
		out[i] = *r.at(from + i)
	}
	return out
}

func (r *msgRing) reset() {
	clear(r.buf)
	r.start, r.n, r.bytes = 0, 0, 0
}

// filterMessages keeps the messages that match f's Channel and Text.
func filterMessages(msgs []TapMessage, f TapFilter) []TapMessage {
	out := msgs[:0]
	for _, m := range msgs {
		if f.Channel != "" && !containsFold(m.Channel, f.Channel) {
			continue
		}
		if f.Text != "" && !containsFold(m.Payload, f.Text) && !containsFold(m.Channel, f.Text) {
			continue
		}
		out = append(out, m)
	}
	clear(msgs[len(out):]) // drop references to what was filtered out
	return out
}

// containsFold reports whether s contains sub, ignoring ASCII case,
// without allocating.
func containsFold(s, sub string) bool {
	if len(sub) == 0 {
		return true
	}
	first := lowerASCII(sub[0])
	for i := 0; i+len(sub) <= len(s); i++ {
		if lowerASCII(s[i]) != first {
			continue
		}
		j := 1
		for j < len(sub) && lowerASCII(s[i+j]) == lowerASCII(sub[j]) {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
