package cachecore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
)

// MGet reads keys and returns the hits, decoded as T. Absent keys, negative
// entries and values that do not decode are left out; each key counts as a
// hit or a miss in its namespace, and an undecodable value also counts as a
// decode error rather than failing the call. Keys are read in chunks of
// Options.BulkChunk, Options.BulkConcurrency chunks at a time, with MGET on
// a single server and per-key GETs in a pipeline on a cluster (so keys may
// span hash slots). On a Redis error MGet returns the hits read so far and
// the error.
func MGet[T any](ctx context.Context, c *Cache, keys ...string) (map[string]T, error) {
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return nil, err
		}
	}
	out := make(map[string]T, len(keys))
	var mu sync.Mutex
	err := c.eachChunk(ctx, len(keys), func(ctx context.Context, start, end int) error {
		chunk := keys[start:end]
		raws, err := c.readChunk(ctx, chunk)
		if err != nil {
			return err
		}
		// Decode outside the lock: it is most of the client's work, and
		// the point of several chunks in flight is to overlap it with the
		// server's.
		vals := make([]T, len(chunk))
		hit := make([]bool, len(chunk))
		var nsc nsCache
		for i, key := range chunk {
			ns := nsc.of(c, key)
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
				vals[i], hit[i] = v, true
			}
		}
		mu.Lock()
		for i, key := range chunk {
			if hit[i] {
				out[key] = vals[i]
			}
		}
		mu.Unlock()
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("cachecore: mget: %w", err)
	}
	return out, nil
}

// eachChunk calls fn for the chunks [start, end) of n items, at most
// Options.BulkConcurrency at once, and returns the first error (which
// cancels the chunks not yet started).
func (c *Cache) eachChunk(ctx context.Context, n int, fn func(ctx context.Context, start, end int) error) error {
	if n <= c.opts.BulkChunk {
		if n == 0 {
			return nil
		}
		return fn(ctx, 0, n)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.BulkConcurrency)
	for start := 0; start < n; start += c.opts.BulkChunk {
		if ctx.Err() != nil {
			break
		}
		end := min(start+c.opts.BulkChunk, n)
		g.Go(func() error { return fn(ctx, start, end) })
	}
	return g.Wait()
}

// readChunk returns the raw values of keys, nil for absent ones.
func (c *Cache) readChunk(ctx context.Context, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	if !c.sharded {
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
// Options.DefaultTTL), through pipelines of Options.BulkChunk SETs,
// Options.BulkConcurrency at a time, which work across cluster hash slots.
// Keys are checked before anything is written. MSet is not atomic: on an
// error, other chunks may be written.
func (c *Cache) MSet(ctx context.Context, items map[string]any, ttl time.Duration) error {
	keys := make([]string, 0, len(items))
	for k := range items {
		if err := checkKey(k); err != nil {
			return err
		}
		keys = append(keys, k)
	}
	ttl, err := c.resolveTTL(ttl)
	if err != nil {
		return err
	}
	err = c.eachChunk(ctx, len(keys), func(ctx context.Context, start, end int) error {
		chunk := keys[start:end]
		vals, err := c.encodeChunk(chunk, items)
		if err != nil {
			return err
		}
		err = c.call(ctx, opMSet, nil, func(ctx context.Context) error {
			_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, k := range chunk {
					p.Set(ctx, c.prefix+k, vals[i], c.jitter(ttl))
				}
				return nil
			})
			return err
		})
		c.nearWritten(chunk...)
		if err != nil {
			return err
		}
		// Keys of one chunk mostly share a namespace: one add per run of
		// them rather than a lookup and an atomic add per key.
		var nsc nsCache
		var run *nsCounters
		var n int64
		for _, k := range chunk {
			ns := nsc.of(c, k)
			if ns != run {
				if run != nil {
					run.sets.Add(n)
				}
				run, n = ns, 0
			}
			n++
		}
		if run != nil {
			run.sets.Add(n)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrEncode) {
			return err
		}
		return fmt.Errorf("cachecore: mset: %w", err)
	}
	return nil
}

// nsCache remembers the last namespace looked up, for loops over keys that
// mostly share one.
type nsCache struct {
	name string
	ns   *nsCounters
}

func (n *nsCache) of(c *Cache, key string) *nsCounters {
	if name := namespaceOf(key); n.ns == nil || name != n.name {
		n.name, n.ns = name, c.ns.of(key)
	}
	return n.ns
}

// encodeChunk encodes the values of a chunk of MSet, each behind its
// envelope header. With the default JSON codec every value is encoded into
// one buffer for the whole chunk (the values are slices of it): two
// allocations per chunk instead of two per key, which is most of what MSet
// adds to a hand-written pipeline. The bytes are those json.Marshal gives.
func (c *Cache) encodeChunk(chunk []string, items map[string]any) ([][]byte, error) {
	vals := make([][]byte, len(chunk))
	if _, isJSON := c.opts.Codec.(JSONCodec); !isJSON {
		for i, k := range chunk {
			payload, err := c.encode(k, items[k])
			if err != nil {
				c.countError(opMSet, c.ns.of(k))
				return nil, err
			}
			vals[i] = encodeEnvelope(payload, false, nil)
		}
		return vals, nil
	}
	buf := &bytes.Buffer{}
	buf.Grow(len(chunk) * 64)
	enc := json.NewEncoder(buf)
	ends := make([]int, len(chunk))
	for i, k := range chunk {
		buf.Write([]byte{envelopeMagic, envelopeVersion, 0})
		if err := enc.Encode(items[k]); err != nil {
			c.countError(opMSet, c.ns.of(k))
			return nil, fmt.Errorf("%w %q: %v", ErrEncode, k, err)
		}
		buf.Truncate(buf.Len() - 1) // Encode ends each value with a newline
		ends[i] = buf.Len()
	}
	b := buf.Bytes()
	start := 0
	for i, end := range ends {
		vals[i] = b[start:end:end]
		start = end
	}
	return vals, nil
}
