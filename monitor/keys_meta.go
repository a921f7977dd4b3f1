package monitor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// pipeError returns the error of a pipeline that matters to the caller as
// a whole: a network failure or a cancelled context. Error replies of
// single commands (nil replies, ACL refusals) are left to each command.
func pipeError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		return nil
	}
	return err
}

// meta reads the metadata of keys in two pipelines (see Keys.Meta).
func (k *Keys) meta(ctx context.Context, keys []string) ([]KeyMeta, error) {
	out := make([]KeyMeta, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	types := make([]*redis.StatusCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	mems := make([]*redis.IntCmd, len(keys))
	encs := make([]*redis.StringCmd, len(keys))
	_, err := k.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, key := range keys {
			types[i] = p.Type(ctx, key)
			ttls[i] = p.PTTL(ctx, key)
			mems[i] = p.MemoryUsage(ctx, key, k.opts.MemorySamples)
			encs[i] = p.ObjectEncoding(ctx, key)
		}
		return nil
	})
	if err := pipeError(ctx, err); err != nil {
		return nil, fmt.Errorf("monitor: key metadata: %w", err)
	}
	var hits, misses int64
	count := func(found bool) {
		if found {
			hits++
		} else {
			misses++
		}
	}
	for i, key := range keys {
		m := KeyMeta{Key: key, Memory: -1, Length: -1}
		t, err := types[i].Result()
		if err != nil {
			return nil, fmt.Errorf("monitor: type: %w", err)
		}
		count(t != TypeNone)
		ttl := ttls[i].Val()
		if ttls[i].Err() == nil {
			count(ttl != -2)
		}
		enc, encErr := encs[i].Result()
		if encErr == nil || errors.Is(encErr, redis.Nil) {
			count(encErr == nil)
		}
		if t == TypeNone {
			out[i] = m
			continue
		}
		m.Exists, m.Type, m.Encoding = true, t, enc
		if ttl >= 0 {
			m.TTL, m.HasTTL = ttl, true
		}
		if n, err := mems[i].Result(); err == nil {
			m.Memory = n
		}
		out[i] = m
	}
	k.lookups.add(hits, misses)
	return out, k.lengths(ctx, out)
}

// lengths fills in Length for the keys that exist, in one pipeline.
func (k *Keys) lengths(ctx context.Context, metas []KeyMeta) error {
	cmds := make([]*redis.IntCmd, len(metas))
	queued := false
	_, err := k.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range metas {
			if m.Exists {
				cmds[i] = lengthCmd(ctx, p, m.Key, m.Type)
				queued = queued || cmds[i] != nil
			}
		}
		return nil
	})
	if !queued {
		return nil
	}
	if err := pipeError(ctx, err); err != nil {
		return fmt.Errorf("monitor: key lengths: %w", err)
	}
	var hits, misses int64
	for i, cmd := range cmds {
		if cmd == nil {
			continue
		}
		n, err := cmd.Result()
		if err != nil {
			continue // WRONGTYPE: the key changed type between the pipelines
		}
		metas[i].Length = n
		// A collection is never empty, so 0 means the key vanished; an
		// empty string is a string that exists.
		if n > 0 || metas[i].Type == TypeString {
			hits++
		} else {
			misses++
		}
	}
	k.lookups.add(hits, misses)
	return nil
}

// lengthCmd queues the command that measures a value of type typ, or
// returns nil for a type it does not know (a module type).
func lengthCmd(ctx context.Context, p redis.Pipeliner, key, typ string) *redis.IntCmd {
	switch typ {
	case TypeString:
		return p.StrLen(ctx, key)
	case TypeHash:
		return p.HLen(ctx, key)
	case TypeList:
		return p.LLen(ctx, key)
	case TypeSet:
		return p.SCard(ctx, key)
	case TypeZSet:
		return p.ZCard(ctx, key)
	case TypeStream:
		return p.XLen(ctx, key)
	}
	return nil
}

// FormatTTL renders a TTL for a table column: "-" without expiry,
// otherwise the largest two units ("1h05m", "42s", "350ms").
func FormatTTL(ttl time.Duration, has bool) string {
	if !has {
		return "-"
	}
	switch {
	case ttl < time.Second:
		return fmt.Sprintf("%dms", ttl.Milliseconds())
	case ttl < time.Minute:
		return fmt.Sprintf("%ds", int(ttl.Seconds()))
	case ttl < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(ttl.Minutes()), int(ttl.Seconds())%60)
	case ttl < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(ttl.Hours()), int(ttl.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(ttl.Hours())/24, int(ttl.Hours())%24)
}
