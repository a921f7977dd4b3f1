package monitor

import (
	"strings"
	"testing"
)

// healthyCluster is a 3-master cluster, a replica each, that raises no
// alert; each case changes one thing.
func healthyCluster() *Snapshot {
	s := healthy()
	s.Mode = ModeCluster
	s.Cluster = &ClusterState{State: "ok", SlotsAssigned: clusterSlots, SlotsOK: clusterSlots, KnownNodes: 6, Size: 3,
		Masters: 3, Replicas: 3, From: "127.0.0.1:7000"}
	ranges := []SlotRange{{0, 5460}, {5461, 10922}, {10923, 16383}}
	for i, r := range ranges {
		id := string(rune('a' + i))
		s.Nodes = append(s.Nodes,
			NodeStatus{ID: id, Addr: "127.0.0.1:700" + string(rune('0'+i)), Role: "master", Slots: []SlotRange{r}, SlotCount: r.Len(),
				Up: true, Health: "online", Snapshot: healthy()},
			NodeStatus{ID: id + "r", Addr: "127.0.0.1:700" + string(rune('3'+i)), Role: "replica", MasterID: id,
				Up: true, Health: "online", Snapshot: healthy()})
	}
	return s
}

func TestClusterAlerts(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Snapshot)
		want   []Alert // IDs, levels and a part of each message, critical first
	}{
		{name: "healthy", change: func(*Snapshot) {}},
		{name: "state fail with failed slots", change: func(s *Snapshot) {
			s.Cluster.State, s.Cluster.SlotsOK, s.Cluster.SlotsFail = "fail", clusterSlots-5462, 5462
		}, want: []Alert{
			{ID: AlertClusterSlots, Level: Critical, Message: "5462 slots on failed masters"},
			{ID: AlertClusterState, Level: Critical, Message: "cluster state is fail as 127.0.0.1:7000 sees it"},
		}},
		{name: "slots suspected failing", change: func(s *Snapshot) {
			s.Cluster.SlotsOK, s.Cluster.SlotsPFail = clusterSlots-5461, 5461
		}, want: []Alert{{ID: AlertClusterSlots, Level: Warn, Message: "5461 slots on masters suspected failing"}}},
		{name: "failed slots outrank suspected ones", change: func(s *Snapshot) {
			s.Cluster.State, s.Cluster.SlotsPFail, s.Cluster.SlotsFail = "fail", 10, 20
		}, want: []Alert{
			{ID: AlertClusterSlots, Level: Critical, Message: "20 slots on failed masters"},
			{ID: AlertClusterState, Level: Critical, Message: "state is fail"},
		}},
		{name: "slots unassigned", change: func(s *Snapshot) {
			s.Cluster.SlotsAssigned, s.Cluster.SlotsOK = 16000, 16000
		}, want: []Alert{{ID: AlertClusterSlots, Level: Critical, Message: "only 16000 of 16384 slots are assigned"}}},
		{name: "no CLUSTER INFO yet", change: func(s *Snapshot) { s.Cluster.State, s.Cluster.SlotsAssigned = "", 0 }},
		{name: "a master down", change: func(s *Snapshot) {
			s.Nodes[2].Up, s.Nodes[2].Error, s.Nodes[2].Snapshot = false, "connection refused", nil
		}, want: []Alert{{ID: AlertNodeDown, Level: Critical, Message: "node 127.0.0.1:7001 (master of slots 5461-10922) down: connection refused"}}},
		{name: "a replica down", change: func(s *Snapshot) { s.Nodes[1].Up, s.Nodes[1].Snapshot = false, nil },
			want: []Alert{{ID: AlertNodeDown, Level: Warn, Message: "node 127.0.0.1:7003 (replica) down: no reply"}}},
		{name: "a node's own alert carries its address", change: func(s *Snapshot) { s.Nodes[4].Snapshot.Clients.Blocked = 2 },
			want: []Alert{{ID: AlertBlockedClients, Level: Warn, Message: "127.0.0.1:7002: 2 blocked"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := healthyCluster()
			c.change(s)
			got := Evaluate(s, Thresholds{})
			if len(got) != len(c.want) {
				t.Fatalf("alerts = %+v, want %d", got, len(c.want))
			}
			for i, w := range c.want {
				if got[i].ID != w.ID || got[i].Level != w.Level || !strings.Contains(got[i].Message, w.Message) {
					t.Errorf("alert %d = %+v, want %s %s containing %q", i, got[i], w.Level, w.ID, w.Message)
				}
			}
		})
	}
}

// After a failover the cluster still lists the dead old master, with the
// master role and no slots: it is down, not a fourth master.
func TestClusterStateCountsServingMasters(t *testing.T) {
	s := healthyCluster()
	nodes := s.Nodes
	// The master of 0-5460 died and its replica took its slots over.
	nodes[0].Up, nodes[0].Slots, nodes[0].SlotCount, nodes[0].Health = false, nil, 0, "failed"
	nodes[1].Role, nodes[1].MasterID, nodes[1].Slots, nodes[1].SlotCount = "master", "", []SlotRange{{0, 5460}}, 5461
	// A master just added, empty, and one down that still holds slots.
	nodes = append(nodes, NodeStatus{ID: "new", Role: "master", Up: true})
	nodes[2].Up = false

	st := (&clusterPoller{}).clusterState(nodes)
	if st.Masters != 4 || st.Replicas != 2 || st.NodesDown != 2 {
		t.Errorf("masters %d replicas %d down %d, want 4 (3 serving slots, 1 empty and up), 2, 2", st.Masters, st.Replicas, st.NodesDown)
	}
}
