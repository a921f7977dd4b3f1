package monitor

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/redis/go-redis/v9"
)

// dialTracker is a go-redis hook that remembers the address of the last
// connection a client opened. A Sentinel failover client asks the
// sentinels for the master before each dial and closes its connections
// when they announce a new one (+switch-master), so the last address it
// dialed is the master it is on: knowing it costs no command.
type dialTracker struct {
	addr atomic.Pointer[string]
}

// trackers holds the one dialTracker of each failover client: a client
// gets its hook once, however many pollers watch it (monitor.Sample makes
// one per call), rather than a longer chain of hooks each time. An entry
// goes when its client is garbage.
var trackers sync.Map // weak.Pointer[redis.Client] -> *dialTracker

// trackerFor returns c's dialTracker, adding it to c the first time.
func trackerFor(c *redis.Client) *dialTracker {
	key := weak.Make(c)
	if d, ok := trackers.Load(key); ok {
		return d.(*dialTracker)
	}
	d := &dialTracker{}
	if prev, loaded := trackers.LoadOrStore(key, d); loaded {
		return prev.(*dialTracker)
	}
	c.AddHook(d)
	runtime.AddCleanup(c, func(k weak.Pointer[redis.Client]) { trackers.Delete(k) }, key)
	return d
}

func (d *dialTracker) current() string {
	if p := d.addr.Load(); p != nil {
		return *p
	}
	return ""
}

func (d *dialTracker) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err == nil && conn != nil && conn.RemoteAddr() != nil {
			remote := conn.RemoteAddr().String()
			d.addr.Store(&remote)
		}
		return conn, err
	}
}

func (d *dialTracker) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (d *dialTracker) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// isFailoverClient reports whether c was made by redis.NewFailoverClient,
// which gives its options a placeholder address.
func isFailoverClient(c *redis.Client) bool { return c.Options().Addr == "FailoverClient" }

// decorate adds what a standalone or Sentinel poller knows beyond one
// INFO: the mode, the node list, the master a failover client is on, and
// the restarts and failovers seen. A cluster's nodes leave it to the
// cluster poller.
func (n *node) decorate(s *Snapshot) {
	if n.member {
		return
	}
	s.Mode = n.mode
	if s.Health.Up {
		master := ""
		if n.tracker != nil {
			master = n.tracker.current()
		}
		switch {
		case master != "" && n.lastMaster != "" && master != n.lastMaster:
			n.sentinel.PreviousMaster = n.lastMaster
			n.sentinel.Failovers++
			n.sentinel.FailoverAt = s.Time
			n.events.add(TopologyEvent{Time: s.Time, Kind: TopologyFailover, Node: master,
				Message: fmt.Sprintf("failover: the master changed from %s to %s", n.lastMaster, master)})
		case n.lastRunID != "" && s.Server.RunID != n.lastRunID:
			node := master
			if node == "" {
				node = n.addr
			}
			n.events.add(TopologyEvent{Time: s.Time, Kind: TopologyRestart, Node: node,
				Message: "the server restarted (new run_id): rates start again"})
		}
		if master != "" {
			n.lastMaster = master
		}
		n.lastRunID = s.Server.RunID
	}
	if n.tracker != nil {
		st := n.sentinel
		st.MasterAddr = n.lastMaster
		s.Sentinel = &st
	}
	s.Events = n.events.list()
	st := statusOf(s)
	st.Addr = n.addr
	if s.Sentinel != nil && s.Sentinel.MasterAddr != "" {
		st.Addr = s.Sentinel.MasterAddr
	}
	s.Nodes = []NodeStatus{st}
}

// statusOf is a node's status from its own snapshot.
func statusOf(s *Snapshot) NodeStatus {
	st := NodeStatus{
		Addr:       s.Addr,
		Role:       roleName(s.Replication.Role),
		MasterAddr: s.Replication.MasterAddr,
		Up:         s.Health.Up,
		Error:      s.Health.Error,
		Reason:     s.Health.Reason,
		LinkStatus: s.Replication.MasterLinkStatus,
		Version:    s.Server.Version,
		UsedMemory: s.Memory.Used,
		MaxMemory:  s.Memory.Max,
		Keys:       s.Keys,
		Clients:    s.Clients.Connected,
		RTT:        s.Health.RTT,
		ReplOffset: s.Replication.Offset,
	}
	if r := s.Rates; r.Valid {
		st.RatesValid = true
		st.OpsPerSec, st.HitsPerSec, st.MissesPerSec = r.OpsPerSec, r.HitsPerSec, r.MissesPerSec
		st.HitRate, st.HitRateValid = r.HitRate, r.HitRateValid
		st.NetInPerSec, st.NetOutPerSec = r.NetInPerSec, r.NetOutPerSec
	}
	return st
}

// roleName turns INFO's "slave" into "replica".
func roleName(role string) string {
	if role == "slave" {
		return "replica"
	}
	return role
}
