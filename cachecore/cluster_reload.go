package cachecore

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// reloadClusterState asks a cluster client to read the slot map again
// after a failed round trip. go-redis reloads it by itself on MOVED
// replies and otherwise only every ClusterStateReloadInterval (60s by
// default): after a master dies and its replica takes over, a client that
// is only told "connection refused" would keep sending that shard's keys
// to the dead node for up to a minute. The reload is asynchronous and
// coalesced by go-redis (one at a time, at most every 200ms), so calling it
// on every failure costs nothing on the hot path.
func (c *Cache) reloadClusterState() {
	if cc, ok := c.rdb.(*redis.ClusterClient); ok {
		cc.ReloadState(context.Background())
	}
}
