package monitor

import (
	"sort"
	"time"
)

// dropEpisodeGap is how long a tap must go without dropping before new
// drops make a new EventDropping.
const dropEpisodeGap = 2 * time.Second

// tapState is what the tap's lock guards.
type tapState struct {
	opts    TapOptions
	state   TapState
	started time.Time
	subUp   map[int]bool // subscriptions confirmed by the server, by index
	nsubs   int

	ring    *msgRing
	paused  bool
	seq     uint64 // last message number given
	skipped uint64

	channels map[channelKey]*channelCounter
	other    *channelCounter
	lastCut  int64 // the second of the last sweep of silent channels

	// totals counts every received message (dropped ones included) and
	// dropped the dropped ones, fed from the readers' atomic counters.
	totals, drops         *rateSeries
	fedRecv, fedRecvBytes uint64
	fedDrop               uint64
	lastDropAt            time.Time // when drops were last seen

	events      *ring[TapEvent]
	eventSeq    uint64
	disconnects int
}

type channelKey struct {
	name  string
	shard bool
}

type channelCounter struct {
	key         channelKey
	msgs, bytes uint64
	series      *rateSeries
	lastSeen    time.Time
}

func newTapState(opts TapOptions, nsubs int) tapState {
	return tapState{
		opts:     opts,
		state:    TapStopped,
		subUp:    map[int]bool{},
		nsubs:    nsubs,
		ring:     newMsgRing(opts.RingSize, opts.RingBytes),
		channels: map[channelKey]*channelCounter{},
		other:    &channelCounter{series: newRateSeries(opts.History)},
		totals:   newRateSeries(opts.History),
		drops:    newRateSeries(opts.History),
		events:   newRing[TapEvent](maxTapEvents),
	}
}

// account moves a batch of queued messages into the ring and the channel
// counters, numbering them. It is the only writer of the ring.
func (t *Tap) account(batch []TapMessage) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.sweepChannels(now)
	for i := range batch {
		m := &batch[i]
		t.seq++
		m.Seq = t.seq
		c := t.counterFor(channelKey{m.Channel, m.Shard})
		c.msgs++
		c.bytes += uint64(m.Size)
		c.series.add(m.Time, 1, float64(m.Size))
		c.lastSeen = m.Time
		if t.paused {
			t.skipped++
		} else {
			t.ring.push(*m)
		}
	}
	t.feedTotals(now)
}

// counterFor returns the channel's counter, or the "other" one when
// MaxChannels are tracked already.
func (t *Tap) counterFor(k channelKey) *channelCounter {
	if c, ok := t.channels[k]; ok {
		return c
	}
	if len(t.channels) >= t.opts.MaxChannels {
		return t.other
	}
	c := &channelCounter{key: k, series: newRateSeries(t.opts.History)}
	t.channels[k] = c
	return c
}

// sweepChannels frees, once a second, the places of channels silent for
// the whole history, so new channels can have them.
func (t *Tap) sweepChannels(now time.Time) {
	sec := secondOf(now)
	if sec == t.lastCut || len(t.channels) < t.opts.MaxChannels {
		return
	}
	t.lastCut = sec
	for k, c := range t.channels {
		if c.series.silentAt(sec) {
			delete(t.channels, k)
		}
	}
}

// feedTotals adds what the readers received and dropped since the last
// feed to the total rates, and opens or closes a dropping episode.
func (t *Tap) feedTotals(now time.Time) {
	recv, recvBytes, drop := t.received.Load(), t.receivedBytes.Load(), t.dropped.Load()
	if d := recv - t.fedRecv; d > 0 {
		t.totals.add(now, float64(d), float64(recvBytes-t.fedRecvBytes))
	}
	if newDrops := drop - t.fedDrop; newDrops > 0 {
		t.drops.add(now, float64(newDrops), 0)
		// One event per episode: drops after a quiet spell start a new one.
		if t.lastDropAt.IsZero() || now.Sub(t.lastDropAt) > dropEpisodeGap {
			t.addEvent(EventDropping, "", "the consumer fell behind: messages are dropped and counted")
		}
		t.lastDropAt = now
	}
	t.fedRecv, t.fedRecvBytes, t.fedDrop = recv, recvBytes, drop
}

// addEvent records an event; the caller holds the lock.
func (t *Tap) addEvent(kind TapEventKind, sub, detail string) {
	t.eventSeq++
	t.events.push(TapEvent{Seq: t.eventSeq, Time: t.now(), Kind: kind, Subscription: sub, Detail: detail})
}

// event records an event, taking the lock (readers' rare events).
func (t *Tap) event(kind TapEventKind, sub, detail string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.addEvent(kind, sub, detail)
}

// setSubscribed records whether subscription i is confirmed and updates
// the tap's state.
func (t *Tap) setSubscribed(i int, up bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !up && t.subUp[i] {
		t.disconnects++
	}
	t.subUp[i] = up
	switch {
	case t.state == TapStopped:
	case t.countUp() == t.nsubs:
		t.state = TapSubscribed
	case !up:
		t.state = TapReconnecting
	}
}

func (t *Tap) countUp() int {
	n := 0
	for _, up := range t.subUp {
		if up {
			n++
		}
	}
	return n
}

func (t *Tap) statsLocked(now time.Time) TapStats {
	s := TapStats{
		State:              t.state,
		Started:            t.started,
		Received:           t.received.Load(),
		ReceivedBytes:      t.receivedBytes.Load(),
		Accounted:          t.seq,
		Dropped:            t.dropped.Load(),
		DroppedBytes:       t.droppedBytes.Load(),
		SkippedWhilePaused: t.skipped,
		Disconnects:        t.disconnects,
		Paused:             t.paused,
		InRing:             t.ring.n,
		RingBytes:          t.ring.bytes,
	}
	if !t.started.IsZero() {
		s.MsgsPerSec, s.BytesPerSec = t.totals.rate(now, t.opts.RateWindow, t.started)
		s.DroppedPerSec, _ = t.drops.rate(now, t.opts.RateWindow, t.started)
	}
	return s
}

// channelRates returns the tracked channels, busiest first, and the
// aggregate of the others.
func (t *Tap) channelRates(now time.Time) ([]ChannelRate, ChannelRate) {
	rate := func(c *channelCounter) ChannelRate {
		r := ChannelRate{Channel: c.key.name, Shard: c.key.shard, Messages: c.msgs, Bytes: c.bytes,
			History: c.series.history(now), LastSeen: c.lastSeen}
		r.MsgsPerSec, r.BytesPerSec = c.series.rate(now, t.opts.RateWindow, t.started)
		return r
	}
	out := make([]ChannelRate, 0, len(t.channels))
	for _, c := range t.channels {
		out = append(out, rate(c))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].MsgsPerSec != out[j].MsgsPerSec {
			return out[i].MsgsPerSec > out[j].MsgsPerSec
		}
		if out[i].Channel != out[j].Channel {
			return out[i].Channel < out[j].Channel
		}
		return !out[i].Shard && out[j].Shard
	})
	var other ChannelRate
	if t.other.msgs > 0 {
		other = rate(t.other)
	}
	return out, other
}
