package monitor

import (
	"strconv"
	"strings"
	"time"
)

// Deployment shapes, as Snapshot.Mode names them.
const (
	// ModeStandalone is one server polled directly.
	ModeStandalone = "standalone"
	// ModeSentinel is the master a Sentinel failover client resolves.
	ModeSentinel = "sentinel"
	// ModeCluster is every node of a Redis Cluster.
	ModeCluster = "cluster"
)

// NodeStatus is one server of the deployment: every master and replica of
// a cluster, or the one server a standalone or Sentinel poller watches.
// Rates are per second over the node's last tick; numbers are zero (and
// RatesValid false) while the node is down or before its second tick.
type NodeStatus struct {
	// ID is the cluster node ID; "" outside a cluster.
	ID string
	// Addr is "host:port": the node's address as the cluster announces it,
	// the master's address for Sentinel (once known), or the poller's
	// label (Options.Addr) for a single server.
	Addr string
	// Role is "master" or "replica". In a cluster it is the cluster's view
	// (the last topology read); elsewhere the server's INFO.
	Role string
	// MasterID and MasterAddr name a replica's master ("" for a master, or
	// when unknown).
	MasterID, MasterAddr string
	// Slots are the hash slot ranges a cluster master serves, ascending;
	// SlotCount is how many slots they hold.
	Slots     []SlotRange
	SlotCount int
	// Up is whether the node answered its last INFO.
	Up bool
	// Error is why it did not, as Redis or the network said it; Reason is
	// the short form (see Health.Reason). Both "" when up.
	Error, Reason string
	// Health is the cluster's view of the node: "online", "pfail"
	// (suspected by some node), "failed" (agreed failed), "loading" or
	// "handshake"; "" outside a cluster.
	Health string
	// Flags are the node's flags as CLUSTER NODES shows them ("master",
	// "slave", "fail?", "fail", "nofailover"...); from CLUSTER SHARDS only
	// the role and the failure state are known. nil outside a cluster.
	Flags []string
	// LinkStatus is a replica's link to its master from its own INFO
	// (master_link_status): "up" or "down"; "" for a master.
	LinkStatus string
	// Version is the node's redis_version.
	Version string

	// RatesValid is false on the node's first tick, after an outage or a
	// restart: the rates are then 0.
	RatesValid bool
	// OpsPerSec is commands per second, the poller's own excluded.
	OpsPerSec float64
	// HitsPerSec and MissesPerSec are keyspace lookups per second; HitRate
	// is hits / (hits + misses), meaningful only when HitRateValid.
	HitsPerSec, MissesPerSec float64
	HitRate                  float64
	HitRateValid             bool
	// NetInPerSec and NetOutPerSec are client traffic in bytes per second.
	NetInPerSec, NetOutPerSec float64
	// UsedMemory and MaxMemory are used_memory and maxmemory (0: no limit).
	UsedMemory, MaxMemory int64
	// Keys is the number of keys the node holds (a replica holds its
	// master's).
	Keys int64
	// Clients is connected_clients.
	Clients int64
	// RTT is the last INFO round trip.
	RTT time.Duration
	// ReplOffset is the node's replication offset (master_repl_offset).
	ReplOffset int64
	// LagBytes and LagSeconds say how far a replica is behind its master,
	// from the master's own INFO: the bytes of replication stream the
	// replica has not acknowledged, and the seconds since its last
	// acknowledgement. Meaningful only when LagKnown (a replica whose
	// master answered and lists it).
	LagBytes, LagSeconds int64
	LagKnown             bool
	// Hottest marks the master of the shard (master and replicas) with the
	// most operations per second, when there is traffic.
	Hottest bool
	// Snapshot is the node's own snapshot (its history, commands, slowlog,
	// alerts), in a cluster; nil for a single server, whose snapshot is
	// the one that holds this status.
	Snapshot *Snapshot
}

// SlotRange is a range of hash slots, both ends included.
type SlotRange struct {
	Start, End int
}

// Len returns the number of slots in the range.
func (r SlotRange) Len() int { return r.End - r.Start + 1 }

// String returns "0-5460", or "42" for a single slot.
func (r SlotRange) String() string {
	if r.Start == r.End {
		return strconv.Itoa(r.Start)
	}
	return strconv.Itoa(r.Start) + "-" + strconv.Itoa(r.End)
}

// FormatSlots returns ranges as "0-5460,10923-16383".
func FormatSlots(ranges []SlotRange) string {
	parts := make([]string, len(ranges))
	for i, r := range ranges {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// ClusterState is the cluster's own view of itself (CLUSTER INFO, asked of
// one node at a time in turn) and of its topology (CLUSTER SHARDS, or
// CLUSTER NODES before Redis 7).
type ClusterState struct {
	// State is cluster_state: "ok", or "fail" when some slot is not
	// served; "" until a node has answered CLUSTER INFO.
	State string
	// SlotsAssigned, SlotsOK, SlotsPFail and SlotsFail count the hash
	// slots assigned to a master, served by a healthy one, by one
	// suspected failing, and by one agreed failed (16384 slots in all).
	SlotsAssigned, SlotsOK, SlotsPFail, SlotsFail int
	// KnownNodes and Size are cluster_known_nodes and cluster_size (the
	// number of masters serving slots).
	KnownNodes, Size int
	// CurrentEpoch is cluster_current_epoch; it grows with each failover.
	CurrentEpoch int64
	// From is the node that answered CLUSTER INFO, and At when.
	From string
	At   time.Time
	// Masters and Replicas count the nodes of the last topology read, and
	// NodesDown those that did not answer their last INFO. Masters leaves
	// out a master that neither serves slots nor answers: the old master
	// a failover replaced, which the cluster lists as a master until it
	// rejoins as a replica (it counts in NodesDown).
	Masters, Replicas, NodesDown int
	// TopologyAt is when the topology was last read, and TopologySource
	// with which command ("CLUSTER SHARDS" or "CLUSTER NODES").
	TopologyAt     time.Time
	TopologySource string
	// Error is why the last topology or CLUSTER INFO read failed; "" when
	// both worked. The last good values are kept meanwhile.
	Error string
}

// TopologyEventKind says what a [TopologyEvent] reports.
type TopologyEventKind string

// Topology event kinds.
const (
	// TopologyFailover: another server took over as master (a cluster
	// replica was promoted, or Sentinel switched the master).
	TopologyFailover TopologyEventKind = "failover"
	// TopologyNodeDown and TopologyNodeUp: a cluster node stopped (or
	// started again) answering.
	TopologyNodeDown TopologyEventKind = "node_down"
	TopologyNodeUp   TopologyEventKind = "node_up"
	// TopologyNodeAdded and TopologyNodeRemoved: a node joined or left the
	// cluster's topology.
	TopologyNodeAdded   TopologyEventKind = "node_added"
	TopologyNodeRemoved TopologyEventKind = "node_removed"
	// TopologyRoleChanged: a node changed role other than by taking over
	// (a former master came back as a replica, a replica changed master).
	TopologyRoleChanged TopologyEventKind = "role_changed"
	// TopologyRestart: a server restarted (a new run_id at the same
	// address).
	TopologyRestart TopologyEventKind = "restart"
	// TopologyClusterState: cluster_state changed ("ok" to "fail" or
	// back).
	TopologyClusterState TopologyEventKind = "cluster_state"
)

// TopologyEvent is a change in the deployment the poller noticed. Message
// may quote server text (addresses): sanitize before display.
type TopologyEvent struct {
	// Time is when the poller noticed it.
	Time time.Time
	// Kind says what happened.
	Kind TopologyEventKind
	// Node is the address of the node it happened to.
	Node string
	// Message says it for a person: "failover: 127.0.0.1:7004 replaced
	// 127.0.0.1:7000 as master of slots 0-5460".
	Message string
}

// SentinelState is what a poller of a Sentinel-managed master knows of
// the master.
type SentinelState struct {
	// MasterAddr is the address of the master the failover client is
	// connected to (the address it last dialed, as the sentinels named
	// it); "" until the poller has seen the client dial.
	MasterAddr string
	// PreviousMaster is the master before the last failover; "" if none
	// was seen.
	PreviousMaster string
	// Failovers counts the master changes seen since the poller started,
	// and FailoverAt is when the last was noticed.
	Failovers  int
	FailoverAt time.Time
}
