package monitor

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// snapshot aggregates the members' last snapshots into the cluster's.
func (c *clusterPoller) snapshot(now time.Time) *Snapshot {
	ordered := c.ordered()
	statuses := make([]NodeStatus, 0, len(ordered))
	var up, masters []*Snapshot
	for _, m := range ordered {
		statuses = append(statuses, c.status(m))
		if m.snap != nil && m.snap.Health.Up {
			up = append(up, m.snap)
			if m.topo.role == "master" {
				masters = append(masters, m.snap)
			}
		}
	}
	markHottest(statuses)
	state := c.clusterState(statuses)

	if len(up) == 0 {
		s := c.series.down(now, c.opts.Addr, c.downError(ordered))
		c.lookups.valid = false
		s.Mode, s.Nodes, s.Cluster, s.Events = ModeCluster, statuses, state, c.events.list()
		s.Alerts = Evaluate(s, c.opts.Thresholds)
		return s
	}
	if len(masters) == 0 {
		masters = up // no topology yet: better than nothing
	}
	s := &Snapshot{Addr: c.opts.Addr, Mode: ModeCluster, Info: masters[0].Info}
	s.Server = ServerInfo{Version: masters[0].Server.Version, Mode: ModeCluster}
	var rtt time.Duration
	for i, n := range up {
		rtt = max(rtt, n.Health.RTT)
		if i == 0 || n.Server.Uptime < s.Server.Uptime {
			s.Server.Uptime = n.Server.Uptime
		}
		s.Clients.Connected += n.Clients.Connected
		s.Clients.Blocked += n.Clients.Blocked
		s.Clients.MaxClients += n.Clients.MaxClients
		s.PubSub.Channels += n.PubSub.Channels
		s.PubSub.Patterns += n.PubSub.Patterns
		s.PubSub.ShardChannels += n.PubSub.ShardChannels
		s.PubSub.HasShardChannels = s.PubSub.HasShardChannels || n.PubSub.HasShardChannels
	}
	s.Memory, s.Persistence = sumMemory(masters), sumPersistence(masters)
	s.Keyspace, s.Keys = sumKeyspace(masters)
	for _, n := range masters {
		s.Replication.ConnectedReplicas += n.Replication.ConnectedReplicas
	}
	s.Rates = sumRates(up)
	c.lookups.subtract(&s.Rates, c.opts.Lookups)
	s.PubSub = c.sumPublish(s.PubSub, up)

	c.merged.update(up, c.opts.SlowlogKeep)
	s.Commands, s.Errors = c.merged.commands, c.merged.errors
	s.DetailAt, s.DetailWindow = c.merged.detailAt, c.merged.detailWindow
	s.Slowlog, s.LatencyEvents, s.SlowlogAt = c.merged.slowlog, c.merged.latency, c.merged.slowlogAt
	s.Unavailable = unionUnavailable(up)

	c.series.up(now, s, rtt)
	s.Nodes, s.Cluster, s.Events = statuses, state, c.events.list()
	s.Alerts = Evaluate(s, c.opts.Thresholds)
	c.series.keep(s)
	return s
}

// downError is why no node answered.
func (c *clusterPoller) downError(ordered []*member) error {
	for _, m := range ordered {
		if m.snap != nil && m.snap.Health.Err != nil {
			return m.snap.Health.Err
		}
	}
	if c.topoErr != nil {
		return c.topoErr
	}
	return errors.New("monitor: no cluster node known")
}

// ordered returns the members for display: masters in slot order (those
// without slots after), each followed by its replicas; replicas of an
// unknown master last.
func (c *clusterPoller) ordered() []*member {
	ms := c.sortedMembers()
	var masters []*member
	replicas := map[string][]*member{}
	var orphans []*member
	for _, m := range ms {
		if m.topo.role == "master" {
			masters = append(masters, m)
		}
	}
	for _, m := range ms {
		if m.topo.role == "master" {
			continue
		}
		if c.members[m.topo.masterID] != nil && m.topo.masterID != m.id {
			replicas[m.topo.masterID] = append(replicas[m.topo.masterID], m)
		} else {
			orphans = append(orphans, m)
		}
	}
	firstSlot := func(m *member) int {
		if len(m.topo.slots) == 0 {
			return 1 << 20
		}
		return m.topo.slots[0].Start
	}
	slices.SortStableFunc(masters, func(a, b *member) int { return cmp.Compare(firstSlot(a), firstSlot(b)) })
	out := make([]*member, 0, len(ms))
	for _, m := range masters {
		out = append(out, m)
		out = append(out, replicas[m.id]...)
	}
	return append(out, orphans...)
}

// status is a member's line in Snapshot.Nodes.
func (c *clusterPoller) status(m *member) NodeStatus {
	var st NodeStatus
	switch {
	case m.snap != nil:
		st = statusOf(m.snap)
		st.Snapshot = m.snap
	case m.addr == "":
		st.Error, st.Reason = "the cluster does not know this node's address", "no address"
	default:
		st.Error, st.Reason = "not polled yet", "not polled yet"
	}
	st.ID, st.Addr = m.id, m.addr
	st.Role, st.MasterID = m.topo.role, m.topo.masterID
	if st.Role == "master" {
		st.MasterAddr = ""
	} else if master := c.members[m.topo.masterID]; master != nil {
		st.MasterAddr = master.addr
		c.fillLag(&st, master)
	}
	st.Slots = m.topo.slots
	st.SlotCount = m.topo.slotCount()
	st.Health = m.topo.health
	// Redis 7.0 calls a replica "loading" while its replication offset is
	// 0 (nothing written yet); its own INFO knows better.
	if st.Health == "loading" && m.snap != nil && m.snap.Health.Up && !m.snap.Persistence.Loading {
		st.Health = "online"
	}
	st.Flags = m.topo.flags
	return st
}

// fillLag reads a replica's lag from its master's INFO: the master's
// offset less the one the replica acknowledged, and the seconds since.
func (c *clusterPoller) fillLag(st *NodeStatus, master *member) {
	ms := master.snap
	if ms == nil || !ms.Health.Up || st.Addr == "" {
		return
	}
	for _, r := range ms.Replication.Replicas {
		if r.Addr == st.Addr {
			st.LagBytes = max(ms.Replication.Offset-r.Offset, 0)
			st.LagSeconds = r.Lag
			st.LagKnown = true
			return
		}
	}
}

// markHottest marks the master of the shard with the most operations.
func markHottest(nodes []NodeStatus) {
	shardOps := map[string]float64{}
	for _, n := range nodes {
		switch {
		case n.Role == "master":
			shardOps[n.ID] += n.OpsPerSec
		case n.MasterID != "":
			shardOps[n.MasterID] += n.OpsPerSec
		}
	}
	best, bestOps := "", 0.0
	for _, n := range nodes {
		if n.Role == "master" && shardOps[n.ID] > bestOps {
			best, bestOps = n.ID, shardOps[n.ID]
		}
	}
	for i := range nodes {
		nodes[i].Hottest = best != "" && nodes[i].ID == best
	}
}

// clusterState completes the last CLUSTER INFO with the topology counts.
func (c *clusterPoller) clusterState(nodes []NodeStatus) *ClusterState {
	st := c.state
	for _, n := range nodes {
		// A dead master without slots is one a failover replaced: still
		// listed as a master, it only counts in NodesDown.
		switch {
		case n.Role != "master":
			st.Replicas++
		case n.SlotCount > 0 || n.Up:
			st.Masters++
		}
		if !n.Up {
			st.NodesDown++
		}
	}
	switch {
	case c.topoErr != nil:
		st.Error = "topology: " + c.topoErr.Error()
	case c.infoErr != nil:
		st.Error = "CLUSTER INFO: " + c.infoErr.Error()
	}
	return &st
}

// sumRates adds the nodes' rates; they are valid only when every node
// that answered has rates.
func sumRates(nodes []*Snapshot) Rates {
	var r Rates
	for _, n := range nodes {
		nr := n.Rates
		if !nr.Valid {
			return Rates{}
		}
		r.Interval += nr.Interval
		r.OpsPerSec += nr.OpsPerSec
		r.HitsPerSec += nr.HitsPerSec
		r.MissesPerSec += nr.MissesPerSec
		r.EvictedPerSec += nr.EvictedPerSec
		r.ExpiredPerSec += nr.ExpiredPerSec
		r.NetInPerSec += nr.NetInPerSec
		r.NetOutPerSec += nr.NetOutPerSec
		r.CPUPercent += nr.CPUPercent
		r.ErrorsPerSec += nr.ErrorsPerSec
		r.ConnectionsPerSec += nr.ConnectionsPerSec
		r.RejectedConnections += nr.RejectedConnections
		r.Hits += nr.Hits
		r.Misses += nr.Misses
		r.Evicted += nr.Evicted
	}
	r.Valid = len(nodes) > 0
	if r.Valid {
		r.Interval /= time.Duration(len(nodes))
	}
	r.setHitRate()
	return r
}

func (r *Rates) setHitRate() {
	r.HitRate, r.HitRateValid = 0, false
	if r.Hits+r.Misses > 0 {
		r.HitRate, r.HitRateValid = float64(r.Hits)/float64(r.Hits+r.Misses), true
	}
}

// lookupBase subtracts cachescope's own keyspace lookups (Options.Lookups)
// from the summed hits and misses: they cannot be told apart per node.
type lookupBase struct {
	hits, misses int64
	valid        bool
}

func (l *lookupBase) subtract(r *Rates, lookups *Lookups) {
	if lookups == nil {
		return
	}
	hits, misses := lookups.Load()
	dh, dm := hits-l.hits, misses-l.misses
	wasValid := l.valid
	l.hits, l.misses, l.valid = hits, misses, r.Valid
	if !r.Valid || !wasValid || r.Interval <= 0 {
		return
	}
	secs := r.Interval.Seconds()
	r.Hits, r.Misses = max(r.Hits-dh, 0), max(r.Misses-dm, 0)
	r.HitsPerSec, r.MissesPerSec = float64(r.Hits)/secs, float64(r.Misses)/secs
	r.setHitRate()
}

// sumMemory adds the masters' memory; maxmemory is the sum only when every
// master has a limit (one without is unlimited).
func sumMemory(masters []*Snapshot) MemoryInfo {
	var m MemoryInfo
	limited := true
	for i, n := range masters {
		m.Used += n.Memory.Used
		m.RSS += n.Memory.RSS
		m.Peak += n.Memory.Peak
		m.Max += n.Memory.Max
		m.FragmentationBytes += n.Memory.FragmentationBytes
		limited = limited && n.Memory.Max > 0
		if i == 0 {
			m.Policy = n.Memory.Policy
		}
	}
	if !limited {
		m.Max = 0
	}
	if m.Used > 0 {
		m.FragmentationRatio = float64(m.RSS) / float64(m.Used)
	}
	return m
}

func sumPersistence(masters []*Snapshot) PersistenceInfo {
	p := PersistenceInfo{RDBLastBgsaveStatus: "ok", AOFLastWriteStatus: "ok"}
	for _, n := range masters {
		np := n.Persistence
		p.Loading = p.Loading || np.Loading
		p.RDBChangesSinceLastSave += np.RDBChangesSinceLastSave
		p.AOFEnabled = p.AOFEnabled || np.AOFEnabled
		if np.RDBLastBgsaveStatus != "" && np.RDBLastBgsaveStatus != "ok" {
			p.RDBLastBgsaveStatus = np.RDBLastBgsaveStatus
		}
		if np.AOFLastWriteStatus != "" && np.AOFLastWriteStatus != "ok" {
			p.AOFLastWriteStatus = np.AOFLastWriteStatus
		}
	}
	return p
}

func sumKeyspace(masters []*Snapshot) ([]KeyspaceDB, int64) {
	byDB := map[int]*KeyspaceDB{}
	var total int64
	for _, n := range masters {
		for _, db := range n.Keyspace {
			d := byDB[db.DB]
			if d == nil {
				d = &KeyspaceDB{DB: db.DB}
				byDB[db.DB] = d
			}
			d.Keys += db.Keys
			d.Expires += db.Expires
			total += db.Keys
		}
	}
	out := make([]KeyspaceDB, 0, len(byDB))
	for _, d := range byDB {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b KeyspaceDB) int { return cmp.Compare(a.DB, b.DB) })
	return out, total
}

// sumPublish adds the nodes' publish rates (valid only when every node's
// are).
func (c *clusterPoller) sumPublish(p PubSubStats, nodes []*Snapshot) PubSubStats {
	p.PublishValid = true
	for _, n := range nodes {
		np := n.PubSub
		p.PublishCalls += np.PublishCalls
		p.SPublishCalls += np.SPublishCalls
		p.PublishPerSec += np.PublishPerSec
		p.SPublishPerSec += np.SPublishPerSec
		p.PublishValid = p.PublishValid && np.PublishValid
		if np.PublishAt.After(p.PublishAt) {
			p.PublishAt = np.PublishAt
		}
		p.PublishWindow = max(p.PublishWindow, np.PublishWindow)
	}
	if !p.PublishValid {
		p.PublishPerSec, p.SPublishPerSec = 0, 0
	}
	return p
}

// unionUnavailable lists the panels some node refused, with the node's
// address before the reason.
func unionUnavailable(nodes []*Snapshot) map[Panel]string {
	out := map[Panel]string{}
	for _, n := range nodes {
		for p, reason := range n.Unavailable {
			if _, ok := out[p]; !ok {
				out[p] = n.Addr + ": " + reason
			}
		}
	}
	return out
}

// mergeCache holds the merged commands, errors, slowlog and latency events,
// recomputed only when some node refreshed its own.
type mergeCache struct {
	detailKey, slowlogKey string
	commands              []CommandStat
	errors                []ErrorStat
	detailAt              time.Time
	detailWindow          time.Duration
	slowlog               []SlowlogEntry
	latency               []LatencyEvent
	slowlogAt             time.Time
}

func (mc *mergeCache) update(nodes []*Snapshot, keep int) {
	var dk, sk strings.Builder
	for _, n := range nodes {
		dk.WriteString(n.Addr + "@" + strconv.FormatInt(n.DetailAt.UnixNano(), 10) + ";")
		sk.WriteString(n.Addr + "@" + strconv.FormatInt(n.SlowlogAt.UnixNano(), 10) + ";")
	}
	if k := dk.String(); k != mc.detailKey {
		mc.detailKey = k
		mc.mergeCommands(nodes)
	}
	if k := sk.String(); k != mc.slowlogKey {
		mc.slowlogKey = k
		mc.mergeSlowlog(nodes, keep)
	}
}

func (mc *mergeCache) mergeCommands(nodes []*Snapshot) {
	// Means are weighted by calls in the window; where no node has any,
	// by lifetime calls.
	type acc struct {
		stat                   CommandStat
		windowUsec, windowCall float64
		lifeUsec, lifeCall     float64
	}
	cmds := map[string]*acc{}
	errs := map[string]*ErrorStat{}
	mc.detailAt, mc.detailWindow = time.Time{}, 0
	for _, n := range nodes {
		if n.DetailAt.After(mc.detailAt) {
			mc.detailAt = n.DetailAt
		}
		mc.detailWindow = max(mc.detailWindow, n.DetailWindow)
		for _, cs := range n.Commands {
			a := cmds[cs.Name]
			if a == nil {
				a = &acc{stat: CommandStat{Name: cs.Name}}
				cmds[cs.Name] = a
			}
			s := &a.stat
			s.Calls += cs.Calls
			s.CallsPerSec += cs.CallsPerSec
			s.RejectedPerSec += cs.RejectedPerSec
			s.FailedPerSec += cs.FailedPerSec
			a.windowUsec += cs.MeanUsec * cs.CallsPerSec
			a.windowCall += cs.CallsPerSec
			a.lifeUsec += cs.MeanUsec * float64(cs.Calls)
			a.lifeCall += float64(cs.Calls)
			s.Latency = maxPercentiles(s.Latency, cs.Latency)
			s.LifetimeLatency = maxPercentiles(s.LifetimeLatency, cs.LifetimeLatency)
		}
		for _, e := range n.Errors {
			m := errs[e.Prefix]
			if m == nil {
				m = &ErrorStat{Prefix: e.Prefix}
				errs[e.Prefix] = m
			}
			m.Count += e.Count
			m.PerSec += e.PerSec
		}
	}
	mc.commands = make([]CommandStat, 0, len(cmds))
	for _, a := range cmds {
		switch {
		case a.windowCall > 0:
			a.stat.MeanUsec = a.windowUsec / a.windowCall
		case a.lifeCall > 0:
			a.stat.MeanUsec = a.lifeUsec / a.lifeCall
		}
		mc.commands = append(mc.commands, a.stat)
	}
	slices.SortFunc(mc.commands, func(a, b CommandStat) int {
		return cmp.Or(cmp.Compare(b.CallsPerSec, a.CallsPerSec), cmp.Compare(b.Calls, a.Calls), cmp.Compare(a.Name, b.Name))
	})
	mc.errors = make([]ErrorStat, 0, len(errs))
	for _, e := range errs {
		mc.errors = append(mc.errors, *e)
	}
	slices.SortFunc(mc.errors, func(a, b ErrorStat) int {
		return cmp.Or(cmp.Compare(b.PerSec, a.PerSec), cmp.Compare(b.Count, a.Count), cmp.Compare(a.Prefix, b.Prefix))
	})
}

// maxPercentiles keeps the higher of two percentile pairs: percentiles of
// different nodes cannot be combined exactly, and the slowest node is what
// a user of the cluster waits for.
func maxPercentiles(a, b *Percentiles) *Percentiles {
	switch {
	case b == nil:
		return a
	case a == nil:
		c := *b
		return &c
	}
	return &Percentiles{P50: max(a.P50, b.P50), P99: max(a.P99, b.P99)}
}

func (mc *mergeCache) mergeSlowlog(nodes []*Snapshot, keep int) {
	mc.slowlog, mc.latency, mc.slowlogAt = nil, nil, time.Time{}
	for _, n := range nodes {
		mc.slowlog = append(mc.slowlog, n.Slowlog...)
		mc.latency = append(mc.latency, n.LatencyEvents...)
		if n.SlowlogAt.After(mc.slowlogAt) {
			mc.slowlogAt = n.SlowlogAt
		}
	}
	slices.SortStableFunc(mc.slowlog, func(a, b SlowlogEntry) int {
		return cmp.Or(b.Time.Compare(a.Time), b.FirstSeen.Compare(a.FirstSeen), cmp.Compare(b.ID, a.ID))
	})
	if len(mc.slowlog) > keep {
		mc.slowlog = mc.slowlog[:keep:keep]
	}
	slices.SortStableFunc(mc.latency, func(a, b LatencyEvent) int { return b.Time.Compare(a.Time) })
}
