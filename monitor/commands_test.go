package monitor

import (
	"math"
	"testing"
	"time"
)

func TestHistogramPercentiles(t *testing.T) {
	// 100 calls: 50 within 1µs, 40 more within 2µs, 9 more within 4µs, one
	// within 1024µs (cumulative counts, as LATENCY HISTOGRAM sends them).
	cur := histogram{Calls: 100, Buckets: []bucket{{1, 50}, {2, 90}, {4, 99}, {1024, 100}}}
	p, ok := histogramPercentiles(histogram{}, cur)
	if !ok || p.P50 != 1 || p.P99 != 4 {
		t.Errorf("from zero: %+v %v", p, ok)
	}

	// Deltas: the window's calls only. Before, 1000 calls all within 1µs;
	// in the window, 100 calls of which 98 within 8µs and 2 within 512µs.
	prev := histogram{Calls: 1000, Buckets: []bucket{{1, 1000}}}
	cur = histogram{Calls: 1100, Buckets: []bucket{{1, 1000}, {8, 1098}, {512, 1100}}}
	p, ok = histogramPercentiles(prev, cur)
	if !ok {
		t.Fatal("no percentiles")
	}
	// p50: the 50th of the window's calls lies in (1, 8]: interpolated.
	if want := 1 + 7*50.0/98; math.Abs(p.P50-want) > 1e-9 {
		t.Errorf("p50 = %v, want %v", p.P50, want)
	}
	// p99: the 99th lies in (8, 512].
	if want := 8 + 504*(99-98)/2.0; math.Abs(p.P99-want) > 1e-9 {
		t.Errorf("p99 = %v, want %v", p.P99, want)
	}

	// A bound the newer histogram lists and the older does not: the older
	// count there is that of its bound below (5 calls within 2µs).
	prev = histogram{Calls: 10, Buckets: []bucket{{2, 5}, {16, 10}}}
	cur = histogram{Calls: 20, Buckets: []bucket{{2, 5}, {4, 15}, {16, 20}}}
	if p, ok = histogramPercentiles(prev, cur); !ok || p.P50 != 3 || math.Abs(p.P99-3.98) > 1e-9 {
		t.Errorf("mixed bounds: %+v %v", p, ok)
	}

	for name, c := range map[string][2]histogram{
		"no calls":       {{Calls: 5, Buckets: []bucket{{1, 5}}}, {Calls: 5, Buckets: []bucket{{1, 5}}}},
		"reset":          {{Calls: 50, Buckets: []bucket{{1, 50}}}, {Calls: 5, Buckets: []bucket{{1, 5}}}},
		"bucket reset":   {{Calls: 5, Buckets: []bucket{{1, 5}}}, {Calls: 6, Buckets: []bucket{{1, 2}, {2, 6}}}},
		"not cumulative": {{}, {Calls: 9, Buckets: []bucket{{1, 9}, {2, 3}}}},
		"empty":          {{}, {}},
	} {
		if p, ok := histogramPercentiles(c[0], c[1]); ok {
			t.Errorf("%s: got %+v", name, p)
		}
	}
}

func TestParseLatencyHistogramRESP2AndRESP3(t *testing.T) {
	resp2 := []any{
		"get", []any{"calls", int64(20001), "histogram_usec", []any{int64(1), int64(19978), int64(2), int64(19988), int64(66), int64(20001)}},
		"set", []any{"calls", int64(3), "histogram_usec", []any{int64(4), int64(3)}},
		int64(5), "junk", // malformed entries are skipped
		"bad", []any{"calls"},
	}
	resp3 := map[any]any{
		"get": map[any]any{"calls": int64(20001), "histogram_usec": map[any]any{int64(66): int64(20001), int64(1): int64(19978), int64(2): int64(19988)}},
		"set": map[any]any{"calls": int64(3), "histogram_usec": map[any]any{int64(4): int64(3)}},
	}
	for name, v := range map[string]any{"resp2": resp2, "resp3": resp3} {
		h, err := parseLatencyHistogram(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		get := h["get"]
		if get.Calls != 20001 || len(get.Buckets) != 3 || get.Buckets[0] != (bucket{1, 19978}) || get.Buckets[2] != (bucket{66, 20001}) {
			t.Errorf("%s: get = %+v", name, get)
		}
		if h["set"].Calls != 3 {
			t.Errorf("%s: set = %+v", name, h["set"])
		}
	}
	if _, err := parseLatencyHistogram("nope"); err == nil {
		t.Error("a string parsed as a histogram")
	}
	if _, err := parseLatencyHistogram([]any{"odd"}); err == nil {
		t.Error("an odd-length array parsed as a histogram")
	}
}

func TestParseSlowlogAndLatencyLatest(t *testing.T) {
	reply := []any{
		[]any{int64(7), int64(1795648547), int64(19816), []any{"eval", "local i=0", "0"}, "127.0.0.1:38088", "app\x1b[31m"},
		[]any{int64(6), int64(1795648540), int64(12000), []any{"keys", "*"}}, // Redis < 4: no client fields
		[]any{"bad"},
		"worse",
	}
	entries, err := parseSlowlog(reply)
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries %+v, %v", entries, err)
	}
	e := entries[0]
	if e.ID != 7 || e.Duration != 19816*time.Microsecond || len(e.Args) != 3 || e.ClientAddr != "127.0.0.1:38088" || e.ClientName != "app\x1b[31m" || e.Time.Unix() != 1795648547 {
		t.Errorf("entry = %+v", e)
	}
	if _, err := parseSlowlog(map[any]any{}); err == nil {
		t.Error("a map parsed as a slowlog")
	}

	events, err := parseLatencyLatest([]any{
		[]any{"fork", int64(100), int64(5), int64(9)},
		[]any{"command", int64(1795648547), int64(19), int64(19)},
		[]any{"short"},
	})
	if err != nil || len(events) != 2 || events[0].Name != "command" || events[0].Latest != 19*time.Millisecond || events[1].Max != 9*time.Millisecond {
		t.Errorf("events %+v, %v", events, err)
	}
}

func TestCommandStatsSubtractsOwnCalls(t *testing.T) {
	prev := &detailSample{
		commands:  map[string]CommandCounters{"get": {Calls: 100, Usec: 100}, "info": {Calls: 10, Usec: 1000}},
		errors:    map[string]int64{"ERR": 1, "NOPERM": 1},
		ownCalls:  map[string]int64{"info": 10},
		ownErrors: map[string]int64{"NOPERM": 1},
	}
	cur := &detailSample{
		commands:  map[string]CommandCounters{"get": {Calls: 600, Usec: 1100, UsecPerCall: 1.8}, "info": {Calls: 15, Usec: 1500}, "set": {Calls: 50, Usec: 100}},
		errors:    map[string]int64{"ERR": 11, "NOPERM": 2},
		lifetime:  map[string]map[string]float64{"get": {"p50": 1, "p99": 3, "p99.9": 5}},
		ownCalls:  map[string]int64{"info": 15},
		ownErrors: map[string]int64{"NOPERM": 2},
	}
	cmds, errs := commandStats(prev, cur, 5*time.Second, map[string]Percentiles{"get": {P50: 1.5, P99: 2}})
	if len(cmds) != 3 || cmds[0].Name != "get" || cmds[1].Name != "set" || cmds[2].Name != "info" {
		t.Fatalf("order: %+v", cmds)
	}
	get, set, info := cmds[0], cmds[1], cmds[2]
	if get.CallsPerSec != 100 || get.MeanUsec != 2 || get.Latency == nil || get.Latency.P99 != 2 || get.LifetimeLatency == nil || get.LifetimeLatency.P99 != 3 {
		t.Errorf("get = %+v", get)
	}
	if set.CallsPerSec != 10 || set.MeanUsec != 2 || set.Latency != nil {
		t.Errorf("set (new in the window) = %+v", set)
	}
	if info.CallsPerSec != 0 {
		t.Errorf("info counts the poller's own calls: %+v", info)
	}
	if errs[0].Prefix != "ERR" || errs[0].PerSec != 2 || errs[1].Prefix != "NOPERM" || errs[1].PerSec != 0 {
		t.Errorf("errors = %+v", errs)
	}

	// Without a baseline: lifetime values only.
	cmds, errs = commandStats(nil, cur, 0, nil)
	if cmds[0].CallsPerSec != 0 || cmds[0].MeanUsec != 1.8 || errs[0].PerSec != 0 {
		t.Errorf("no baseline: %+v %+v", cmds[0], errs[0])
	}
}
