package monitor

import (
	"net"
	"sort"
	"strconv"
	"strings"
)

// KeyspaceDB is one line of INFO keyspace, such as
// "db0:keys=10,expires=2,avg_ttl=3000".
type KeyspaceDB struct {
	// DB is the database number.
	DB int
	// Keys is the number of keys.
	Keys int64
	// Expires is the number of keys with a time to live.
	Expires int64
	// AvgTTL is the server's estimate of the average TTL, in milliseconds.
	AvgTTL int64
}

// Keyspace returns the databases of the keyspace section, ordered by number.
// Lines that are not "db<N>:..." are ignored.
func (i Info) Keyspace() []KeyspaceDB {
	var out []KeyspaceDB
	for key, value := range i.Sections["keyspace"] {
		num, ok := strings.CutPrefix(key, "db")
		if !ok {
			continue
		}
		db, err := strconv.Atoi(num)
		if err != nil || db < 0 {
			continue
		}
		f := ParseFields(value)
		out = append(out, KeyspaceDB{DB: db, Keys: fieldInt(f, "keys"), Expires: fieldInt(f, "expires"), AvgTTL: fieldInt(f, "avg_ttl")})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].DB < out[b].DB })
	return out
}

// CommandCounters are one command's lifetime counters from INFO
// commandstats ("cmdstat_get:calls=..,usec=..,usec_per_call=..,
// rejected_calls=..,failed_calls=..").
type CommandCounters struct {
	// Calls is the number of calls that ran (not rejected ones).
	Calls int64
	// Usec is the total time spent in the command, in microseconds.
	Usec int64
	// UsecPerCall is the lifetime mean, in microseconds.
	UsecPerCall float64
	// RejectedCalls were refused before running (ACL, arity, OOM...);
	// Redis 6.2 and later.
	RejectedCalls int64
	// FailedCalls ran and returned an error; Redis 6.2 and later.
	FailedCalls int64
}

// CommandStats returns the commandstats section keyed by command name
// ("get", "config|get"). It is empty when the section was not requested.
func (i Info) CommandStats() map[string]CommandCounters {
	out := map[string]CommandCounters{}
	for key, value := range i.Sections["commandstats"] {
		name, ok := strings.CutPrefix(key, "cmdstat_")
		if !ok || name == "" {
			continue
		}
		f := ParseFields(value)
		out[name] = CommandCounters{
			Calls:         fieldInt(f, "calls"),
			Usec:          fieldInt(f, "usec"),
			UsecPerCall:   fieldFloat(f, "usec_per_call"),
			RejectedCalls: fieldInt(f, "rejected_calls"),
			FailedCalls:   fieldInt(f, "failed_calls"),
		}
	}
	return out
}

// ErrorStats returns the errorstats section: the number of error replies by
// error prefix ("ERR", "WRONGTYPE", "NOPERM").
func (i Info) ErrorStats() map[string]int64 {
	out := map[string]int64{}
	for key, value := range i.Sections["errorstats"] {
		prefix, ok := strings.CutPrefix(key, "errorstat_")
		if !ok || prefix == "" {
			continue
		}
		out[prefix] = fieldInt(ParseFields(value), "count")
	}
	return out
}

// LatencyPercentiles returns the latencystats section (Redis 7+): for each
// command, its lifetime latency percentiles in microseconds keyed as the
// server names them ("p50", "p99", "p99.9").
func (i Info) LatencyPercentiles() map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for key, value := range i.Sections["latencystats"] {
		name, ok := strings.CutPrefix(key, "latency_percentiles_usec_")
		if !ok || name == "" {
			continue
		}
		ps := map[string]float64{}
		for k, v := range ParseFields(value) {
			if f, ok := parseFinite(v); ok {
				ps[k] = f
			}
		}
		out[name] = ps
	}
	return out
}

// Replica is one "slaveN:" line of a master's replication section.
type Replica struct {
	// Addr is "ip:port" as the replica announced it.
	Addr string
	// State is the replication state ("online", "wait_bgsave"...).
	State string
	// Offset is the replication offset the replica acknowledged.
	Offset int64
	// Lag is the seconds since the replica's last acknowledgement.
	Lag int64
}

// Replicas returns the replicas listed by a master, in the server's order.
func (i Info) Replicas() []Replica {
	var out []Replica
	for n := 0; ; n++ {
		v, ok := i.Sections["replication"]["slave"+strconv.Itoa(n)]
		if !ok {
			return out
		}
		f := ParseFields(v)
		out = append(out, Replica{
			Addr:   net.JoinHostPort(f["ip"], f["port"]),
			State:  f["state"],
			Offset: fieldInt(f, "offset"),
			Lag:    fieldInt(f, "lag"),
		})
	}
}
