package redistest

import (
	"errors"
	"sync"
	"testing"

	"github.com/cachescope/cachescope/internal/redisproc"
)

// SharedCluster is a Redis Cluster shared by the tests of one package: it
// starts on the first Get, so a run that selects none of its tests starts
// no processes, and the package's TestMain closes it after m.Run:
//
//	var cluster = redistest.NewSharedCluster(redistest.ClusterConfig{Masters: 3, Replicas: 1})
//
//	func TestMain(m *testing.M) { os.Exit(cluster.Main(m)) }
//
// Tests that share it must keep to their own keys (a prefix of their own),
// channels and settings, and must not kill its nodes: a test that needs a
// failover starts a cluster of its own.
type SharedCluster struct {
	cfg     ClusterConfig
	once    sync.Once
	mu      sync.Mutex
	cluster *Cluster
	err     error
	closed  bool
}

// NewSharedCluster describes a shared cluster; nothing starts yet.
func NewSharedCluster(cfg ClusterConfig) *SharedCluster { return &SharedCluster{cfg: cfg} }

// Get returns the running cluster, starting it on first use. Without
// redis-server it skips the test (or fails it under
// CACHESCOPE_REQUIRE_REDIS=1); if the cluster could not start, every test
// that asks for it fails with the reason.
func (s *SharedCluster) Get(tb testing.TB) *Cluster {
	tb.Helper()
	Require(tb)
	s.once.Do(func() {
		c, err := redisproc.StartCluster(s.cfg)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed && c != nil {
			_ = c.Close()
			c, err = nil, errClosed
		}
		s.cluster, s.err = c, err
	})
	if s.err != nil {
		tb.Fatalf("redistest: shared cluster: %v", s.err)
	}
	return s.cluster
}

// Close stops the cluster if it was started. It is safe to call more than
// once.
func (s *SharedCluster) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.cluster == nil {
		return nil
	}
	err := s.cluster.Close()
	s.cluster = nil
	return err
}

// Main runs the package's tests and then closes the cluster; it returns
// the exit code for os.Exit.
func (s *SharedCluster) Main(m *testing.M) int {
	code := m.Run()
	_ = s.Close()
	return code
}

var errClosed = errors.New("closed before it started")
