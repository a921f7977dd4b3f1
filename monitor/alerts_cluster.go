package monitor

import "fmt"

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// clusterAlerts are the cluster's own alerts and each node's server
// alerts, prefixed with its address. A node's hit rate and slowlog are
// left to the aggregate, and a node that is down raises AlertNodeDown.
func clusterAlerts(s *Snapshot, th Thresholds) []Alert {
	var out []Alert
	add := func(id string, l Level, format string, args ...any) {
		out = append(out, Alert{ID: id, Level: l, Message: fmt.Sprintf(format, args...)})
	}
	if c := s.Cluster; c != nil {
		if c.State != "" && c.State != "ok" {
			add(AlertClusterState, Critical, "cluster state is %s as %s sees it: some slots are not served", c.State, label(c.From, "a node"))
		}
		switch {
		case c.SlotsFail > 0:
			add(AlertClusterSlots, Critical, "%d slots on failed masters", c.SlotsFail)
		case c.SlotsPFail > 0:
			add(AlertClusterSlots, Warn, "%d slots on masters suspected failing", c.SlotsPFail)
		case c.State != "" && c.SlotsAssigned < clusterSlots:
			add(AlertClusterSlots, Critical, "only %d of %d slots are assigned", c.SlotsAssigned, clusterSlots)
		}
	}
	for _, n := range s.Nodes {
		if !n.Up {
			// A master that still serves slots leaves them unserved;
			// a replica, or a master already replaced, only lessens
			// redundancy.
			level, what := Warn, n.Role
			if n.Role == "master" && n.SlotCount > 0 {
				level, what = Critical, what+" of slots "+FormatSlots(n.Slots)
			}
			reason := n.Error
			if reason == "" {
				reason = "no reply"
			}
			add(AlertNodeDown, level, "node %s (%s) down: %s", label(n.Addr, n.ID), what, reason)
			continue
		}
		if n.Snapshot == nil {
			continue
		}
		serverAlerts(n.Snapshot, th, func(id string, l Level, format string, args ...any) {
			add(id, l, "%s: %s", n.Addr, fmt.Sprintf(format, args...))
		})
	}
	return out
}
