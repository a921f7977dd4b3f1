package redistest

import (
	"testing"

	"github.com/cachescope/cachescope/internal/redisproc"
)

// ClusterConfig describes a local Redis Cluster.
type ClusterConfig = redisproc.ClusterConfig

// Cluster is a running local Redis Cluster.
type Cluster = redisproc.Cluster

// NewCluster starts a cluster outside any one test (for a TestMain); the
// caller must Close it.
func NewCluster(cfg ClusterConfig) (*Cluster, error) { return redisproc.StartCluster(cfg) }

// StartCluster starts a cluster for one test and stops it when the test
// ends. It needs redis-cli (redis-tools) to join the nodes.
func StartCluster(tb testing.TB, cfg ClusterConfig) *Cluster {
	tb.Helper()
	Require(tb)
	c, err := redisproc.StartCluster(cfg)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}
