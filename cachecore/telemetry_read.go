package cachecore

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// TelemetryInstance is what one live Cache last reported (see
// Options.Telemetry for the layout). Text fields come from Redis and are
// untrusted: sanitize them before showing them on a terminal.
type TelemetryInstance struct {
	ID   string
	Host string
	PID  int
	// Cache is the reporting Cache's Options.Namespace.
	Cache             string
	Started, Reported time.Time
	Interval          time.Duration
	Breaker           string
	BreakerOpens      int64
	// Total sums Namespaces.
	Total      Counts
	Namespaces map[string]Counts
	Limiters   map[string]LimiterCounts
	ErrorsByOp map[string]int64
}

// maxTelemetryInstances bounds what one read fetches.
const maxTelemetryInstances = 1000

// ReadTelemetry returns the instances reporting telemetry, newest report
// first. It costs two round trips however large the keyspace is (never
// KEYS or SCAN): the instance list, then every instance's hash in one
// pipeline. Instances whose report expired are skipped, as are reports of
// a format version it does not know. At most 1000 instances are read.
func ReadTelemetry(ctx context.Context, rdb redis.UniversalClient) ([]TelemetryInstance, error) {
	ids, err := rdb.ZRevRange(ctx, telemetryInstances, 0, maxTelemetryInstances-1).Result()
	if err != nil {
		return nil, fmt.Errorf("cachecore: read telemetry: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, telemetryKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cachecore: read telemetry: %w", err)
	}
	out := make([]TelemetryInstance, 0, len(ids))
	for _, cmd := range cmds {
		if f := cmd.Val(); len(f) > 0 && f["v"] == telemetryVersion {
			out = append(out, parseTelemetry(f))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Reported.After(out[j].Reported) })
	return out, nil
}

// parseTelemetry reads one instance's hash. Malformed numbers read as 0:
// the hash is data from the network, never a reason to fail.
func parseTelemetry(f map[string]string) TelemetryInstance {
	num := func(s string) int64 { n, _ := strconv.ParseInt(s, 10, 64); return n }
	unum := func(s string) uint64 { n, _ := strconv.ParseUint(s, 10, 64); return n }
	t := TelemetryInstance{
		ID: f["id"], Host: f["host"], PID: int(num(f["pid"])), Cache: f["cache"],
		Started: time.UnixMilli(num(f["started"])), Reported: time.UnixMilli(num(f["reported"])),
		Interval: time.Duration(num(f["interval_ms"])) * time.Millisecond,
		Breaker:  f["breaker"], BreakerOpens: num(f["breaker_opens"]),
		Namespaces: map[string]Counts{}, Limiters: map[string]LimiterCounts{}, ErrorsByOp: map[string]int64{},
	}
	for k, v := range f {
		kind, rest, ok := strings.Cut(k, ":")
		if !ok {
			continue
		}
		if kind == "err" {
			t.ErrorsByOp[rest] = num(v)
			continue
		}
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			continue
		}
		name, field := rest[:i], rest[i+1:]
		switch kind {
		case "ns":
			c := t.Namespaces[name]
			switch field {
			case "hits":
				c.Hits = num(v)
			case "misses":
				c.Misses = num(v)
			case "errors":
				c.Errors = num(v)
			case "sets":
				c.Sets = num(v)
			case "loads":
				c.Loads = num(v)
			case "invalidations":
				c.Invalidations = num(v)
			case "load_us":
				c.LoadTime = time.Duration(num(v)) * time.Microsecond
			}
			t.Namespaces[name] = c
		case "lim":
			c := t.Limiters[name]
			switch field {
			case "allowed":
				c.Allowed = unum(v)
			case "denied":
				c.Denied = unum(v)
			case "errors":
				c.Errors = unum(v)
			}
			t.Limiters[name] = c
		}
	}
	for _, c := range t.Namespaces {
		t.Total.add(c)
	}
	return t
}
