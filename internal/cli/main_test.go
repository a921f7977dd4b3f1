package cli

import (
	"os"
	"testing"

	"github.com/cachescope/cachescope/internal/redistest"
)

// sharedCluster is the Redis Cluster (3 masters, a replica each) the
// package's cluster tests share, each with keys and channels of its own
// prefix.
var sharedCluster = redistest.NewSharedCluster(redistest.ClusterConfig{Masters: 3, Replicas: 1})

func TestMain(m *testing.M) { os.Exit(sharedCluster.Main(m)) }
