package monitor

import (
	"math"
	"time"
)

// History holds the time series of a poller, one value per tick, oldest
// first. All slices have the same length (at most Options.History) and the
// same index means the same tick. A value is NaN where there is none: the
// server was down, a rate had no baseline yet, or (for HitRate) there were
// no lookups. Use [math.IsNaN] before plotting.
type History struct {
	// Times are the ticks' times.
	Times []time.Time
	// OpsPerSec is Rates.OpsPerSec.
	OpsPerSec []float64
	// HitRate is Rates.HitRate (0..1), NaN when there were no lookups.
	HitRate []float64
	// HitsPerSec and MissesPerSec are Rates.HitsPerSec and MissesPerSec.
	HitsPerSec, MissesPerSec []float64
	// UsedMemory and MaxMemory are in bytes; MaxMemory is 0 when unlimited.
	UsedMemory, MaxMemory []float64
	// EvictedPerSec and ExpiredPerSec are Rates.EvictedPerSec and
	// ExpiredPerSec.
	EvictedPerSec, ExpiredPerSec []float64
	// Clients and BlockedClients are connection counts.
	Clients, BlockedClients []float64
	// NetInPerSec and NetOutPerSec are bytes per second.
	NetInPerSec, NetOutPerSec []float64
	// CPUPercent is Rates.CPUPercent.
	CPUPercent []float64
	// Keys is the total number of keys.
	Keys []float64
	// RTTMillis is the INFO round trip in milliseconds.
	RTTMillis []float64
	// PubSubChannels and PubSubPatterns are PubSubStats.Channels and
	// Patterns.
	PubSubChannels, PubSubPatterns []float64
}

// Len returns the number of points.
func (h History) Len() int { return len(h.Times) }

// point is one tick of history, as the ring stores it.
type point struct {
	time                              time.Time
	ops, hitRate, hits, misses        float64
	used, max                         float64
	evicted, expired                  float64
	clients, blocked                  float64
	netIn, netOut, cpu, keys, rttMsec float64
	pubsubChannels, pubsubPatterns    float64
}

var nan = math.NaN()

// downPoint is a tick where the server did not answer: a gap in every chart.
func downPoint(t time.Time) point {
	return point{time: t, ops: nan, hitRate: nan, hits: nan, misses: nan, used: nan, max: nan,
		evicted: nan, expired: nan, clients: nan, blocked: nan, netIn: nan, netOut: nan,
		cpu: nan, keys: nan, rttMsec: nan, pubsubChannels: nan, pubsubPatterns: nan}
}

// history converts the ring into column slices; the copy is what makes a
// Snapshot's History immutable while the ring moves on.
func historyOf(r *ring[point]) History {
	n := r.len()
	col := func() []float64 { return make([]float64, n) }
	h := History{
		Times: make([]time.Time, n), OpsPerSec: col(), HitRate: col(), HitsPerSec: col(), MissesPerSec: col(),
		UsedMemory: col(), MaxMemory: col(), EvictedPerSec: col(), ExpiredPerSec: col(),
		Clients: col(), BlockedClients: col(), NetInPerSec: col(), NetOutPerSec: col(),
		CPUPercent: col(), Keys: col(), RTTMillis: col(), PubSubChannels: col(), PubSubPatterns: col(),
	}
	for i := 0; i < n; i++ {
		p := r.at(i)
		h.Times[i] = p.time
		h.OpsPerSec[i], h.HitRate[i], h.HitsPerSec[i], h.MissesPerSec[i] = p.ops, p.hitRate, p.hits, p.misses
		h.UsedMemory[i], h.MaxMemory[i] = p.used, p.max
		h.EvictedPerSec[i], h.ExpiredPerSec[i] = p.evicted, p.expired
		h.Clients[i], h.BlockedClients[i] = p.clients, p.blocked
		h.NetInPerSec[i], h.NetOutPerSec[i] = p.netIn, p.netOut
		h.CPUPercent[i], h.Keys[i], h.RTTMillis[i] = p.cpu, p.keys, p.rttMsec
		h.PubSubChannels[i], h.PubSubPatterns[i] = p.pubsubChannels, p.pubsubPatterns
	}
	return h
}
