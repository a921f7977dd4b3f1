package monitor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
	"github.com/cachescope/cachescope/internal/redistest"
)

// A cluster master killed (SIGKILL) while an application's cachecore and
// the poller run: the application never gets an error (the loader's value
// is served), cachecore's errors stop once the replica is promoted, and
// the poller shows the failed node, then the new topology with a failover
// event and alert.
func TestFaultClusterMasterKilled(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterConfig{Masters: 3, Replicas: 1, NodeTimeout: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	cache, err := cachecore.New(cachecore.Options{Redis: cl.Client(t), Namespace: "fault", Logger: quietLogger,
		OpTimeout: 300 * time.Millisecond, BreakerCooldown: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const keys = 300
	items := map[string]any{}
	for i := 0; i < keys; i++ {
		items[fmt.Sprintf("k:%d", i)] = i
	}
	if err := cache.MSet(ctx, items, time.Hour); err != nil {
		t.Fatal(err)
	}

	// The application: GetOrSet over keys in every slot range, all the time.
	var calls, wrong atomic.Int64
	var appErr atomic.Value
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			k := i % keys
			v, err := cachecore.GetOrSet(ctx, cache, fmt.Sprintf("k:%d", k), time.Hour,
				func(context.Context) (int, error) { return k, nil })
			switch {
			case err != nil && ctx.Err() == nil:
				appErr.Store(err)
			case err == nil && v != k:
				wrong.Add(1)
			}
			calls.Add(1)
			time.Sleep(time.Millisecond)
		}
	})
	defer wg.Wait()
	defer cancel()

	// The dashboard's poller, on a quick refresh.
	watched := cl.Client(t)
	redistest.ForbidDangerous(t, watched)
	p := NewPoller(watched, Options{Interval: 200 * time.Millisecond, Timeout: time.Second})
	t.Cleanup(func() { _ = p.Close() })
	var latest atomic.Pointer[Snapshot]
	var seen []*Snapshot
	var seenMu sync.Mutex
	wg.Go(func() {
		_ = p.Run(ctx, func(s *Snapshot) {
			latest.Store(s)
			seenMu.Lock()
			seen = append(seen, s)
			seenMu.Unlock()
		})
	})
	eventually(t, "a healthy cluster in the poller", func() bool {
		s := latest.Load()
		return s != nil && s.Cluster != nil && s.Cluster.State == "ok" && s.Cluster.NodesDown == 0 && len(s.Nodes) == 6
	})
	s := latest.Load()
	victim := s.Nodes[0] // the master of slot 0
	var replica NodeStatus
	for _, n := range s.Nodes {
		if n.MasterID == victim.ID {
			replica = n
		}
	}
	if victim.Role != "master" || replica.ID == "" {
		t.Fatalf("victim %+v replica %+v", victim, replica)
	}
	var server *redistest.Server
	for _, n := range cl.Nodes {
		if n.Addr == victim.Addr {
			server = n
		}
	}
	if err := server.Kill(); err != nil {
		t.Fatal(err)
	}

	// First the failed node, down, with a critical alert.
	eventually(t, "the killed master shown down", func() bool {
		s := latest.Load()
		for _, a := range s.Alerts {
			if a.ID == AlertNodeDown && a.Level == Critical && strings.Contains(a.Message, victim.Addr) {
				return true
			}
		}
		return false
	})
	// Then the new topology: the replica is master of the victim's slots.
	var after *Snapshot
	eventually(t, "the replica promoted in the poller's topology", func() bool {
		after = latest.Load()
		for _, n := range after.Nodes {
			if n.ID == replica.ID && n.Role == "master" && FormatSlots(n.Slots) == FormatSlots(victim.Slots) && n.Up {
				return after.Cluster.State == "ok"
			}
		}
		return false
	})
	promotedAt := time.Now()
	if !hasAlert(after, AlertFailover) {
		t.Errorf("no failover alert: %v", after.Alerts)
	}
	var failover, down bool
	for _, e := range after.Events {
		failover = failover || (e.Kind == TopologyFailover && strings.Contains(e.Message, replica.Addr+" replaced "+victim.Addr))
		down = down || (e.Kind == TopologyNodeDown && e.Node == victim.Addr)
	}
	if !failover || !down {
		t.Errorf("events %+v", after.Events)
	}
	for _, n := range after.Nodes {
		if n.ID == victim.ID && (n.Up || n.Health != "failed") {
			t.Errorf("the dead node %+v", n)
		}
	}
	if !after.Health.Up {
		t.Errorf("the cluster is shown down: %+v", after.Health)
	}
	// The dead master is still listed as a master by the cluster, but it
	// is no longer one of the masters.
	if c := after.Cluster; c.Masters != 3 || c.Replicas != 2 || c.NodesDown != 1 {
		t.Errorf("after the failover: %d masters, %d replicas, %d down; want 3, 2, 1", c.Masters, c.Replicas, c.NodesDown)
	}
	seenMu.Lock()
	slotAlerts := 0
	for _, s := range seen {
		checkSane(t, "during the failover", s)
		for _, a := range s.Alerts {
			if a.ID == AlertClusterSlots {
				slotAlerts++
			}
		}
	}
	seenMu.Unlock()
	// Between the kill and the promotion (a second or more) the victim's
	// slots fail. The harness's cluster_require_full_coverage no keeps
	// cluster_state ok meanwhile, so only the slots alert shows it.
	if slotAlerts == 0 {
		t.Errorf("none of %d snapshots raised %s while the slots failed over", len(seen), AlertClusterSlots)
	}

	// cachecore's errors stop soon after the promotion: every failed round
	// trip asks the cluster client to read the slot map again. Without that,
	// go-redis would send the victim's keys to the dead node until its own
	// ClusterStateReloadInterval (60s from the client's start), failing
	// every call on them for most of a minute. 10s after the poller saw the
	// promotion is far longer than a reload takes (each is coalesced, at
	// most one per 200ms) and far shorter than that minute. Recovered means
	// a full pass of Gets over every key adds no error.
	const recoverWithin = 10 * time.Second
	errorsAt := cache.Stats().Errors
	for !cleanPass(ctx, cache, keys) {
		if d := time.Since(promotedAt); d > recoverWithin {
			t.Fatalf("cachecore still fails %v after the promotion: %d errors since",
				d.Round(time.Millisecond), cache.Stats().Errors-errorsAt)
		}
		time.Sleep(50 * time.Millisecond)
	}
	recovered := time.Since(promotedAt)
	// And the errors have stopped, not paused: once the application's call
	// in flight (which may have begun before the new slot map) has ended,
	// its next full pass over every key adds none.
	inFlight := calls.Load()
	eventually(t, "the application's call in flight to end", func() bool { return calls.Load() > inFlight })
	settled, from := cache.Stats().Errors, calls.Load()
	eventually(t, "a full pass of the application over the keys", func() bool { return calls.Load() >= from+keys })
	if n := cache.Stats().Errors - settled; n != 0 {
		t.Errorf("%d cachecore errors in the application's full pass after recovery", n)
	}
	cancel()
	wg.Wait()
	if err, _ := appErr.Load().(error); err != nil {
		t.Errorf("the application got an error: %v", err)
	}
	if wrong.Load() != 0 {
		t.Errorf("%d wrong values", wrong.Load())
	}
	t.Logf("%d application calls, %d cachecore errors in all; recovered %v after the promotion was seen",
		calls.Load(), cache.Stats().Errors, recovered.Round(time.Millisecond))
}

// Every node of a cluster is polled at once, each bounded by Timeout on its
// own: with the three replicas hung (SIGSTOP; a hung replica serves no
// slots, so nothing fails over), one tick takes about one Timeout, not one
// per hung node, and shows the hung nodes down with "timeout" and the
// others up. The clients wait patientTimeout, so only Timeout ends a hung
// node's tick.
func TestFaultClusterHungNodesPolledInParallel(t *testing.T) {
	t.Parallel()
	// Its own cluster: the shared one's other users must not see replicas
	// hang.
	cl := redistest.StartCluster(t, redistest.ClusterConfig{Masters: 3, Replicas: 1})
	co := cl.Options()
	co.DialTimeout, co.ReadTimeout, co.WriteTimeout = patientTimeout, patientTimeout, patientTimeout
	watched := redis.NewClusterClient(co)
	t.Cleanup(func() { _ = watched.Close() })
	redistest.ForbidDangerous(t, watched)
	const timeout = 2 * time.Second
	clock := newFakeClock()
	p := clockedPoller(watched, Options{Timeout: timeout}, clock)
	t.Cleanup(func() { _ = p.Close() })

	before := pollAfter(t, p, clock, 0)
	if len(before.Nodes) != 6 {
		t.Fatalf("%d nodes before the pause, want 6", len(before.Nodes))
	}
	servers := map[string]*redistest.Server{}
	for _, s := range cl.Nodes {
		servers[s.Addr] = s
	}
	hung := map[string]bool{}
	for _, n := range before.Nodes {
		if !n.Up {
			t.Fatalf("before the pause: %+v", n)
		}
		if n.Role == "replica" {
			hung[n.Addr] = true
		}
	}
	if len(hung) != 3 {
		t.Fatalf("%d replicas, want 3: %+v", len(hung), before.Nodes)
	}
	for addr := range hung {
		s := servers[addr]
		if s == nil {
			t.Fatalf("no server at %s", addr)
		}
		if err := s.Pause(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Resume() })
	}

	start := time.Now()
	during := pollAfter(t, p, clock, time.Second)
	// Parallel: about one Timeout (2s). One node after the other: at
	// least three (6s), however fast the machine. The bound leaves a whole
	// Timeout for a loaded machine's overhead.
	d := time.Since(start)
	t.Logf("a tick with %d nodes hung took %v", len(hung), d)
	if d >= 2*timeout {
		t.Fatalf("a tick took %v with %d of %d nodes hung and Timeout %v: the nodes are not polled in parallel",
			d, len(hung), len(during.Nodes), timeout)
	}
	if len(during.Nodes) != 6 {
		t.Fatalf("%d nodes during the pause, want 6", len(during.Nodes))
	}
	for _, n := range during.Nodes {
		switch {
		case hung[n.Addr] && (n.Up || n.Reason != "timeout"):
			t.Errorf("hung node %s: up %v, reason %q (%s)", n.Addr, n.Up, n.Reason, n.Error)
		case !hung[n.Addr] && !n.Up:
			t.Errorf("node %s is down: %s", n.Addr, n.Error)
		}
	}

	for addr := range hung {
		if err := servers[addr].Resume(); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "every node up again", func() bool {
		s := pollAfter(t, p, clock, time.Second)
		for _, n := range s.Nodes {
			if !n.Up {
				return false
			}
		}
		return len(s.Nodes) == 6
	})
}

// cleanPass reads every key once and reports whether none failed: not one
// Get returned an error other than a miss, and cachecore counted none.
func cleanPass(ctx context.Context, cache *cachecore.Cache, keys int) bool {
	before := cache.Stats().Errors
	for i := 0; i < keys; i++ {
		var v int
		if err := cache.Get(ctx, fmt.Sprintf("k:%d", i), &v); err != nil && !errors.Is(err, cachecore.ErrMiss) {
			return false
		}
	}
	return cache.Stats().Errors == before
}
