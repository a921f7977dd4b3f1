package monitor

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// The replies parsed here come from go-redis's generic Do, so they are
// []any for RESP2 arrays and map[any]any for RESP3 maps. Every shape is
// checked: a server (or a proxy in front of one) may send anything.

// pairs returns the key/value pairs of a RESP3 map or a flat RESP2 array
// of alternating keys and values.
func pairs(v any) ([][2]any, bool) {
	switch t := v.(type) {
	case []any:
		if len(t)%2 != 0 {
			return nil, false
		}
		out := make([][2]any, 0, len(t)/2)
		for i := 0; i+1 < len(t); i += 2 {
			out = append(out, [2]any{t[i], t[i+1]})
		}
		return out, true
	case map[any]any:
		out := make([][2]any, 0, len(t))
		for k, val := range t {
			out = append(out, [2]any{k, val})
		}
		return out, true
	case map[string]any:
		out := make([][2]any, 0, len(t))
		for k, val := range t {
			out = append(out, [2]any{k, val})
		}
		return out, true
	}
	return nil, false
}

func asString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case []byte:
		return string(t), true
	}
	return "", false
}

func asInt(v any) (int64, bool) {
	switch t := v.(type) {
	case int64:
		return t, true
	case int:
		return int64(t), true
	case string:
		n, err := strconv.ParseInt(t, 10, 64)
		return n, err == nil
	case float64:
		if t != t || t > 9e18 || t < -9e18 { // NaN or out of range
			return 0, false
		}
		return int64(t), true
	}
	return 0, false
}

// histogram is a command's latency distribution as LATENCY HISTOGRAM reports
// it: cumulative counts at increasing bucket bounds.
type histogram struct {
	// Calls is the total number of calls.
	Calls int64
	// Buckets are sorted by Usec; each Count is the number of calls that
	// took at most Usec microseconds.
	Buckets []bucket
}

// bucket is one cumulative bucket of a histogram.
type bucket struct {
	// Usec is the bucket's upper bound, in microseconds.
	Usec int64
	// Count is the cumulative number of calls up to Usec.
	Count int64
}

// parseLatencyHistogram parses a LATENCY HISTOGRAM reply: command name ->
// {calls, histogram_usec: {bound: cumulative count}}. Malformed entries are
// skipped.
func parseLatencyHistogram(v any) (map[string]histogram, error) {
	cmds, ok := pairs(v)
	if !ok {
		return nil, fmt.Errorf("monitor: unexpected LATENCY HISTOGRAM reply of type %T", v)
	}
	out := make(map[string]histogram, len(cmds))
	for _, kv := range cmds {
		name, ok := asString(kv[0])
		if !ok {
			continue
		}
		fields, ok := pairs(kv[1])
		if !ok {
			continue
		}
		var h histogram
		for _, f := range fields {
			key, _ := asString(f[0])
			switch key {
			case "calls":
				h.Calls, _ = asInt(f[1])
			case "histogram_usec":
				buckets, ok := pairs(f[1])
				if !ok {
					continue
				}
				for _, b := range buckets {
					bound, ok1 := asInt(b[0])
					count, ok2 := asInt(b[1])
					if ok1 && ok2 && bound >= 0 && count >= 0 {
						h.Buckets = append(h.Buckets, bucket{Usec: bound, Count: count})
					}
				}
			}
		}
		sort.Slice(h.Buckets, func(a, b int) bool { return h.Buckets[a].Usec < h.Buckets[b].Usec })
		out[name] = h
	}
	return out, nil
}

// SlowlogEntry is one SLOWLOG GET entry. Args, ClientAddr and ClientName
// are untrusted server text: sanitize before display.
type SlowlogEntry struct {
	// ID is the entry's unique, increasing id.
	ID int64
	// Time is when the command ran (server clock, second precision).
	Time time.Time
	// Duration is how long it ran.
	Duration time.Duration
	// Args is the command and its arguments as the server logged them
	// (it truncates long ones itself).
	Args []string
	// ClientAddr is the client's address (Redis 4+).
	ClientAddr string
	// ClientName is the client's name, if it set one (Redis 4+).
	ClientName string
	// FirstSeen is when this poller first saw the entry.
	FirstSeen time.Time
	// New is true for entries that appeared after the poller's first
	// SLOWLOG fetch; entries already in the log at start are not new.
	New bool
	// Node is the address of the cluster node that logged the entry; ""
	// for a single server. IDs are unique per node only.
	Node string
}

// parseSlowlog parses a SLOWLOG GET reply. Malformed entries are skipped.
func parseSlowlog(v any) ([]SlowlogEntry, error) {
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("monitor: unexpected SLOWLOG GET reply of type %T", v)
	}
	out := make([]SlowlogEntry, 0, len(items))
	for _, item := range items {
		f, ok := item.([]any)
		if !ok || len(f) < 4 {
			continue
		}
		id, ok1 := asInt(f[0])
		ts, ok2 := asInt(f[1])
		usec, ok3 := asInt(f[2])
		args, ok4 := f[3].([]any)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			continue
		}
		e := SlowlogEntry{ID: id, Time: time.Unix(ts, 0), Duration: time.Duration(usec) * time.Microsecond}
		for _, a := range args {
			switch t := a.(type) {
			case string:
				e.Args = append(e.Args, t)
			default:
				e.Args = append(e.Args, fmt.Sprint(t))
			}
		}
		if len(f) >= 6 {
			e.ClientAddr, _ = asString(f[4])
			e.ClientName, _ = asString(f[5])
		}
		out = append(out, e)
	}
	return out, nil
}

// LatencyEvent is one LATENCY LATEST entry: a latency spike the server's
// latency monitor recorded (only when latency-monitor-threshold is set).
type LatencyEvent struct {
	// Name is the event ("command", "fast-command", "fork"...).
	Name string
	// Time is when the latest spike happened (server clock).
	Time time.Time
	// Latest is the latest spike's duration.
	Latest time.Duration
	// Max is the largest spike recorded for this event.
	Max time.Duration
	// Node is the address of the cluster node that recorded the event;
	// "" for a single server.
	Node string
}

// parseLatencyLatest parses a LATENCY LATEST reply. Malformed entries are
// skipped.
func parseLatencyLatest(v any) ([]LatencyEvent, error) {
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("monitor: unexpected LATENCY LATEST reply of type %T", v)
	}
	out := make([]LatencyEvent, 0, len(items))
	for _, item := range items {
		f, ok := item.([]any)
		if !ok || len(f) < 4 {
			continue
		}
		name, ok1 := asString(f[0])
		ts, ok2 := asInt(f[1])
		latest, ok3 := asInt(f[2])
		max, ok4 := asInt(f[3])
		if !ok1 || !ok2 || !ok3 || !ok4 {
			continue
		}
		out = append(out, LatencyEvent{
			Name:   name,
			Time:   time.Unix(ts, 0),
			Latest: time.Duration(latest) * time.Millisecond,
			Max:    time.Duration(max) * time.Millisecond,
		})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}
