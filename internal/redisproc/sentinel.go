package redisproc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelConfig describes a Sentinel-managed master: one master, its
// replicas and the sentinels that watch them.
type SentinelConfig struct {
	// MasterName is the name the sentinels know the master by. "" means
	// "mymaster".
	MasterName string
	// Replicas is the number of replicas. 0 means 1.
	Replicas int
	// Sentinels is the number of sentinels. 0 means 3.
	Sentinels int
	// Quorum is how many sentinels must agree the master is down. 0 means
	// a majority of Sentinels.
	Quorum int
	// DownAfter is down-after-milliseconds: how long the master may not
	// answer before a sentinel thinks it down. 0 means 1s (quick failovers
	// for tests).
	DownAfter time.Duration
	// FailoverTimeout is failover-timeout. 0 means 5s.
	FailoverTimeout time.Duration
}

// SentinelGroup is a running master, its replicas and their sentinels.
type SentinelGroup struct {
	// MasterName is the name the sentinels know the master by.
	MasterName string
	// Servers are the data servers, the initial master first. A failover
	// changes which is master: ask [SentinelGroup.MasterAddr].
	Servers []*Server
	// Sentinels are the sentinel processes.
	Sentinels []*Server
}

// StartSentinel starts the master, the replicas (synced) and the sentinels,
// and waits until every sentinel agrees on the master, knows every replica
// and has found the other sentinels (SENTINEL CKQUORUM). The caller must
// call Close.
func StartSentinel(cfg SentinelConfig) (*SentinelGroup, error) {
	if cfg.MasterName == "" {
		cfg.MasterName = "mymaster"
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Sentinels == 0 {
		cfg.Sentinels = 3
	}
	if cfg.Quorum == 0 {
		cfg.Quorum = cfg.Sentinels/2 + 1
	}
	if cfg.DownAfter <= 0 {
		cfg.DownAfter = time.Second
	}
	if cfg.FailoverTimeout <= 0 {
		cfg.FailoverTimeout = 5 * time.Second
	}
	g := &SentinelGroup{MasterName: cfg.MasterName}
	master, err := Start(Config{})
	if err != nil {
		return nil, err
	}
	g.Servers = append(g.Servers, master)
	for i := 0; i < cfg.Replicas; i++ {
		r, err := Start(Config{Args: []string{"--replicaof", "127.0.0.1", strconv.Itoa(master.Port)}})
		if err != nil {
			_ = g.Close()
			return nil, err
		}
		g.Servers = append(g.Servers, r)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, r := range g.Servers[1:] {
		if err := waitSynced(r, deadline); err != nil {
			_ = g.Close()
			return nil, err
		}
	}
	for i := 0; i < cfg.Sentinels; i++ {
		conf := fmt.Sprintf("sentinel resolve-hostnames no\n"+
			"sentinel monitor %[1]s 127.0.0.1 %[2]d %[3]d\n"+
			"sentinel down-after-milliseconds %[1]s %[4]d\n"+
			"sentinel failover-timeout %[1]s %[5]d\n"+
			"sentinel parallel-syncs %[1]s 1\n",
			cfg.MasterName, master.Port, cfg.Quorum, cfg.DownAfter.Milliseconds(), cfg.FailoverTimeout.Milliseconds())
		s, err := Start(Config{ConfigText: conf, Args: []string{"--sentinel"}})
		if err != nil {
			_ = g.Close()
			return nil, err
		}
		g.Sentinels = append(g.Sentinels, s)
	}
	if err := g.waitAgreed(master.Addr, cfg.Replicas, deadline); err != nil {
		_ = g.Close()
		return nil, err
	}
	return g, nil
}

// SentinelAddrs returns the sentinels' addresses.
func (g *SentinelGroup) SentinelAddrs() []string {
	out := make([]string, len(g.Sentinels))
	for i, s := range g.Sentinels {
		out[i] = s.Addr
	}
	return out
}

// FailoverOptions returns go-redis options for a client that resolves the
// master through the sentinels and follows failovers.
func (g *SentinelGroup) FailoverOptions() *redis.FailoverOptions {
	return &redis.FailoverOptions{MasterName: g.MasterName, SentinelAddrs: g.SentinelAddrs(), ContextTimeoutEnabled: true}
}

// MasterAddr asks the running sentinels for the master's address and
// returns what the first that answers says.
func (g *SentinelGroup) MasterAddr(ctx context.Context) (string, error) {
	var errs []error
	for _, s := range g.Sentinels {
		if !s.Running() {
			continue
		}
		addr, err := sentinelMaster(ctx, s, g.MasterName)
		if err == nil {
			return addr, nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("redisproc: no sentinel knows the master: %w", errors.Join(errs...))
}

// Server returns the data server listening on addr, or nil.
func (g *SentinelGroup) Server(addr string) *Server {
	for _, s := range g.Servers {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

// Failover asks a sentinel to fail over now (SENTINEL FAILOVER, without
// waiting for the master to be down) and waits up to timeout until every
// running sentinel names the new master and it reports the master role.
// It returns the new master's address.
func (g *SentinelGroup) Failover(timeout time.Duration) (string, error) {
	ctx := context.Background()
	old, err := g.MasterAddr(ctx)
	if err != nil {
		return "", err
	}
	var lastErr error
	deadline := time.Now().Add(timeout)
	for _, s := range g.Sentinels {
		c := redis.NewSentinelClient(s.Options())
		lastErr = c.Failover(ctx, g.MasterName).Err()
		_ = c.Close()
		if lastErr == nil {
			break
		}
		// "INPROG Failover already in progress" or "NOGOODSLAVE" right
		// after another failover: another sentinel may do better.
	}
	if lastErr != nil {
		return "", fmt.Errorf("redisproc: SENTINEL FAILOVER: %w", lastErr)
	}
	return g.WaitNewMaster(old, time.Until(deadline))
}

// KillMaster kills the current master (SIGKILL), as a crash would, and
// returns its address. The sentinels fail over after DownAfter; wait with
// WaitNewMaster.
func (g *SentinelGroup) KillMaster() (string, error) {
	addr, err := g.MasterAddr(context.Background())
	if err != nil {
		return "", err
	}
	s := g.Server(addr)
	if s == nil {
		return "", fmt.Errorf("redisproc: the sentinels name %s, which is none of the group's servers", addr)
	}
	return addr, s.Kill()
}

// WaitNewMaster waits up to timeout until every running sentinel names a
// master other than old, and that server says it is a master. It returns
// the new master's address.
func (g *SentinelGroup) WaitNewMaster(old string, timeout time.Duration) (string, error) {
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		addr, agreed := g.agreedMaster(ctx)
		if agreed && addr != old {
			if s := g.Server(addr); s != nil && roleOf(ctx, s) == "master" {
				return addr, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("redisproc: no failover from %s within %v (sentinels say %q)", old, timeout, addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close stops every process of the group.
func (g *SentinelGroup) Close() error {
	var errs []error
	for _, s := range g.Sentinels {
		errs = append(errs, s.Close())
	}
	for _, s := range g.Servers {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// agreedMaster returns the master the running sentinels name, and whether
// they all name the same one.
func (g *SentinelGroup) agreedMaster(ctx context.Context) (string, bool) {
	addr := ""
	for _, s := range g.Sentinels {
		if !s.Running() {
			continue
		}
		a, err := sentinelMaster(ctx, s, g.MasterName)
		if err != nil || (addr != "" && a != addr) {
			return a, false
		}
		addr = a
	}
	return addr, addr != ""
}

// waitAgreed waits until every sentinel names master, lists the replicas
// as healthy and can reach its quorum (it has found the others).
func (g *SentinelGroup) waitAgreed(master string, replicas int, deadline time.Time) error {
	ctx := context.Background()
	for _, s := range g.Sentinels {
		c := redis.NewSentinelClient(s.Options())
		var state string
		for {
			state = sentinelReady(ctx, c, g.MasterName, master, replicas)
			if state == "" {
				break
			}
			if time.Now().After(deadline) {
				_ = c.Close()
				return fmt.Errorf("redisproc: sentinel %s not ready: %s", s.Addr, state)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = c.Close()
	}
	return nil
}

// sentinelReady returns "" when the sentinel is ready, or what it lacks.
func sentinelReady(ctx context.Context, c *redis.SentinelClient, name, master string, replicas int) string {
	addr, err := c.GetMasterAddrByName(ctx, name).Result()
	if err != nil {
		return err.Error()
	}
	if len(addr) != 2 || addr[0]+":"+addr[1] != master {
		return fmt.Sprintf("master is %v, want %s", addr, master)
	}
	reps, err := c.Replicas(ctx, name).Result()
	if err != nil {
		return err.Error()
	}
	healthy := 0
	for _, r := range reps {
		if flags := r["flags"]; flags == "slave" && r["master-link-status"] == "ok" {
			healthy++
		}
	}
	if healthy < replicas {
		return fmt.Sprintf("%d of %d replicas known", healthy, replicas)
	}
	if err := c.CkQuorum(ctx, name).Err(); err != nil {
		return "quorum: " + err.Error()
	}
	return ""
}

func sentinelMaster(ctx context.Context, s *Server, name string) (string, error) {
	c := redis.NewSentinelClient(s.Options())
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addr, err := c.GetMasterAddrByName(ctx, name).Result()
	if err != nil {
		return "", err
	}
	if len(addr) != 2 {
		return "", fmt.Errorf("redisproc: unexpected master address %v", addr)
	}
	return addr[0] + ":" + addr[1], nil
}

// waitSynced waits until a replica's link to its master is up and its
// first sync is done.
func waitSynced(s *Server, deadline time.Time) error {
	ctx := context.Background()
	rdb := redis.NewClient(s.Options())
	defer rdb.Close()
	for {
		repl, err := rdb.Info(ctx, "replication").Result()
		if err == nil && strings.Contains(repl, "master_link_status:up") && strings.Contains(repl, "master_sync_in_progress:0") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redisproc: replica %s not synced: %v %s", s.Addr, err, lastLines(repl, 4))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func roleOf(ctx context.Context, s *Server) string {
	rdb := redis.NewClient(s.Options())
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	repl, err := rdb.Info(ctx, "replication").Result()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(repl, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "role:"); ok {
			return v
		}
	}
	return ""
}
