package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
)

// ErrReadOnly is what every write of an [Actions] made without write mode
// returns: errors.Is(err, ErrReadOnly) holds, and err.Error() is the reason
// for the user (ActionsOptions.Reason).
var ErrReadOnly = errors.New("monitor: read-only mode")

// readOnlyError carries the reason writes are off.
type readOnlyError struct{ reason string }

func (e readOnlyError) Error() string        { return e.reason }
func (e readOnlyError) Is(target error) bool { return target == ErrReadOnly }

// ActionsOptions configure [Actions]. Every zero field means its
// documented default.
type ActionsOptions struct {
	// Write allows writes. Without it every write returns an error that
	// is ErrReadOnly and reads as Reason.
	Write bool
	// Reason says why writes are off, for the user (connect.WriteMode
	// gives it). "" means "read-only mode".
	Reason string
	// Server names the server in the audit log and backup headers (the
	// connection's display name, without secrets).
	Server string
	// AuditPath is the audit log file. "" means DefaultAuditPath().
	AuditPath string
	// BackupDir is where NewBackupPath puts backups. "" means
	// StateDir()/backups.
	BackupDir string
	// User names who acts in the audit log. "" means the OS user.
	User string
	// OpTimeout bounds each round trip of an invalidation or a version
	// bump (cachecore's OpTimeout). 0 means 5s.
	OpTimeout time.Duration
	// Lookups receives the keyspace hits and misses of the backups' DUMP
	// and PTTL. nil means none are counted.
	Lookups *Lookups
	// Logger receives cachecore's warnings. nil discards them.
	Logger *slog.Logger
}

// Actions is the one place cachescope writes to a server: delete, expire,
// persist, invalidate a pattern, bump a version and restore a backup. Each
// write is refused without write mode (ErrReadOnly), can back up what it
// deletes, and appends one line to the audit log; a write is refused when
// the audit log cannot be written, so none goes unrecorded. It is safe for
// concurrent use.
type Actions struct {
	rdb   redis.UniversalClient
	opts  ActionsOptions
	audit *AuditLog
	user  string

	backupMu sync.Mutex // serializes writes to backup files
	now      func() time.Time
}

// NewActions returns the writer for rdb. It fails only when the default
// audit path cannot be determined (no home directory).
func NewActions(rdb redis.UniversalClient, opts ActionsOptions) (*Actions, error) {
	if opts.Reason == "" {
		opts.Reason = "read-only mode"
	}
	if opts.OpTimeout <= 0 {
		opts.OpTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	audit, err := NewAuditLog(opts.AuditPath)
	if err != nil {
		return nil, err
	}
	u := opts.User
	if u == "" {
		u = osUser()
	}
	return &Actions{rdb: rdb, opts: opts, audit: audit, user: u, now: time.Now}, nil
}

// Writable reports whether writes are allowed and, if not, why.
func (a *Actions) Writable() (bool, string) {
	if a.opts.Write {
		return true, ""
	}
	return false, a.opts.Reason
}

// AuditPath returns the audit log's path.
func (a *Actions) AuditPath() string { return a.audit.Path() }

// NewBackupPath returns a new backup file name in the configured backup
// directory for action.
func (a *Actions) NewBackupPath(action string) (string, error) {
	return NewBackupPath(a.opts.BackupDir, action)
}

// begin checks write mode and the audit log before a write.
func (a *Actions) begin() error {
	if !a.opts.Write {
		return readOnlyError{a.opts.Reason}
	}
	if err := a.audit.Check(); err != nil {
		return fmt.Errorf("refusing to write without an audit log: %w", err)
	}
	return nil
}

// record appends the audit entry of a finished write, with its outcome,
// and returns the write's error joined with any audit failure.
//
// A refusal by the server's ACL comes back as ErrNoPermission, naming the
// user and the permission it lacks.
func (a *Actions) record(e AuditEntry, err error) error {
	err = explainPermission(a.rdb, err)
	e.Time, e.Server, e.User = a.now(), auditText(a.opts.Server), a.user
	e.Pattern = auditText(e.Pattern)
	switch {
	case err == nil:
		e.Result = ResultOK
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		e.Result, e.Error = ResultCancelled, auditText(err.Error())
	default:
		e.Result, e.Error = ResultError, auditText(err.Error())
	}
	if aerr := a.audit.Append(e); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}

// DeleteOptions tune [Actions.Delete].
type DeleteOptions struct {
	// Backup is the file the keys are dumped to (appended) before they are
	// deleted; "" means no backup. A file this call created is removed
	// again if no key was dumped to it.
	Backup string
}

// DeleteResult reports a deletion.
type DeleteResult struct {
	// Deleted is how many keys existed and were deleted.
	Deleted int64 `json:"deleted"`
	// BackedUp is how many keys were dumped to Backup.
	BackedUp int64 `json:"backed_up"`
	// Backup is the backup file, "" when there is none (none asked, or
	// nothing to keep).
	Backup string `json:"backup,omitempty"`
}

// deleteBatch is how many keys one UNLINK pipeline deletes.
const deleteBatch = 500

// Delete deletes keys with UNLINK (one per key, so it works across cluster
// slots), in batches, after dumping each batch to opts.Backup.
func (a *Actions) Delete(ctx context.Context, keys []string, opts DeleteOptions) (DeleteResult, error) {
	if err := a.begin(); err != nil {
		return DeleteResult{}, err
	}
	res := DeleteResult{Backup: opts.Backup}
	err := a.deleteKeys(ctx, keys, opts, &res)
	entry := AuditEntry{Action: ActionDelete, Keys: auditKeyList(keys), Count: res.Deleted, Backup: res.Backup,
		Detail: fmt.Sprintf("%d keys asked", len(keys))}
	return res, a.record(entry, err)
}

func (a *Actions) deleteKeys(ctx context.Context, keys []string, opts DeleteOptions, res *DeleteResult) error {
	for _, k := range keys {
		if k == "" {
			return fmt.Errorf("%w: empty key", ErrBadQuery)
		}
	}
	var bw *backupWriter
	if opts.Backup != "" {
		a.backupMu.Lock()
		defer a.backupMu.Unlock()
		var err error
		if bw, err = openBackup(opts.Backup, a.backupHeader(ActionDelete, "")); err != nil {
			return err
		}
		defer func() {
			if bw != nil {
				_ = bw.close()
			}
		}()
	}
	for start := 0; start < len(keys); start += deleteBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := keys[start:min(start+deleteBatch, len(keys))]
		if bw != nil {
			n, err := a.dump(ctx, a.rdb, batch, bw)
			res.BackedUp += n
			if err != nil {
				return err
			}
		}
		cmds := make([]*redis.IntCmd, len(batch))
		_, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range batch {
				cmds[i] = p.Unlink(ctx, k)
			}
			return nil
		})
		for _, c := range cmds {
			res.Deleted += c.Val()
		}
		if err != nil {
			return fmt.Errorf("monitor: delete: %w", err)
		}
	}
	if bw != nil {
		kept, err := bw.closeOrDiscard()
		bw = nil
		if !kept {
			res.Backup = ""
		}
		return err
	}
	return nil
}

func (a *Actions) backupHeader(action, pattern string) BackupHeader {
	return BackupHeader{Created: a.now().UTC(), Server: auditText(a.opts.Server), Action: action, Pattern: auditText(pattern)}
}

// dump appends PTTL and DUMP of keys (read from node) to bw and makes them
// durable. Keys already gone are skipped.
func (a *Actions) dump(ctx context.Context, node redis.Cmdable, keys []string, bw *backupWriter) (int64, error) {
	ttls := make([]*redis.DurationCmd, len(keys))
	dumps := make([]*redis.StringCmd, len(keys))
	_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			ttls[i] = p.PTTL(ctx, k)
			dumps[i] = p.Dump(ctx, k)
		}
		return nil
	})
	if err := pipeError(ctx, err); err != nil {
		return 0, fmt.Errorf("monitor: backup: %w", err)
	}
	at := a.now()
	var n, hits, misses int64
	for i, k := range keys {
		payload, err := dumps[i].Result()
		ttl := ttls[i].Val()
		if ttls[i].Err() == nil {
			if ttl == -2 {
				misses++
			} else {
				hits++
			}
		}
		if errors.Is(err, redis.Nil) {
			misses++
			continue
		}
		if err != nil {
			return n, fmt.Errorf("monitor: backup: dump: %w", err)
		}
		hits++
		if ttls[i].Err() != nil || ttl == -2 {
			continue // gone between PTTL and DUMP: nothing to keep
		}
		if err := bw.add(BackupRecord{Key: k, TTL: ttl, HasTTL: ttl >= 0, DumpedAt: at, Payload: payload}); err != nil {
			return n, err
		}
		n++
	}
	a.opts.Lookups.add(hits, misses)
	return n, bw.sync()
}

// Expire sets key's time to live (PEXPIRE; ttl is rounded to
// milliseconds and must be positive). It reports whether the key existed.
func (a *Actions) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := a.begin(); err != nil {
		return false, err
	}
	if ttl < time.Millisecond {
		return false, fmt.Errorf("%w: a TTL must be at least 1ms (delete the key instead)", ErrBadQuery)
	}
	ok, err := a.rdb.PExpire(ctx, key, ttl).Result()
	n := int64(0)
	if ok {
		n = 1
	}
	entry := AuditEntry{Action: ActionExpire, Keys: auditKeyList([]string{key}), Count: n, Detail: "ttl " + ttl.String()}
	return ok, a.record(entry, err)
}

// Persist removes key's time to live (PERSIST). It reports whether the
// key had one.
func (a *Actions) Persist(ctx context.Context, key string) (bool, error) {
	if err := a.begin(); err != nil {
		return false, err
	}
	ok, err := a.rdb.Persist(ctx, key).Result()
	n := int64(0)
	if ok {
		n = 1
	}
	return ok, a.record(AuditEntry{Action: ActionPersist, Keys: auditKeyList([]string{key}), Count: n}, err)
}

// cache returns a cachecore cache over the same client, for the writes
// that go through cachecore.
func (a *Actions) cache(namespace string) (*cachecore.Cache, error) {
	return cachecore.New(cachecore.Options{
		Redis: a.rdb, Namespace: namespace, OpTimeout: a.opts.OpTimeout,
		BreakerThreshold: -1, // an operator's one-off action, not a hot path to protect
		Logger:           a.opts.Logger,
	})
}

// BumpVersion moves a cachecore version (cachecore.Cache.BumpVersion) of
// name in namespace ("" for none) to a new value and returns it: every
// entry written under the old version becomes unreachable at once.
func (a *Actions) BumpVersion(ctx context.Context, namespace, name string) (int64, error) {
	if err := a.begin(); err != nil {
		return 0, err
	}
	c, err := a.cache(namespace)
	if err != nil {
		return 0, err
	}
	v, err := c.BumpVersion(ctx, name)
	entry := AuditEntry{Action: ActionBumpVersion, Pattern: name, Count: 1, Detail: "namespace " + strconv.Quote(namespace)}
	if err == nil {
		entry.Detail += " version " + strconv.FormatInt(v, 10)
	} else {
		entry.Count = 0
	}
	return v, a.record(entry, err)
}
