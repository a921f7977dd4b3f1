package monitor

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A backup file holds the DUMP of keys taken before they were deleted, so
// that `cachescope restore` can put them back. It is line-oriented text,
// safe for binary keys and values:
//
//	cachescope-backup 1
//	{"created":"2025-01-02T15:04:05Z","server":"127.0.0.1:6379","action":"invalidate","pattern":"user:*"}
//	{"key":"dXNlcjox","pttl":59000,"at":1735830245123,"dump":"AAVoZWxsbwsA..."}
//	...
//
// The first line names the format and its version; the second is the
// header (BackupHeader) in JSON; every further line is one key
// (BackupRecord): key and dump payload in standard base64, pttl the
// milliseconds it had left (-1 for none) when it was dumped at "at" (Unix
// milliseconds, this machine's clock). Later writes to the same file
// append records after the existing ones.
const (
	backupMagic   = "cachescope-backup"
	BackupVersion = 1
)

// ErrBackupFormat reports a file that is not a backup this version reads.
var ErrBackupFormat = errors.New("monitor: not a cachescope backup file of a known version")

// BackupHeader describes a backup file.
type BackupHeader struct {
	// Version is the format version (BackupVersion).
	Version int `json:"-"`
	// Created is when the file was created.
	Created time.Time `json:"created"`
	// Server, Action and Pattern say what the backup was taken for
	// (sanitized: they are for people).
	Server  string `json:"server,omitempty"`
	Action  string `json:"action,omitempty"`
	Pattern string `json:"pattern,omitempty"`
}

// BackupRecord is one dumped key.
type BackupRecord struct {
	// Key is the key, raw.
	Key string
	// TTL is the time to live the key had when dumped; HasTTL is false
	// for a key without expiry.
	TTL    time.Duration
	HasTTL bool
	// DumpedAt is when it was dumped, by this machine's clock.
	DumpedAt time.Time
	// Payload is the DUMP serialization, raw.
	Payload string
}

type backupLine struct {
	Key  string `json:"key"`
	PTTL int64  `json:"pttl"`
	At   int64  `json:"at"`
	Dump string `json:"dump"`
}

// backupWriter appends records to a backup file.
type backupWriter struct {
	f       *os.File
	w       *bufio.Writer
	path    string
	n       int64
	created bool // the file did not exist (or was empty) before
}

// openBackup opens path for appending records, creating it (0600, with its
// directory 0700) and writing the header if it is new or empty. An
// existing file must be a backup.
func openBackup(path string, h BackupHeader) (*backupWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("monitor: backup: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("monitor: backup: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("monitor: backup: %w", err)
	}
	bw := &backupWriter{f: f, w: bufio.NewWriterSize(f, 256<<10), path: path}
	if st.Size() > 0 {
		if _, err := readBackupHeader(bufio.NewReader(io.NewSectionReader(f, 0, st.Size()))); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("monitor: backup %s exists and %w", path, err)
		}
		return bw, nil
	}
	bw.created = true
	h.Version = BackupVersion
	hb, err := json.Marshal(h)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	fmt.Fprintf(bw.w, "%s %d\n%s\n", backupMagic, BackupVersion, hb)
	if err := bw.sync(); err != nil {
		_ = f.Close()
		return nil, err
	}
	return bw, nil
}

func (b *backupWriter) add(r BackupRecord) error {
	pttl := int64(-1)
	if r.HasTTL {
		pttl = max(r.TTL.Milliseconds(), 0)
	}
	line, err := json.Marshal(backupLine{
		Key:  base64.StdEncoding.EncodeToString([]byte(r.Key)),
		PTTL: pttl,
		At:   r.DumpedAt.UnixMilli(),
		Dump: base64.StdEncoding.EncodeToString([]byte(r.Payload)),
	})
	if err != nil {
		return err
	}
	if _, err := b.w.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("monitor: backup: %w", err)
	}
	b.n++
	return nil
}

// sync makes the records written so far durable: it runs before the keys
// they hold are deleted.
func (b *backupWriter) sync() error {
	if err := b.w.Flush(); err != nil {
		return fmt.Errorf("monitor: backup: %w", err)
	}
	if err := b.f.Sync(); err != nil {
		return fmt.Errorf("monitor: backup: %w", err)
	}
	return nil
}

func (b *backupWriter) close() error {
	return errors.Join(b.sync(), b.f.Close())
}

// closeOrDiscard closes the file, and removes it when this writer created
// it and wrote no record (nothing was deleted: no file to restore from).
// It reports whether the file was kept.
func (b *backupWriter) closeOrDiscard() (kept bool, err error) {
	err = b.close()
	if b.created && b.n == 0 && err == nil {
		return false, os.Remove(b.path)
	}
	return true, err
}

// readBackupHeader reads the magic line and the header.
func readBackupHeader(r *bufio.Reader) (BackupHeader, error) {
	first, err := r.ReadString('\n')
	if err != nil {
		return BackupHeader{}, ErrBackupFormat
	}
	magic, version, ok := strings.Cut(strings.TrimSpace(first), " ")
	if !ok || magic != backupMagic || version != fmt.Sprint(BackupVersion) {
		return BackupHeader{}, ErrBackupFormat
	}
	second, err := r.ReadBytes('\n')
	if err != nil {
		return BackupHeader{}, fmt.Errorf("%w: no header", ErrBackupFormat)
	}
	var h BackupHeader
	if err := json.Unmarshal(second, &h); err != nil {
		return BackupHeader{}, fmt.Errorf("%w: header: %v", ErrBackupFormat, err)
	}
	h.Version = BackupVersion
	return h, nil
}

// ReadBackup reads the backup file at path, calling fn with each record
// in order; an error from fn stops it and is returned. A file cut short by
// a crash ends at its last complete line.
func ReadBackup(path string, fn func(BackupRecord) error) (BackupHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return BackupHeader{}, fmt.Errorf("monitor: backup: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	h, err := readBackupHeader(r)
	if err != nil {
		return h, fmt.Errorf("%s: %w", path, err)
	}
	for lineNo := 3; ; lineNo++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return h, nil // a last line without '\n' was cut by a crash
		}
		if err != nil {
			return h, fmt.Errorf("monitor: backup: %w", err)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		rec, err := parseBackupLine(line)
		if err != nil {
			return h, fmt.Errorf("%w: %s line %d: %v", ErrBackupFormat, path, lineNo, err)
		}
		if err := fn(rec); err != nil {
			return h, err
		}
	}
}

func parseBackupLine(line []byte) (BackupRecord, error) {
	var l backupLine
	if err := json.Unmarshal(line, &l); err != nil {
		return BackupRecord{}, err
	}
	key, err := base64.StdEncoding.DecodeString(l.Key)
	if err != nil || len(key) == 0 {
		return BackupRecord{}, fmt.Errorf("bad key")
	}
	payload, err := base64.StdEncoding.DecodeString(l.Dump)
	if err != nil || len(payload) == 0 {
		return BackupRecord{}, fmt.Errorf("bad dump payload")
	}
	rec := BackupRecord{Key: string(key), Payload: string(payload), DumpedAt: time.UnixMilli(l.At)}
	if l.PTTL >= 0 {
		rec.TTL, rec.HasTTL = time.Duration(l.PTTL)*time.Millisecond, true
	}
	return rec, nil
}

// NewBackupPath returns a new file name for a backup in dir ("" means
// StateDir()/backups), from the time and the action:
// "20250102-150405.123-invalidate.backup".
func NewBackupPath(dir, action string) (string, error) {
	if dir == "" {
		state, err := StateDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(state, "backups")
	}
	name := time.Now().Format("20060102-150405.000") + "-" + action + ".backup"
	return filepath.Join(dir, name), nil
}
