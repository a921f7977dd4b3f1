package monitor

import (
	"os"
	"testing"

	"github.com/cachescope/cachescope/internal/redistest"
)

// sharedCluster is the Redis Cluster (3 masters, a replica each) the
// package's cluster tests share; each keeps to keys and channels of its
// own prefix. Tests that count operations exactly do not call t.Parallel,
// so no other test of the package runs meanwhile. A test that kills a node
// starts a cluster of its own.
var sharedCluster = redistest.NewSharedCluster(redistest.ClusterConfig{Masters: 3, Replicas: 1})

func TestMain(m *testing.M) { os.Exit(sharedCluster.Main(m)) }
