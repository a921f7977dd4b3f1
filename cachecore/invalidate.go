package cachecore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// InvalidateOptions tune InvalidatePattern. The zero value deletes at full
// speed in batches of 500.
type InvalidateOptions struct {
	// DryRun scans and counts what would be deleted, and deletes nothing.
	DryRun bool
	// BatchSize is the most keys deleted per round trip. 0 means 500.
	BatchSize int
	// ScanCount is the COUNT hint of each SCAN call. 0 means 1000.
	ScanCount int
	// MaxRate caps deletions at this many keys per second across all
	// servers, so the server stays responsive. 0 means unpaced.
	MaxRate int
	// SampleSize is how many matched keys Sample keeps. 0 means 10.
	SampleSize int
	// Progress, if set, is called after every SCAN page with the result so
	// far. Calls never overlap.
	Progress func(InvalidateResult)
	// BeforeDelete, if set, is called with each batch of keys (full Redis
	// keys, namespace included) before it is deleted, with the server that
	// holds them. An error stops the invalidation before that batch is
	// deleted. The dashboard uses it to DUMP a backup.
	BeforeDelete func(ctx context.Context, node redis.Cmdable, keys []string) error
}

// InvalidateResult reports what InvalidatePattern did.
type InvalidateResult struct {
	// Scanned is how many keys the servers examined: the key count at the
	// start once the scan completes, estimated from the SCAN COUNT while it
	// runs or if it stops early.
	Scanned int64 `json:"scanned"`
	// Matched is how many keys matched the pattern. SCAN may return a key
	// twice while the server resizes its table, so this can overcount
	// slightly; Deleted never does.
	Matched int64 `json:"matched"`
	// Deleted is how many keys were deleted (0 in a dry run).
	Deleted int64 `json:"deleted"`
	// Sample holds the first matched keys (without the namespace prefix).
	Sample []string `json:"sample"`
	// Duration is the time the invalidation took.
	Duration time.Duration `json:"duration_ns"`
	// DryRun repeats the option, so a printed result says what it was.
	DryRun bool `json:"dry_run"`
}

// InvalidatePattern deletes every key of the cache matching pattern (a
// Redis glob, relative to the namespace: "product:*"). It walks each master
// with SCAN MATCH (never KEYS) and deletes with UNLINK in batches, checking
// every key against the pattern again before deleting it. Cancelling ctx
// stops it promptly; the partial result is returned with ctx's error. Use
// EscapeGlob for literal parts of the pattern.
func (c *Cache) InvalidatePattern(ctx context.Context, pattern string, opts InvalidateOptions) (InvalidateResult, error) {
	if pattern == "" {
		return InvalidateResult{}, errors.New("cachecore: invalidate: empty pattern")
	}
	if opts.BatchSize < 0 || opts.ScanCount < 0 || opts.MaxRate < 0 || opts.SampleSize < 0 {
		return InvalidateResult{}, errors.New("cachecore: invalidate: options must not be negative")
	}
	inv := &invalidation{c: c, opts: opts, pattern: EscapeGlob(c.opts.Namespace) + pattern}
	if c.opts.Namespace != "" {
		inv.pattern = EscapeGlob(c.opts.Namespace) + ":" + pattern
	}
	inv.defaults()
	inv.start = time.Now()
	inv.res.DryRun = opts.DryRun
	err := forEachPrimary(ctx, c.rdb, inv.node)
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if err == nil {
		inv.res.Scanned = inv.total
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		} else {
			c.countError(opInvalidate, nil)
		}
		return inv.snapshot(), fmt.Errorf("cachecore: invalidate %q: %w", pattern, err)
	}
	return inv.snapshot(), nil
}

// invalidation is one InvalidatePattern call, shared by the goroutines that
// walk each master.
type invalidation struct {
	c       *Cache
	opts    InvalidateOptions
	pattern string
	pacer   *pacer

	mu    sync.Mutex
	start time.Time
	res   InvalidateResult
	total int64 // DBSIZE summed over the masters at their start
}

func (inv *invalidation) defaults() {
	o := &inv.opts
	if o.BatchSize == 0 {
		o.BatchSize = 500
	}
	if o.ScanCount == 0 {
		o.ScanCount = 1000
	}
	if o.SampleSize == 0 {
		o.SampleSize = 10
	}
	if o.MaxRate > 0 && !o.DryRun {
		inv.pacer = &pacer{rate: float64(o.MaxRate)}
		// Small batches spread a paced deletion evenly over each second.
		o.BatchSize = min(o.BatchSize, max(1, o.MaxRate/20))
	}
}

// node scans and deletes on one server.
func (inv *invalidation) node(ctx context.Context, node redis.Cmdable) error {
	size, err := node.DBSize(ctx).Result()
	if err != nil {
		return err
	}
	inv.mu.Lock()
	inv.total += size
	inv.mu.Unlock()

	var cursor uint64
	var examined int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var keys []string
		err := inv.c.call(ctx, opInvalidate, nil, func(ctx context.Context) (err error) {
			keys, cursor, err = node.Scan(ctx, cursor, inv.pattern, int64(inv.opts.ScanCount)).Result()
			return err
		})
		if err != nil {
			return err
		}
		prev := examined
		examined = min(examined+int64(inv.opts.ScanCount), size)
		if cursor == 0 {
			examined = size
		}
		matched := keys[:0]
		for _, k := range keys {
			if MatchGlob(inv.pattern, k) {
				matched = append(matched, k)
			}
		}
		inv.addMatched(matched, examined-prev)
		if !inv.opts.DryRun {
			for start := 0; start < len(matched); start += inv.opts.BatchSize {
				batch := matched[start:min(start+inv.opts.BatchSize, len(matched))]
				if err := inv.delete(ctx, node, batch); err != nil {
					return err
				}
			}
		}
		inv.progress()
		if cursor == 0 {
			return nil
		}
	}
}

func (inv *invalidation) addMatched(keys []string, examined int64) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.res.Matched += int64(len(keys))
	inv.res.Scanned += examined
	for _, k := range keys {
		if len(inv.res.Sample) >= inv.opts.SampleSize {
			break
		}
		inv.res.Sample = append(inv.res.Sample, strings.TrimPrefix(k, inv.c.prefix))
	}
}

// delete unlinks one batch, paced, after the BeforeDelete hook. On a single
// server the keys of each namespace go in one UNLINK; on a cluster node
// keys may sit in different slots, so each gets its own UNLINK in a
// pipeline.
func (inv *invalidation) delete(ctx context.Context, node redis.Cmdable, batch []string) error {
	if inv.pacer != nil {
		if err := inv.pacer.wait(ctx, len(batch)); err != nil {
			return err
		}
	}
	if inv.opts.BeforeDelete != nil {
		if err := inv.opts.BeforeDelete(ctx, node, batch); err != nil {
			return fmt.Errorf("before delete: %w", err)
		}
	}
	groups := make(map[*nsCounters][]string)
	for _, k := range batch {
		ns := inv.c.ns.of(strings.TrimPrefix(k, inv.c.prefix))
		groups[ns] = append(groups[ns], k)
	}
	counts := make(map[*nsCounters][]*redis.IntCmd, len(groups))
	err := inv.c.call(ctx, opInvalidate, nil, func(ctx context.Context) error {
		_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
			for ns, keys := range groups {
				if inv.c.cluster {
					for _, k := range keys {
						counts[ns] = append(counts[ns], p.Unlink(ctx, k))
					}
				} else {
					counts[ns] = append(counts[ns], p.Unlink(ctx, keys...))
				}
			}
			return nil
		})
		return err
	})
	if inv.c.near != nil { // read-your-writes without waiting for Redis' reports
		inv.c.near.invalidated(batch)
	}
	if err != nil {
		return err
	}
	var deleted int64
	for ns, cmds := range counts {
		var n int64
		for _, cmd := range cmds {
			n += cmd.Val()
		}
		ns.invalidations.Add(n)
		deleted += n
	}
	inv.mu.Lock()
	inv.res.Deleted += deleted
	inv.mu.Unlock()
	return nil
}

func (inv *invalidation) progress() {
	if inv.opts.Progress == nil {
		return
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.opts.Progress(inv.snapshot())
}

// snapshot copies the result; the caller holds mu.
func (inv *invalidation) snapshot() InvalidateResult {
	r := inv.res
	r.Duration = time.Since(inv.start)
	r.Sample = append([]string(nil), r.Sample...)
	return r
}

// pacer spaces work so that it never runs faster than rate items per
// second, even after falling behind (no catch-up bursts).
type pacer struct {
	rate float64
	mu   sync.Mutex
	next time.Time
}

func (p *pacer) wait(ctx context.Context, n int) error {
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
