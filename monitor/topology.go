package monitor

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// topoNode is one node as the cluster's topology describes it.
type topoNode struct {
	id       string
	addr     string // "" when the cluster does not know it (noaddr)
	role     string // "master" or "replica"
	masterID string
	slots    []SlotRange
	health   string // "online", "pfail", "failed", "loading", "handshake"
	flags    []string
	offset   int64
}

func (t topoNode) slotCount() int {
	n := 0
	for _, r := range t.slots {
		n += r.Len()
	}
	return n
}

// parseClusterShards parses a CLUSTER SHARDS reply (Redis 7+), RESP2
// (alternating names and values) or RESP3 (maps). Shards and nodes it
// cannot read are skipped; the error is for a reply that is not a list.
func parseClusterShards(v any) ([]topoNode, error) {
	shards, ok := v.([]any)
	if !ok {
		return nil, errUnexpectedReply("CLUSTER SHARDS", v)
	}
	var out []topoNode
	for _, sh := range shards {
		fields := replyFields(sh)
		var slots []SlotRange
		if list, ok := fields["slots"].([]any); ok {
			for i := 0; i+1 < len(list); i += 2 {
				start, ok1 := list[i].(int64)
				end, ok2 := list[i+1].(int64)
				if ok1 && ok2 && start >= 0 && end >= start && end < 16384 {
					slots = append(slots, SlotRange{int(start), int(end)})
				}
			}
		}
		nodes, _ := fields["nodes"].([]any)
		masterID := ""
		var shardNodes []topoNode
		for _, nv := range nodes {
			f := replyFields(nv)
			t := topoNode{id: replyString(f["id"]), role: replyString(f["role"]), health: replyString(f["health"])}
			if t.id == "" {
				continue
			}
			if t.role != "master" {
				t.role = "replica"
			}
			t.offset, _ = f["replication-offset"].(int64)
			host := replyString(f["endpoint"])
			if host == "" || host == "?" {
				host = replyString(f["ip"])
			}
			port, _ := f["port"].(int64)
			if tlsPort, ok := f["tls-port"].(int64); ok && port == 0 {
				port = tlsPort
			}
			if host != "" && host != "?" && port > 0 {
				t.addr = net.JoinHostPort(host, strconv.FormatInt(port, 10))
			}
			if t.health == "fail" {
				t.health = "failed"
			}
			t.flags = []string{map[bool]string{true: "master", false: "slave"}[t.role == "master"]}
			if t.health == "failed" {
				t.flags = append(t.flags, "fail")
			}
			shardNodes = append(shardNodes, t)
		}
		// Since Redis 7.2 a shard keeps the master a failover replaced,
		// still with the master role until it rejoins as a replica: the
		// slots are the healthy master's.
		serving := -1
		for i, t := range shardNodes {
			if t.role == "master" && (serving < 0 || shardNodes[serving].health == "failed" && t.health != "failed") {
				serving = i
			}
		}
		if serving >= 0 {
			shardNodes[serving].slots = slots
			masterID = shardNodes[serving].id
		}
		for i := range shardNodes {
			if shardNodes[i].role == "replica" {
				shardNodes[i].masterID = masterID
			}
		}
		out = append(out, shardNodes...)
	}
	return out, nil
}

// replyFields reads a RESP3 map or a RESP2 list of alternating names and
// values into a map by name.
func replyFields(v any) map[string]any {
	out := map[string]any{}
	switch t := v.(type) {
	case map[any]any:
		for k, val := range t {
			if name, ok := k.(string); ok {
				out[name] = val
			}
		}
	case []any:
		for i := 0; i+1 < len(t); i += 2 {
			if name, ok := t[i].(string); ok {
				out[name] = t[i+1]
			}
		}
	}
	return out
}

func replyString(v any) string {
	s, _ := v.(string)
	return s
}

// parseClusterNodes parses CLUSTER NODES text, one node per line:
//
//	<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot> ...
//
// Lines it cannot read are skipped; slots being migrated ("[...]") are
// ignored.
func parseClusterNodes(v any) ([]topoNode, error) {
	text, ok := v.(string)
	if !ok {
		return nil, errUnexpectedReply("CLUSTER NODES", v)
	}
	var out []topoNode
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		t := topoNode{id: f[0], flags: strings.Split(f[2], ","), health: "online"}
		addr, _, _ := strings.Cut(f[1], "@")
		addr, _, _ = strings.Cut(addr, ",")
		if host, port, err := net.SplitHostPort(addr); err == nil && host != "" && port != "0" {
			t.addr = addr
		}
		t.role = "replica"
		for _, flag := range t.flags {
			switch flag {
			case "master":
				t.role = "master"
			case "fail?":
				t.health = "pfail"
			case "handshake":
				t.health = "handshake"
			case "noaddr":
				t.addr = ""
			}
		}
		if slices.Contains(t.flags, "fail") {
			t.health = "failed"
		}
		if f[3] != "-" {
			t.masterID = f[3]
		}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				continue
			}
			lo, hi, isRange := strings.Cut(s, "-")
			start, err1 := strconv.Atoi(lo)
			end := start
			var err2 error
			if isRange {
				end, err2 = strconv.Atoi(hi)
			}
			if err1 == nil && err2 == nil && start >= 0 && end >= start && end < 16384 {
				t.slots = append(t.slots, SlotRange{start, end})
			}
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("monitor: CLUSTER NODES reply lists no node")
	}
	return out, nil
}

// normalizeTopology sorts each master's slots and merges adjacent ranges.
func normalizeTopology(nodes []topoNode) {
	for i := range nodes {
		s := nodes[i].slots
		slices.SortFunc(s, func(a, b SlotRange) int { return a.Start - b.Start })
		var merged []SlotRange
		for _, r := range s {
			if n := len(merged); n > 0 && r.Start <= merged[n-1].End+1 {
				merged[n-1].End = max(merged[n-1].End, r.End)
				continue
			}
			merged = append(merged, r)
		}
		nodes[i].slots = merged
	}
}
