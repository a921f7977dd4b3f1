package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"github.com/cachescope/cachescope/internal/sanitize"
)

// Actions recorded in the audit log.
const (
	ActionDelete      = "delete"
	ActionExpire      = "expire"
	ActionPersist     = "persist"
	ActionInvalidate  = "invalidate"
	ActionBumpVersion = "bump_version"
	ActionRestore     = "restore"
)

// Results recorded in the audit log.
const (
	ResultOK        = "ok"
	ResultError     = "error"
	ResultCancelled = "cancelled"
)

// AuditEntry is one line of the audit log: one write cachescope did.
// Strings from the server or the user (keys, pattern, error) are sanitized
// and truncated, so the log is safe to print.
type AuditEntry struct {
	Time   time.Time `json:"time"`
	Server string    `json:"server"`
	User   string    `json:"user"`
	// Action is one of the Action constants.
	Action  string `json:"action"`
	Pattern string `json:"pattern,omitempty"`
	// Keys are the first keys concerned (at most auditKeys), sanitized;
	// Count says how many there were in all.
	Keys  []string `json:"keys,omitempty"`
	Count int64    `json:"count"`
	// Detail adds what the action needs: "ttl 30s", "version 42", ...
	Detail string `json:"detail,omitempty"`
	// Backup is the backup file the deleted keys were dumped to.
	Backup string `json:"backup,omitempty"`
	// Result is ResultOK, ResultError or ResultCancelled.
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
}

const (
	auditKeys   = 20  // keys listed per entry
	auditKeyLen = 200 // cells per key or pattern
)

// AuditLog appends JSON lines to a file, one per write. It is safe for
// concurrent use; each entry is written with a single append so that
// several cachescope processes can share the file.
type AuditLog struct {
	path string
	mu   sync.Mutex
}

// NewAuditLog returns the log at path ("" means DefaultAuditPath). It
// does not touch the file system until the first write.
func NewAuditLog(path string) (*AuditLog, error) {
	if path == "" {
		p, err := DefaultAuditPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	return &AuditLog{path: path}, nil
}

// Path returns the log file's path.
func (l *AuditLog) Path() string { return l.path }

// StateDir returns cachescope's state directory: $XDG_STATE_HOME/cachescope,
// or ~/.local/state/cachescope.
func StateDir() (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" || !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("monitor: no state directory: %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "cachescope"), nil
}

// DefaultAuditPath returns StateDir()/audit.log.
func DefaultAuditPath() (string, error) {
	dir, err := StateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "audit.log"), nil
}

// open opens the log for appending, creating it (0600) and its directory
// (0700).
func (l *AuditLog) open() (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return nil, fmt.Errorf("monitor: audit log: %w", err)
	}
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("monitor: audit log: %w", err)
	}
	return f, nil
}

// Check verifies that the log can be written; writes are refused when it
// cannot, so that none goes unrecorded.
func (l *AuditLog) Check() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := l.open()
	if err != nil {
		return err
	}
	return f.Close()
}

// Append writes e as one line.
func (l *AuditLog) Append(e AuditEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("monitor: audit log: %w", err)
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := l.open()
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("monitor: audit log: %w", err)
	}
	return nil
}

// auditText sanitizes and truncates server or user text for the log.
func auditText(s string) string { return sanitize.Truncate(sanitize.Line(s), auditKeyLen) }

// auditKeyList returns the first keys, sanitized.
func auditKeyList(keys []string) []string {
	out := make([]string, 0, min(len(keys), auditKeys))
	for _, k := range keys[:min(len(keys), auditKeys)] {
		out = append(out, auditText(k))
	}
	return out
}

// osUser names the user running cachescope.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}
