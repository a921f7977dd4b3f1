package monitor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The captures in testdata are raw INFO replies (CRLF line ends) from a
// redis-server 7.0.15 master with a replica, after redis-benchmark traffic,
// a few errors and a slow script.

func TestParseInfoTickSections(t *testing.T) {
	info := ParseInfo(readTestdata(t, "info_7.0_tick.txt"))
	for _, s := range []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "keyspace"} {
		if !info.Has(s) {
			t.Errorf("section %q missing; have %v", s, sectionNames(info))
		}
	}
	if info.Has("commandstats") {
		t.Error("tick capture should not have commandstats")
	}
	checks := map[string]string{
		"redis_version":    "7.0.15",
		"redis_mode":       "standalone",
		"run_id":           "8800c94808e703d9a0dd169f25b88d27233ddbf2",
		"config_file":      "",
		"executable":       "/tmp/cap/redis-server",
		"maxmemory_policy": "noeviction",
		"role":             "master",
		"os":               "Linux 6.18.44-fc-v782 x86_64",
	}
	for k, want := range checks {
		if got, ok := info.Get(k); !ok || got != want {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, want)
		}
	}
	if v := info.Sections["server"]["redis_version"]; v != "7.0.15" {
		t.Errorf("section lookup: %q", v)
	}
	if n, ok := info.Int("total_commands_processed"); !ok || n != 10016 {
		t.Errorf("total_commands_processed = %d, %v", n, ok)
	}
	if f, ok := info.Float("mem_fragmentation_ratio"); !ok || f != 4.09 {
		t.Errorf("mem_fragmentation_ratio = %v, %v", f, ok)
	}
	if _, ok := info.Int("used_memory_human"); ok {
		t.Error("used_memory_human is not an integer")
	}

	ks := info.Keyspace()
	want := []KeyspaceDB{{DB: 0, Keys: 2005, Expires: 1, AvgTTL: 997299}, {DB: 3, Keys: 2, Expires: 1, AvgTTL: 897399}}
	if len(ks) != len(want) || ks[0] != want[0] || ks[1] != want[1] {
		t.Errorf("keyspace = %+v, want %+v", ks, want)
	}
	reps := info.Replicas()
	if len(reps) != 1 || reps[0] != (Replica{Addr: "127.0.0.1:27102", State: "online", Offset: 2665448, Lag: 1}) {
		t.Errorf("replicas = %+v", reps)
	}

	c := countersOf(info, time.Now())
	if c.commands != 10016 || c.hits != 5000 || c.misses != 1 || c.errors != 3 || c.connections != 111 ||
		c.netIn != 405915 || c.netOut != 305418 || c.serverUsec != 1795648547029472 || !c.hasCPU {
		t.Errorf("counters = %+v", c)
	}
	if d := c.cpu - (0.802100 + 0.365400); d > 1e-9 || d < -1e-9 {
		t.Errorf("cpu = %v", c.cpu)
	}
	m := memoryOf(info)
	if m.Used != 2564200 || m.RSS != 10104832 || m.Max != 0 || m.FragmentationBytes != 7632888 || m.FragmentationRatio != 4.09 {
		t.Errorf("memory = %+v", m)
	}
	if cl := clientsOf(info); cl != (ClientsInfo{Connected: 1, Blocked: 0, MaxClients: 10000}) {
		t.Errorf("clients = %+v", cl)
	}
}

func TestParseInfoCommandAndErrorStats(t *testing.T) {
	info := ParseInfo(readTestdata(t, "info_7.0_commandstats_errorstats.txt"))
	cs := info.CommandStats()
	if len(cs) != 11 {
		t.Errorf("%d commands, want 11: %v", len(cs), cs)
	}
	if got := cs["get"]; got != (CommandCounters{Calls: 5001, Usec: 2234, UsecPerCall: 0.45}) {
		t.Errorf("get = %+v", got)
	}
	if got := cs["config|resetstat"]; got.Calls != 1 || got.Usec != 892 {
		t.Errorf("config|resetstat = %+v", got)
	}
	if got := cs["auth"]; got.FailedCalls != 1 || got.RejectedCalls != 0 {
		t.Errorf("auth = %+v", got)
	}
	es := info.ErrorStats()
	if len(es) != 3 || es["ERR"] != 1 || es["WRONGPASS"] != 1 || es["WRONGTYPE"] != 1 {
		t.Errorf("errorstats = %v", es)
	}
}

func TestParseInfoLatencyStats(t *testing.T) {
	lp := ParseInfo(readTestdata(t, "info_7.0_latencystats.txt")).LatencyPercentiles()
	if got := lp["info"]; got["p50"] != 121.343 || got["p99"] != 309.247 || got["p99.9"] != 309.247 {
		t.Errorf("info percentiles = %v", got)
	}
	if got := lp["config|get"]; got["p50"] != 3.007 {
		t.Errorf("config|get = %v", got)
	}
	if len(lp) != 11 {
		t.Errorf("%d commands", len(lp))
	}
}

func TestParseInfoAllAndDefault(t *testing.T) {
	all := ParseInfo(readTestdata(t, "info_7.0_all.txt"))
	for _, s := range []string{"commandstats", "errorstats", "latencystats", "cluster", "modules"} {
		if !all.Has(s) {
			t.Errorf("INFO all: section %q missing", s)
		}
	}
	if len(all.CommandStats()) == 0 || len(all.LatencyPercentiles()) == 0 {
		t.Error("INFO all: no command stats")
	}
	def := ParseInfo(readTestdata(t, "info_7.0_default.txt"))
	if def.Has("commandstats") || !def.Has("errorstats") {
		t.Errorf("default INFO sections: %v", sectionNames(def))
	}
}

func TestParseInfoReplica(t *testing.T) {
	up := replicationOf(ParseInfo(readTestdata(t, "info_7.0_replica.txt")))
	if up.Role != "slave" || up.MasterLinkStatus != "up" || up.MasterAddr != "127.0.0.1:27101" || up.MasterLinkDownSince != 0 {
		t.Errorf("replica = %+v", up)
	}
	down := replicationOf(ParseInfo(readTestdata(t, "info_7.0_replica_link_down.txt")))
	if down.MasterLinkStatus != "down" || down.MasterLinkDownSince != time.Second {
		t.Errorf("replica link down = %+v", down)
	}
}

func TestParseInfoMalformed(t *testing.T) {
	text := "garbage\n# Weird Section \r\n:novalue\nkey:va:lue\r\ndb:keys=1\ndbx:keys=2\ndb-1:keys=3\n" +
		"db7:keys=notanumber,expires=,=5,noequals\ncmdstat_:calls=1\ncmdstat_x:calls=abc\n" +
		"errorstat_E:count=\nlatency_percentiles_usec_y:p50=NaN,p99=1e999,p99.9=2\n#\nlast:1"
	info := ParseInfo(text)
	if v, _ := info.Get("key"); v != "va:lue" {
		t.Errorf("value with a colon: %q", v)
	}
	if _, ok := info.Get(""); ok {
		t.Error("empty key kept")
	}
	if !info.Has("weird section") {
		t.Errorf("sections %v", sectionNames(info))
	}
	ks := ParseInfo("# Keyspace\ndb:keys=1\ndbx:keys=2\ndb-1:keys=3\ndb7:keys=notanumber,expires=,=5,noequals\n").Keyspace()
	if len(ks) != 1 || ks[0] != (KeyspaceDB{DB: 7}) {
		t.Errorf("keyspace = %+v", ks)
	}
	cs := ParseInfo("# Commandstats\ncmdstat_:calls=1\ncmdstat_x:calls=abc\n").CommandStats()
	if len(cs) != 1 || cs["x"].Calls != 0 {
		t.Errorf("commandstats = %+v", cs)
	}
	lp := ParseInfo("# Latencystats\nlatency_percentiles_usec_y:p50=NaN,p99=1e999,p99.9=2\n").LatencyPercentiles()
	if len(lp["y"]) != 1 || lp["y"]["p99.9"] != 2 {
		t.Errorf("latencystats = %v", lp)
	}
	if _, ok := ParseInfo("x:NaN").Float("x"); ok {
		t.Error("NaN accepted as a float")
	}
}

func FuzzParseInfo(f *testing.F) {
	for _, name := range []string{"info_7.0_tick.txt", "info_7.0_commandstats_errorstats.txt", "info_7.0_latencystats.txt", "info_7.0_replica.txt"} {
		f.Add(readTestdata(f, name))
	}
	f.Add("# Keyspace\ndb0:keys=1,expires=0\n# Replication\nslave0:ip=::1,port=1\n")
	f.Fuzz(func(t *testing.T, text string) {
		info := ParseInfo(text)
		info.Keyspace()
		info.CommandStats()
		info.ErrorStats()
		info.LatencyPercentiles()
		info.Replicas()
		serverOf(info)
		memoryOf(info)
		replicationOf(info)
		persistenceOf(info)
		c := countersOf(info, time.Now())
		c.wentDown(counters{})
		for key := range info.Fields {
			if key == "" || strings.ContainsAny(key, "\n") {
				t.Fatalf("bad key %q", key)
			}
		}
	})
}

func sectionNames(info Info) []string {
	var out []string
	for s := range info.Sections {
		out = append(out, s)
	}
	return out
}
