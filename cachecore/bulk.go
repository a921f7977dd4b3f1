package cachecore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// MGet reads keys and returns the hits, decoded as T. Absent keys, negative
// entries and values that do not decode are left out; each key counts as a
// hit or a miss in its namespace, and an undecodable value also counts as a
// decode error rather than failing the call. Keys are read in chunks of
// Options.BulkChunk, with MGET on a single server and per-key GETs in a
// pipeline on a cluster (so keys may span hash slots). On a Redis error
// MGet returns the hits read so far and the error.
func MGet[T any](ctx context.Context, c *Cache, keys ...string) (map[string]T, error) {
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, err
		}
	}
	out := make(map[string]T, len(keys))
	for start := 0; start < len(keys); start += c.opts.BulkChunk {
		chunk := keys[start:min(start+c.opts.BulkChunk, len(keys))]
		raws, err := c.readChunk(ctx, chunk)
		if err != nil {
			return out, fmt.Errorf("cachecore: mget: %w", err)
		}
		for i, key := range chunk {
			ns := c.ns.of(key)
			if raws[i] == nil {
				ns.misses.Add(1)
				continue
			}
			v, env, err := decodeValue[T](c, raws[i])
			switch {
			case err != nil:
				ns.misses.Add(1)
				c.countError(opDecode, ns)
				c.errlog.log("decode", key, err)
			case env.Negative:
				ns.hits.Add(1)
			default:
				ns.hits.Add(1)
				out[key] = v
			}
		}
	}
	return out, nil
}

// readChunk returns the raw values of keys, nil for absent ones.
func (c *Cache) readChunk(ctx context.Context, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	if !c.cluster {
		var vals []any
		err := c.call(ctx, opMGet, nil, func(ctx context.Context) (err error) {
			vals, err = c.rdb.MGet(ctx, full...).Result()
			return err
		})
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			if s, ok := v.(string); ok {
				out[i] = []byte(s)
			}
		}
		return out, nil
	}
	cmds := make([]*redis.StringCmd, len(keys))
	err := c.call(ctx, opMGet, nil, func(ctx context.Context) error {
		_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range full {
				cmds[i] = p.Get(ctx, k)
			}
			return nil
		})
		if errors.Is(err, redis.Nil) { // Pipelined reports the first command error
			err = nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for i, cmd := range cmds {
		if b, err := cmd.Bytes(); err == nil {
			out[i] = b
		}
	}
	return out, nil
}

// MSet stores items, each under its own jittered ttl (0 means
// Options.DefaultTTL), through pipelines of Options.BulkChunk SETs, which
// work across cluster hash slots. Keys are checked before anything is
// written. MSet is not atomic: on an error, earlier chunks stay written.
func (c *Cache) MSet(ctx context.Context, items map[string]any, ttl time.Duration) error {
	for k := range items {
		if err := checkKey(k); err != nil {
			return err
		}
	}
	ttl, err := c.resolveTTL(ttl)
	if err != nil {
		return err
	}
	type entry struct {
		key string
		val []byte
	}
	chunk := make([]entry, 0, min(len(items), c.opts.BulkChunk))
	flush := func() error {
		err := c.call(ctx, opMSet, nil, func(ctx context.Context) error {
			_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, e := range chunk {
					p.Set(ctx, c.prefix+e.key, e.val, c.jitter(ttl))
				}
				return nil
			})
			return err
		})
		if err != nil {
			return fmt.Errorf("cachecore: mset: %w", err)
		}
		for _, e := range chunk {
			c.ns.of(e.key).sets.Add(1)
		}
		chunk = chunk[:0]
		return nil
	}
	for k, v := range items {
		payload, err := c.encode(k, v)
		if err != nil {
			c.countError(opMSet, c.ns.of(k))
			return err
		}
		chunk = append(chunk, entry{k, encodeEnvelope(payload, false, nil)})
		if len(chunk) == c.opts.BulkChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(chunk) > 0 {
		return flush()
	}
	return nil
}
