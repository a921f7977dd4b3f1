package monitor

import (
	"reflect"
	"testing"
)

// Captured from redis-server 7.0.15: CLUSTER SHARDS of a 3+3 cluster, as
// go-redis returns it over RESP2 (one shard shown) and RESP3.
var (
	shardsRESP2 = []any{
		[]any{"slots", []any{int64(0), int64(5460)}, "nodes", []any{
			[]any{"id", "7eb20852c2bf466dd95242974587b29fe537a08b", "port", int64(43616), "ip", "127.0.0.1", "endpoint", "127.0.0.1", "role", "master", "replication-offset", int64(72156), "health", "online"},
			[]any{"id", "8d7261abaa546c05799f528ef48d01538a064b3a", "port", int64(47689), "ip", "127.0.0.1", "endpoint", "127.0.0.1", "role", "replica", "replication-offset", int64(72156), "health", "loading"},
		}},
		[]any{"slots", []any{int64(5461), int64(6000), int64(6001), int64(10922)}, "nodes", []any{
			[]any{"id", "bfafe745eadee35b232ab3c2af24274463081b1e", "port", int64(26444), "ip", "127.0.0.1", "endpoint", "?", "role", "master", "health", "fail"},
		}},
		"garbage",
		[]any{"slots", []any{int64(1), int64(99999)}, "nodes", []any{[]any{"id"}}},
	}
	shardsRESP3 = []any{
		map[any]any{"slots": []any{int64(10923), int64(16383)}, "nodes": []any{
			map[any]any{"endpoint": "cache-2.internal", "health": "online", "id": "cf98", "ip": "10.0.0.2", "port": int64(0), "tls-port": int64(6380), "replication-offset": int64(5), "role": "master"},
			map[any]any{"endpoint": "", "health": "online", "id": "ae1e", "ip": "", "port": int64(42991), "role": "replica"},
		}},
	}
)

func TestParseClusterShards(t *testing.T) {
	got, err := parseClusterShards(shardsRESP2)
	if err != nil {
		t.Fatal(err)
	}
	normalizeTopology(got)
	want := []topoNode{
		{id: "7eb20852c2bf466dd95242974587b29fe537a08b", addr: "127.0.0.1:43616", role: "master", slots: []SlotRange{{0, 5460}}, health: "online", flags: []string{"master"}, offset: 72156},
		{id: "8d7261abaa546c05799f528ef48d01538a064b3a", addr: "127.0.0.1:47689", role: "replica", masterID: "7eb20852c2bf466dd95242974587b29fe537a08b", health: "loading", flags: []string{"slave"}, offset: 72156},
		{id: "bfafe745eadee35b232ab3c2af24274463081b1e", addr: "127.0.0.1:26444", role: "master", slots: []SlotRange{{5461, 10922}}, health: "failed", flags: []string{"master", "fail"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RESP2:\n got %+v\nwant %+v", got, want)
	}

	got, err = parseClusterShards(shardsRESP3)
	if err != nil {
		t.Fatal(err)
	}
	want = []topoNode{
		{id: "cf98", addr: "cache-2.internal:6380", role: "master", slots: []SlotRange{{10923, 16383}}, health: "online", flags: []string{"master"}, offset: 5},
		{id: "ae1e", role: "replica", masterID: "cf98", health: "online", flags: []string{"slave"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RESP3:\n got %+v\nwant %+v", got, want)
	}
	if _, err := parseClusterShards("ERR"); err == nil {
		t.Error("a string reply parsed")
	}
}

func TestParseClusterNodes(t *testing.T) {
	text := "a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-100 200 [300->-b2] 101-199\n" +
		"b2 127.0.0.1:7001@17001,cache-b master,fail - 0 0 2 disconnected\n" +
		"c3 127.0.0.1:7002@17002 slave,fail? a1 0 0 1 connected\n" +
		"d4 :0@0 slave,noaddr a1 0 0 1 disconnected\n" +
		"short line\n"
	got, err := parseClusterNodes(text)
	if err != nil {
		t.Fatal(err)
	}
	normalizeTopology(got)
	want := []topoNode{
		{id: "a1", addr: "127.0.0.1:7000", role: "master", slots: []SlotRange{{0, 200}}, health: "online", flags: []string{"myself", "master"}},
		{id: "b2", addr: "127.0.0.1:7001", role: "master", health: "failed", flags: []string{"master", "fail"}},
		{id: "c3", addr: "127.0.0.1:7002", role: "replica", masterID: "a1", health: "pfail", flags: []string{"slave", "fail?"}},
		{id: "d4", role: "replica", masterID: "a1", health: "online", flags: []string{"slave", "noaddr"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
	if got[0].slotCount() != 201 {
		t.Errorf("slot count %d", got[0].slotCount())
	}
	if _, err := parseClusterNodes(""); err == nil {
		t.Error("an empty reply parsed")
	}
}

func TestSlotFormatting(t *testing.T) {
	if s := FormatSlots([]SlotRange{{0, 5460}, {16383, 16383}}); s != "0-5460,16383" {
		t.Errorf("FormatSlots = %q", s)
	}
}

func TestReachableAddr(t *testing.T) {
	for _, c := range []struct {
		addr  string
		seeds []string
		want  string
	}{
		{"127.0.0.1:7001", []string{"10.1.2.3:7000"}, "10.1.2.3:7001"},
		{"127.0.0.1:7001", []string{"localhost:7000"}, "127.0.0.1:7001"},
		{"10.0.0.9:7001", []string{"10.1.2.3:7000"}, "10.0.0.9:7001"},
		{"127.0.0.1:7001", nil, "127.0.0.1:7001"},
	} {
		if got := reachable(c.addr, c.seeds); got != c.want {
			t.Errorf("reachable(%q, %v) = %q, want %q", c.addr, c.seeds, got, c.want)
		}
	}
}

// FuzzParseClusterNodes: whatever a server sends as CLUSTER NODES, parsing
// does not panic and gives slots within the 16384 of a cluster, sorted and
// merged.
func FuzzParseClusterNodes(f *testing.F) {
	f.Add("a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-100 200 [300->-b2] 101-199\n")
	f.Add("c3 127.0.0.1:7002@17002 slave,fail? a1 0 0 1 connected\nd4 :0@0 slave,noaddr a1 0 0 1 disconnected\n")
	f.Add("x [::1]:7000@17000,host master - 0 0 1 connected 16383 99999 -5 5-3 a-b\n")
	f.Fuzz(func(t *testing.T, text string) {
		nodes, err := parseClusterNodes(text)
		if err != nil {
			return
		}
		normalizeTopology(nodes)
		for _, n := range nodes {
			last := -2
			for _, r := range n.slots {
				if r.Start < 0 || r.End >= clusterSlots || r.Start > r.End || r.Start <= last+1 {
					t.Fatalf("node %q: slots %v", n.id, n.slots)
				}
				last = r.End
			}
			if n.role != "master" && n.role != "replica" {
				t.Fatalf("role %q", n.role)
			}
		}
	})
}

// Redis 7.2+ lists the master a failover replaced in its old shard, still
// as a master (failed) until it rejoins as a replica: the slots and the
// replicas belong to the healthy master.
func TestParseClusterShardsAfterFailover(t *testing.T) {
	reply := []any{
		map[any]any{"slots": []any{int64(0), int64(5460)}, "nodes": []any{
			map[any]any{"id": "old", "ip": "127.0.0.1", "port": int64(7000), "role": "master", "health": "fail"},
			map[any]any{"id": "new", "ip": "127.0.0.1", "port": int64(7003), "role": "master", "health": "online"},
			map[any]any{"id": "rep", "ip": "127.0.0.1", "port": int64(7006), "role": "replica", "health": "online"},
		}},
	}
	got, err := parseClusterShards(reply)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]topoNode{}
	for _, n := range got {
		byID[n.id] = n
	}
	if old := byID["old"]; old.role != "master" || len(old.slots) != 0 || old.health != "failed" {
		t.Errorf("the replaced master: %+v", old)
	}
	if n := byID["new"]; n.role != "master" || FormatSlots(n.slots) != "0-5460" {
		t.Errorf("the serving master: %+v", n)
	}
	if r := byID["rep"]; r.masterID != "new" {
		t.Errorf("the replica follows %q, want new", r.masterID)
	}
}
