package cachecore

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// forEachPrimary calls fn for every server that owns keys: each master of
// a cluster (concurrently), each shard of a ring, or the one server behind a
// plain or failover client. The first error cancels the other calls.
func forEachPrimary(ctx context.Context, rdb redis.UniversalClient, fn func(ctx context.Context, node redis.Cmdable) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	each := func(ctx context.Context, node *redis.Client) error {
		if err := fn(ctx, node); err != nil {
			cancel()
			return err
		}
		return nil
	}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, each)
	case *redis.Ring:
		return c.ForEachShard(ctx, each)
	}
	return fn(ctx, rdb)
}
