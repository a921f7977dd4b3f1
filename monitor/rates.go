package monitor

import "time"

// counters are the cumulative values of one tick's INFO that rates are
// computed from.
type counters struct {
	runID      string
	local      time.Time // reply arrival, with a monotonic reading
	serverUsec int64     // server_time_usec; 0 when not reported

	uptime                        int64
	commands, connections         int64
	hits, misses                  int64
	ownHits, ownMisses            int64 // Options.Lookups when the INFO was read
	evicted, expired              int64
	netIn, netOut                 int64
	rejected, errors              int64
	cpu                           float64 // used_cpu_sys + used_cpu_user, seconds
	hasErrors, hasCPU, hasNetwork bool
}

func countersOf(info Info, local time.Time) counters {
	get := func(key string) int64 { n, _ := info.Int(key); return n }
	c := counters{
		runID:       info.String("run_id"),
		local:       local,
		serverUsec:  get("server_time_usec"),
		uptime:      get("uptime_in_seconds"),
		commands:    get("total_commands_processed"),
		connections: get("total_connections_received"),
		hits:        get("keyspace_hits"),
		misses:      get("keyspace_misses"),
		evicted:     get("evicted_keys"),
		expired:     get("expired_keys"),
		netIn:       get("total_net_input_bytes"),
		netOut:      get("total_net_output_bytes"),
		rejected:    get("rejected_connections"),
		errors:      get("total_error_replies"),
	}
	_, c.hasErrors = info.Int("total_error_replies")
	_, c.hasNetwork = info.Int("total_net_input_bytes")
	sys, ok1 := info.Float("used_cpu_sys")
	user, ok2 := info.Float("used_cpu_user")
	c.cpu, c.hasCPU = sys+user, ok1 && ok2
	return c
}

// wentDown reports whether any cumulative counter decreased since prev: the
// statistics were reset (CONFIG RESETSTAT) or the process restarted. Either
// way the deltas mean nothing and the tick must only rebaseline.
func (c counters) wentDown(prev counters) bool {
	return c.uptime < prev.uptime ||
		c.commands < prev.commands || c.connections < prev.connections ||
		c.hits < prev.hits || c.misses < prev.misses ||
		c.evicted < prev.evicted || c.expired < prev.expired ||
		c.netIn < prev.netIn || c.netOut < prev.netOut ||
		c.rejected < prev.rejected || c.errors < prev.errors ||
		c.cpu < prev.cpu
}

// interval returns the time between two ticks. The server's own clock
// (server_time_usec, Redis 6.2+) says when the counters were read, which
// local arrival times blur by the round trip; it is used unless it
// disagrees wildly with the local clock (a clock step on the server).
func interval(prev, cur counters) time.Duration {
	local := cur.local.Sub(prev.local)
	if prev.serverUsec > 0 && cur.serverUsec > prev.serverUsec {
		server := time.Duration(cur.serverUsec-prev.serverUsec) * time.Microsecond
		if server > local/2 && server < local*2 {
			return server
		}
	}
	return local
}

// ownTraffic is what the poller itself sent and received, cumulatively;
// the difference between two marks is subtracted from the server's
// counters.
type ownTraffic struct {
	commands int64 // commands the server processed (not refused ones)
	errors   int64 // error replies the poller's commands caused
	netIn    int64 // bytes the server read from the poller (requests)
	netOut   int64 // bytes the server wrote to the poller (replies), estimated
}

func (a ownTraffic) sub(b ownTraffic) ownTraffic {
	return ownTraffic{a.commands - b.commands, a.errors - b.errors, a.netIn - b.netIn, a.netOut - b.netOut}
}

// computeRates derives per-second rates from two ticks of the same
// baseline, less the poller's own traffic between them. Deltas are clamped
// at zero: own-traffic estimates may overshoot slightly.
func computeRates(prev, cur counters, own ownTraffic) Rates {
	dt := interval(prev, cur)
	if dt <= 0 {
		return Rates{}
	}
	secs := dt.Seconds()
	perSec := func(delta int64) float64 { return float64(max(delta, 0)) / secs }
	// The keyspace lookups cachescope itself caused (browsing keys) are not
	// the application's: they must not move its hit rate.
	hits := max(cur.hits-prev.hits-(cur.ownHits-prev.ownHits), 0)
	misses := max(cur.misses-prev.misses-(cur.ownMisses-prev.ownMisses), 0)
	r := Rates{
		Valid:               true,
		Interval:            dt,
		OpsPerSec:           perSec(cur.commands - prev.commands - own.commands),
		HitsPerSec:          perSec(hits),
		MissesPerSec:        perSec(misses),
		EvictedPerSec:       perSec(cur.evicted - prev.evicted),
		ExpiredPerSec:       perSec(cur.expired - prev.expired),
		ConnectionsPerSec:   perSec(cur.connections - prev.connections),
		RejectedConnections: max(cur.rejected-prev.rejected, 0),
		Evicted:             max(cur.evicted-prev.evicted, 0),
	}
	if cur.hasNetwork {
		r.NetInPerSec = perSec(cur.netIn - prev.netIn - own.netIn)
		r.NetOutPerSec = perSec(cur.netOut - prev.netOut - own.netOut)
	}
	if cur.hasErrors {
		r.ErrorsPerSec = perSec(cur.errors - prev.errors - own.errors)
	}
	if cur.hasCPU {
		r.CPUPercent = max(cur.cpu-prev.cpu, 0) / secs * 100
	}
	r.Hits, r.Misses = hits, misses
	if r.Hits+r.Misses > 0 {
		r.HitRate, r.HitRateValid = float64(r.Hits)/float64(r.Hits+r.Misses), true
	}
	return r
}
