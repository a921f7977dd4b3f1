package monitor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterTroubleWindow is how long after a change (a node down or back, a
// role change, a state change) CLUSTER INFO is read every tick, so the
// failure and the failover that follows show without waiting for the next
// ClusterInterval.
const clusterTroubleWindow = 30 * time.Second

// clusterPoller polls every node of a Redis Cluster, each with a node of
// its own (its own connection, tiers, baseline and history), and
// aggregates them into one snapshot per tick.
type clusterPoller struct {
	cc   *redis.ClusterClient
	opts Options

	mu         sync.Mutex // one tick at a time; guards everything below
	now        func() time.Time
	members    map[string]*member // by node ID
	discovered bool
	useNodes   bool // CLUSTER SHARDS was refused: CLUSTER NODES instead
	recheck    bool // read the topology again on the next tick
	turn       int  // which node answers the next topology or state read

	topoAt, infoAt time.Time
	troubleUntil   time.Time
	state          ClusterState // what CLUSTER INFO said, and the topology's source and time
	topoErr        error
	infoErr        error

	events  eventLog
	series  series
	lookups lookupBase
	merged  mergeCache
}

// member is one node of the cluster as the poller follows it.
type member struct {
	id     string
	addr   string
	topo   topoNode
	client *redis.Client
	node   *node
	snap   *Snapshot // its last snapshot; nil before its first tick
	// What the last tick saw, to notice changes.
	polled bool
	up     bool
	runID  string
}

func newClusterPoller(cc *redis.ClusterClient, opts Options) *clusterPoller {
	return &clusterPoller{cc: cc, opts: opts, now: time.Now, members: map[string]*member{}, series: newSeries(opts)}
}

func (c *clusterPoller) setNow(now func() time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
	for _, m := range c.members {
		m.node.now = now
	}
}

// close closes the nodes' connections; the next tick opens them again.
func (c *clusterPoller) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, m := range c.members {
		errs = append(errs, m.closeClient())
	}
	clear(c.members)
	c.discovered = false
	return errors.Join(errs...)
}

// topologyEvery is how many ClusterIntervals pass between two periodic
// topology reads: CLUSTER INFO, read every interval, notices what a
// topology read would (a failover's new epoch, nodes added or forgotten)
// and asks for one at once.
const topologyEvery = 3

// due reports whether every intervals have passed since last.
func (c *clusterPoller) due(last, now time.Time, every int) bool {
	return last.IsZero() || now.Sub(last) >= time.Duration(every)*c.opts.ClusterInterval-c.opts.Interval/2
}

// tick reads the topology when due, polls every node in parallel, notices
// what changed, reads CLUSTER INFO when due, and aggregates.
func (c *clusterPoller) tick(ctx context.Context, all bool) *Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if !c.discovered || c.recheck || all || c.due(c.topoAt, now, topologyEvery) {
		c.discover(ctx, now)
	}
	c.pollMembers(ctx, all)
	if c.observe(now) {
		// Read the topology again at once, so a promotion shows in the
		// same tick as the node's new role.
		c.discover(ctx, now)
		c.troubleUntil = now.Add(clusterTroubleWindow)
	}
	if len(c.members) > 0 && (all || c.due(c.infoAt, now, 1) || now.Before(c.troubleUntil) || c.inTrouble()) {
		c.readClusterInfo(ctx, now)
	}
	return c.snapshot(now)
}

// inTrouble reports whether the cluster's last state was not healthy.
func (c *clusterPoller) inTrouble() bool {
	s := c.state
	return (s.State != "" && s.State != "ok") || s.SlotsPFail > 0 || s.SlotsFail > 0
}

// pollMembers ticks every node at once, each on its own connection.
func (c *clusterPoller) pollMembers(ctx context.Context, all bool) {
	var wg sync.WaitGroup
	for _, m := range c.members {
		if m.node == nil {
			continue
		}
		wg.Go(func() { m.snap = m.node.tick(ctx, all) })
	}
	wg.Wait()
}

// sortedMembers returns the members by address, for a stable rotation
// and event order.
func (c *clusterPoller) sortedMembers() []*member {
	ms := make([]*member, 0, len(c.members))
	for _, m := range c.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *member) int { return cmp.Or(cmp.Compare(a.addr, b.addr), cmp.Compare(a.id, b.id)) })
	return ms
}

// nextAsker returns the next node in turn that answered its last tick, to
// spread the topology and state reads over the nodes; nil when there is
// none (then the cluster client asks).
func (c *clusterPoller) nextAsker() *member {
	ms := c.sortedMembers()
	for i := 0; i < len(ms); i++ {
		m := ms[(c.turn+i)%len(ms)]
		if m.node != nil && (m.snap == nil || m.snap.Health.Up) {
			c.turn = (c.turn + i + 1) % len(ms)
			return m
		}
	}
	return nil
}

// ask sends a cluster command to the next node in turn, or through the
// cluster client when no node is known or the chosen one is unreachable.
func (c *clusterPoller) ask(ctx context.Context, name string, args ...any) (any, string, error) {
	if m := c.nextAsker(); m != nil {
		v, err := m.node.extra(ctx, name, args...)
		if err == nil || isServerError(err) {
			return v, m.addr, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	v, err := c.cc.Do(ctx, args...).Result()
	return v, "", err
}

// discover reads the topology and reconciles the members with it.
func (c *clusterPoller) discover(ctx context.Context, now time.Time) {
	nodes, source, err := c.readTopology(ctx)
	if err != nil {
		c.topoErr = err
		return
	}
	c.topoErr = nil
	c.reconcile(nodes, now)
	c.topoAt, c.discovered, c.recheck = now, true, false
	c.state.TopologyAt, c.state.TopologySource = now, source
}

func (c *clusterPoller) readTopology(ctx context.Context) ([]topoNode, string, error) {
	if !c.useNodes {
		v, _, err := c.ask(ctx, "cluster|shards", "cluster", "shards")
		if err == nil {
			nodes, err := parseClusterShards(v)
			if err == nil && len(nodes) == 0 {
				err = errors.New("monitor: CLUSTER SHARDS lists no node")
			}
			if err != nil {
				return nil, "", err
			}
			normalizeTopology(nodes)
			return nodes, "CLUSTER SHARDS", nil
		}
		if !isServerError(err) {
			return nil, "", err
		}
		// CLUSTER NODES says as much. Before Redis 7, or refused by an
		// ACL, CLUSTER SHARDS never will work: ask for CLUSTER NODES from
		// now on. Any other refusal (a node still LOADING) is this read's.
		msg := err.Error()
		if strings.HasPrefix(msg, "ERR unknown") || strings.HasPrefix(msg, "NOPERM") {
			c.useNodes = true
		}
	}
	v, _, err := c.ask(ctx, "cluster|nodes", "cluster", "nodes")
	if err != nil {
		return nil, "", err
	}
	nodes, err := parseClusterNodes(v)
	if err != nil {
		return nil, "", err
	}
	normalizeTopology(nodes)
	return nodes, "CLUSTER NODES", nil
}

// reconcile adds the nodes that joined, drops those that left, follows
// address changes, and records role changes as events: a replica that
// became master is a failover.
func (c *clusterPoller) reconcile(nodes []topoNode, now time.Time) {
	first := !c.discovered
	seen := make(map[string]bool, len(nodes))
	for _, t := range nodes {
		if seen[t.id] {
			continue
		}
		seen[t.id] = true
		m := c.members[t.id]
		if m == nil {
			m = &member{id: t.id, topo: t}
			c.members[t.id] = m
			c.open(m, t.addr)
			if !first {
				c.event(now, TopologyNodeAdded, m.addr, fmt.Sprintf("node %s joined the cluster as %s", label(m.addr, m.id), t.role))
			}
			continue
		}
		if t.addr != m.addr {
			_ = m.closeClient()
			c.open(m, t.addr)
		}
		old := m.topo
		m.topo = t
		switch {
		case old.role == "replica" && t.role == "master":
			from := c.addrOf(old.masterID)
			msg := fmt.Sprintf("failover: %s replaced %s as master", label(m.addr, m.id), from)
			if len(t.slots) > 0 {
				msg += " of slots " + FormatSlots(t.slots)
			}
			c.event(now, TopologyFailover, m.addr, msg)
		case old.role == "master" && t.role == "replica":
			c.event(now, TopologyRoleChanged, m.addr, fmt.Sprintf("%s is now a replica of %s", label(m.addr, m.id), c.addrOf(t.masterID)))
		case t.role == "replica" && old.masterID != t.masterID && t.masterID != "":
			c.event(now, TopologyRoleChanged, m.addr, fmt.Sprintf("%s now replicates %s", label(m.addr, m.id), c.addrOf(t.masterID)))
		}
	}
	for id, m := range c.members {
		if !seen[id] {
			c.event(now, TopologyNodeRemoved, m.addr, fmt.Sprintf("node %s left the cluster", label(m.addr, m.id)))
			_ = m.closeClient()
			delete(c.members, id)
		}
	}
}

// open gives a member a connection and a node of its own at addr.
func (c *clusterPoller) open(m *member, addr string) {
	m.addr = addr
	m.node, m.client, m.snap = nil, nil, nil
	m.polled, m.up, m.runID = false, false, ""
	if addr == "" {
		return
	}
	m.client = redis.NewClient(memberOptions(c.cc.Options(), reachable(addr, c.cc.Options().Addrs)))
	opts := c.opts
	// The explorer's own lookups cannot be told apart per node; the
	// aggregate subtracts them instead.
	opts.Addr, opts.Lookups = addr, nil
	n := newNode(addr, m.client, opts)
	n.member = true
	n.now = c.now
	n.resp3 = m.client.Options().Protocol != 2
	m.node = n
}

func (m *member) closeClient() error {
	if m.client == nil {
		return nil
	}
	err := m.client.Close()
	m.client = nil
	return err
}

// memberOptions are the options of a connection to one node, made from the
// cluster client's (credentials, TLS, timeouts, protocol), with one
// connection and no retries: the poller retries every tick, and a retry
// would only hide the reason of a failure behind a timeout.
func memberOptions(co *redis.ClusterOptions, addr string) *redis.Options {
	o := &redis.Options{
		Addr:                       addr,
		ClientName:                 co.ClientName,
		Dialer:                     co.Dialer,
		Protocol:                   co.Protocol,
		Username:                   co.Username,
		Password:                   co.Password,
		CredentialsProvider:        co.CredentialsProvider,
		CredentialsProviderContext: co.CredentialsProviderContext,
		DialTimeout:                co.DialTimeout,
		ReadTimeout:                co.ReadTimeout,
		WriteTimeout:               co.WriteTimeout,
		ContextTimeoutEnabled:      true,
		TLSConfig:                  co.TLSConfig,
		PoolSize:                   1,
		MaxRetries:                 -1,
		DialerRetries:              1,
	}
	// ClusterOptions maps "no timeout" (-1) to 0, which Options would
	// read as the 3s default.
	if o.ReadTimeout == 0 {
		o.ReadTimeout = -1
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = -1
	}
	return o
}

// reachable is the address to dial for a node the cluster announces at
// addr. A cluster whose nodes announce loopback addresses while the user
// reached it through another host (a container's published ports) is
// dialed at that host, as go-redis's own cluster client does.
func reachable(addr string, seeds []string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || len(seeds) == 0 || !isLoopbackHost(host) {
		return addr
	}
	seedHost, _, err := net.SplitHostPort(seeds[0])
	if err != nil || seedHost == "" || isLoopbackHost(seedHost) {
		return addr
	}
	return net.JoinHostPort(seedHost, port)
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// addrOf names a node by address, or by ID when it is not a member.
func (c *clusterPoller) addrOf(id string) string {
	if m := c.members[id]; m != nil {
		return label(m.addr, m.id)
	}
	if id == "" {
		return "an unknown master"
	}
	return shortID(id)
}

func label(addr, id string) string {
	if addr != "" {
		return addr
	}
	return shortID(id)
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func (c *clusterPoller) event(now time.Time, kind TopologyEventKind, node, msg string) {
	c.events.add(TopologyEvent{Time: now, Kind: kind, Node: node, Message: msg})
}

// observe records what changed since the last tick: nodes that stopped or
// started answering, restarts, and nodes whose INFO role differs from the
// topology (a promotion in progress). It reports whether the topology
// should be read again now.
func (c *clusterPoller) observe(now time.Time) bool {
	changed := false
	for _, m := range c.sortedMembers() {
		s := m.snap
		if s == nil {
			continue
		}
		what := m.topo.role
		if len(m.topo.slots) > 0 {
			what += " of slots " + FormatSlots(m.topo.slots)
		}
		if m.polled && m.up && !s.Health.Up {
			c.event(now, TopologyNodeDown, m.addr, fmt.Sprintf("node %s (%s) stopped answering: %s", m.addr, what, s.Health.Error))
			changed = true
		}
		if m.polled && !m.up && s.Health.Up {
			c.event(now, TopologyNodeUp, m.addr, fmt.Sprintf("node %s (%s) answers again", m.addr, what))
			changed = true
		}
		if s.Health.Up {
			if m.runID != "" && s.Server.RunID != m.runID {
				c.event(now, TopologyRestart, m.addr, fmt.Sprintf("node %s restarted (new run_id): its rates start again", m.addr))
				changed = true
			}
			m.runID = s.Server.RunID
			if roleName(s.Replication.Role) != m.topo.role {
				changed = true
			}
		}
		m.polled, m.up = true, s.Health.Up
	}
	return changed
}

// readClusterInfo asks the next node in turn for CLUSTER INFO.
func (c *clusterPoller) readClusterInfo(ctx context.Context, now time.Time) {
	c.infoAt = now
	v, from, err := c.ask(ctx, "cluster|info", "cluster", "info")
	if err == nil {
		if _, ok := v.(string); !ok {
			err = errUnexpectedReply("CLUSTER INFO", v)
		}
	}
	if err != nil {
		c.infoErr = err
		return
	}
	c.infoErr = nil
	info := ParseInfo(v.(string))
	get := func(key string) int { n, _ := info.Int(key); return int(n) }
	prev := c.state
	st := &c.state
	st.State = info.String("cluster_state")
	st.SlotsAssigned, st.SlotsOK = get("cluster_slots_assigned"), get("cluster_slots_ok")
	st.SlotsPFail, st.SlotsFail = get("cluster_slots_pfail"), get("cluster_slots_fail")
	st.KnownNodes, st.Size = get("cluster_known_nodes"), get("cluster_size")
	st.CurrentEpoch, _ = info.Int("cluster_current_epoch")
	st.From, st.At = from, now
	if prev.State != "" && prev.State != st.State {
		c.event(now, TopologyClusterState, from, fmt.Sprintf("cluster state changed from %s to %s (as %s sees it)", prev.State, st.State, label(from, "a node")))
		c.troubleUntil = now.Add(clusterTroubleWindow)
	}
	// Nodes added or forgotten, or a new epoch (a failover): the topology
	// read last is out of date.
	if (prev.KnownNodes != 0 && st.KnownNodes != prev.KnownNodes) || (prev.CurrentEpoch != 0 && st.CurrentEpoch != prev.CurrentEpoch) {
		c.recheck = true
	}
}
