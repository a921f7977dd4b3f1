package cachecore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// versionKey holds the version counter of name. It has no TTL: it must
// outlive the entries it versions.
func (c *Cache) versionKey(name string) string { return c.prefix + "__version:" + name }

// VersionedKey returns key inside the current version of name, as
// "name:v<version>:key", to use with Get, Set and GetOrSet. After
// BumpVersion(name) it returns keys of the new version, so every entry
// written under the old one becomes unreachable at once; those expire by
// their TTL.
//
// A name never seen before starts at the current Unix time in
// milliseconds rather than at 0, so that if the counter is ever lost
// (evicted, deleted by hand) versions keep moving forward and old entries
// cannot come back.
func (c *Cache) VersionedKey(ctx context.Context, name, key string) (string, error) {
	if name == "" || key == "" {
		return "", fmt.Errorf("%w: VersionedKey needs a name and a key", ErrInvalidKey)
	}
	v, err := c.version(ctx, name)
	if err != nil {
		return "", err
	}
	return name + ":v" + strconv.FormatInt(v, 10) + ":" + key, nil
}

// BumpVersion moves name to a new version and returns it.
func (c *Cache) BumpVersion(ctx context.Context, name string) (int64, error) {
	if name == "" {
		return 0, fmt.Errorf("%w: BumpVersion needs a name", ErrInvalidKey)
	}
	vk := c.versionKey(name)
	var incr *redis.IntCmd
	err := c.call(ctx, opVersion, nil, func(ctx context.Context) error {
		_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SetNX(ctx, vk, c.opts.now().UnixMilli(), 0)
			incr = p.Incr(ctx, vk)
			return nil
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cachecore: bump version %q: %w", name, err)
	}
	return incr.Val(), nil
}

// Version returns the current version of name without changing it.
func (c *Cache) Version(ctx context.Context, name string) (int64, error) {
	if name == "" {
		return 0, fmt.Errorf("%w: Version needs a name", ErrInvalidKey)
	}
	return c.version(ctx, name)
}

func (c *Cache) version(ctx context.Context, name string) (int64, error) {
	vk := c.versionKey(name)
	var v int64
	err := c.call(ctx, opVersion, nil, func(ctx context.Context) (err error) {
		v, err = c.rdb.Get(ctx, vk).Int64()
		if !errors.Is(err, redis.Nil) {
			return err
		}
		// First use: start from the clock (see VersionedKey). SETNX then
		// GET, so two processes racing here agree on one value.
		seed := c.opts.now().UnixMilli()
		if err = c.rdb.SetNX(ctx, vk, seed, 0).Err(); err != nil {
			return err
		}
		v, err = c.rdb.Get(ctx, vk).Int64()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("cachecore: version %q: %w", name, err)
	}
	return v, nil
}
