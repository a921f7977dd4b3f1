package monitor

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
	"github.com/cachescope/cachescope/internal/sanitize"
)

// InvalidateOptions tune [Actions.Invalidate].
type InvalidateOptions struct {
	// DryRun scans and counts what would be deleted, with a sample, and
	// deletes nothing. A dry run is not a write: it is allowed in
	// read-only mode and not audited.
	DryRun bool
	// MaxRate caps deletions at this many keys per second. 0 means
	// unpaced.
	MaxRate int
	// SampleSize is how many matched keys the report keeps. 0 means 10.
	SampleSize int
	// Backup is the file every key is dumped to (appended) before it is
	// deleted; "" means no backup. A file this call created is removed
	// again if nothing was deleted.
	Backup string
	// Progress, if set, is called after every SCAN page with the report
	// so far. Calls never overlap.
	Progress func(InvalidateReport)
}

// InvalidateReport is what an invalidation did.
type InvalidateReport struct {
	cachecore.InvalidateResult
	// Pattern is the pattern invalidated.
	Pattern string `json:"pattern"`
	// Backup is the backup file ("" when none was asked or nothing was
	// kept), BackedUp how many keys it received.
	Backup   string `json:"backup,omitempty"`
	BackedUp int64  `json:"backed_up"`
}

// Invalidate deletes every key matching pattern (a Redis glob over whole
// keys) through cachecore.Cache.InvalidatePattern: SCAN on each master,
// UNLINK in batches, paced by MaxRate, stopped promptly by cancelling ctx
// (the partial report comes back with ctx's error). With Backup set, each
// batch is dumped and made durable before it is deleted.
func (a *Actions) Invalidate(ctx context.Context, pattern string, opts InvalidateOptions) (InvalidateReport, error) {
	if !opts.DryRun {
		if err := a.begin(); err != nil {
			return InvalidateReport{Pattern: pattern}, err
		}
	}
	rep, err := a.invalidate(ctx, pattern, opts)
	if opts.DryRun {
		return rep, err
	}
	entry := AuditEntry{Action: ActionInvalidate, Pattern: pattern, Keys: auditKeyList(rep.Sample),
		Count: rep.Deleted, Backup: rep.Backup,
		Detail: fmt.Sprintf("scanned %d matched %d in %s", rep.Scanned, rep.Matched, rep.Duration.Round(time.Millisecond))}
	return rep, a.record(entry, err)
}

func (a *Actions) invalidate(ctx context.Context, pattern string, opts InvalidateOptions) (InvalidateReport, error) {
	rep := InvalidateReport{Pattern: pattern, Backup: opts.Backup}
	if opts.DryRun {
		rep.Backup = ""
	}
	c, err := a.cache("")
	if err != nil {
		return rep, err
	}
	var backedUp atomic.Int64
	copts := cachecore.InvalidateOptions{DryRun: opts.DryRun, MaxRate: opts.MaxRate, SampleSize: opts.SampleSize}
	if opts.Progress != nil {
		copts.Progress = func(r cachecore.InvalidateResult) {
			opts.Progress(InvalidateReport{InvalidateResult: r, Pattern: pattern, Backup: rep.Backup, BackedUp: backedUp.Load()})
		}
	}
	var bw *backupWriter
	if opts.Backup != "" && !opts.DryRun {
		a.backupMu.Lock()
		defer a.backupMu.Unlock()
		if bw, err = openBackup(opts.Backup, a.backupHeader(ActionInvalidate, pattern)); err != nil {
			return rep, err
		}
		var mu chanMutex = make(chan struct{}, 1) // masters call the hook concurrently
		copts.BeforeDelete = func(ctx context.Context, node redis.Cmdable, keys []string) error {
			if err := mu.lock(ctx); err != nil {
				return err
			}
			defer mu.unlock()
			n, err := a.dump(ctx, node, keys, bw)
			backedUp.Add(n)
			return err
		}
	}
	res, err := c.InvalidatePattern(ctx, pattern, copts)
	rep.InvalidateResult = res
	rep.BackedUp = backedUp.Load()
	if bw != nil {
		kept, cerr := bw.closeOrDiscard()
		if !kept {
			rep.Backup = ""
		}
		err = errors.Join(err, cerr)
	}
	return rep, err
}

// chanMutex is a mutex whose Lock gives up when ctx ends.
type chanMutex chan struct{}

func (m chanMutex) lock(ctx context.Context) error {
	select {
	case m <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m chanMutex) unlock() { <-m }

// RestoreResult reports a restore.
type RestoreResult struct {
	// Header describes the backup file.
	Header BackupHeader `json:"header"`
	// Restored keys were put back; Expired ones were skipped because their
	// TTL ran out since they were dumped; Failed ones were refused by the
	// server (Errors holds the first few reasons, sanitized).
	Restored int64    `json:"restored"`
	Expired  int64    `json:"expired"`
	Failed   int64    `json:"failed"`
	Errors   []string `json:"errors,omitempty"`
	// Duration is how long it took.
	Duration time.Duration `json:"duration_ns"`
}

const (
	restoreBatch  = 100
	restoreErrors = 5
)

// Restore puts the keys of a backup file back with RESTORE ... REPLACE,
// each with the time to live it had left when it was dumped less the time
// since (so it expires when it would have); a key whose TTL ran out
// meanwhile is skipped and counted as Expired. A key that exists is
// replaced. Cancelling ctx stops it; the partial result comes back with
// ctx's error.
func (a *Actions) Restore(ctx context.Context, path string) (RestoreResult, error) {
	if err := a.begin(); err != nil {
		return RestoreResult{}, err
	}
	start := a.now()
	var res RestoreResult
	batch := make([]BackupRecord, 0, restoreBatch)
	flush := func() error {
		err := a.restoreBatch(ctx, batch, &res)
		batch = batch[:0]
		return err
	}
	h, err := ReadBackup(path, func(r BackupRecord) error {
		batch = append(batch, r)
		if len(batch) == restoreBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	res.Header, res.Duration = h, time.Since(start)
	entry := AuditEntry{Action: ActionRestore, Count: res.Restored, Backup: path,
		Detail: fmt.Sprintf("restored %d expired %d failed %d", res.Restored, res.Expired, res.Failed)}
	return res, a.record(entry, err)
}

func (a *Actions) restoreBatch(ctx context.Context, recs []BackupRecord, res *RestoreResult) error {
	if len(recs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := a.now()
	cmds := make([]*redis.StatusCmd, len(recs))
	_, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range recs {
			var ttl time.Duration // 0: no expiry
			if r.HasTTL {
				ttl = r.TTL - now.Sub(r.DumpedAt)
				if ttl < time.Millisecond {
					continue
				}
			}
			cmds[i] = p.RestoreReplace(ctx, r.Key, ttl, r.Payload)
		}
		return nil
	})
	if err := pipeError(ctx, err); err != nil {
		return fmt.Errorf("monitor: restore: %w", err)
	}
	for i, cmd := range cmds {
		switch {
		case cmd == nil:
			res.Expired++
		case cmd.Err() != nil:
			res.Failed++
			if len(res.Errors) < restoreErrors {
				res.Errors = append(res.Errors, sanitize.Truncate(sanitize.Line(recs[i].Key), 80)+": "+sanitize.Line(cmd.Err().Error()))
			}
		default:
			res.Restored++
		}
	}
	return nil
}
