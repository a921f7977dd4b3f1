package monitor

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// testServer is a real redis-server with two clients: watched, which the
// poller uses and which fails the test if anything sends a forbidden
// command through it, and admin, for the test's own setup (CONFIG SET,
// DEBUG, FLUSHALL on this throwaway server).
type testServer struct {
	*redistest.Server
	watched *redis.Client
	admin   *redis.Client
}

func startServer(t *testing.T, args ...string) *testServer {
	t.Helper()
	s := redistest.Start(t, args...)
	ts := &testServer{Server: s, watched: s.Client(t), admin: s.Client(t)}
	redistest.ForbidDangerous(t, ts.watched)
	return ts
}

// guardedClient returns a new client for opts with the forbidden-command
// guard installed, closed when the test ends.
func guardedClient(t *testing.T, opts *redis.Options) *redis.Client {
	t.Helper()
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	redistest.ForbidDangerous(t, c)
	return c
}

// fakeClock is a settable clock for deciding which tiers are due.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// clockedPoller returns a poller whose tiers follow clock, so a test
// decides exactly which ticks read details and slowlog.
func clockedPoller(rdb redis.UniversalClient, opts Options, clock *fakeClock) *Poller {
	p := NewPoller(rdb, opts)
	p.setNow(clock.now)
	return p
}

// pollAfter advances the clock and polls.
func pollAfter(t *testing.T, p *Poller, clock *fakeClock, d time.Duration) *Snapshot {
	t.Helper()
	clock.advance(d)
	return p.Poll(context.Background())
}

// opsIn returns the number of operations a snapshot's rates stand for.
func opsIn(r Rates) float64 { return r.OpsPerSec * r.Interval.Seconds() }

// traffic sends n GETs in one pipeline on a one-connection client: hits
// for keys that exist, misses for the others.
func traffic(t *testing.T, c *redis.Client, hits, misses int) {
	t.Helper()
	ctx := context.Background()
	pipe := c.Pipeline()
	for i := 0; i < hits; i++ {
		pipe.Get(ctx, "present")
	}
	for i := 0; i < misses; i++ {
		pipe.Get(ctx, "absent")
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		t.Fatal(err)
	}
}

// appClient is a one-connection client standing for the application; its
// connection is opened (and its handshake done) before it returns, so
// later counts are exactly the commands a test sends.
func appClient(t *testing.T, s *redistest.Server) *redis.Client {
	t.Helper()
	opts := s.Options()
	opts.PoolSize, opts.MinIdleConns = 1, 0
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Set(context.Background(), "present", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// go-redis replaces the connection on the first pipeline; get that
	// done now.
	traffic(t, c, 1, 0)
	return c
}

// withPassword returns a copy of opts with the given credentials.
func withPassword(opts *redis.Options, user, pass string) *redis.Options {
	o := *opts
	o.Username, o.Password = user, pass
	return &o
}
