package monitor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// newTestActions returns Actions on the watched client with the audit log
// and backups in the test's temporary directory.
func newTestActions(t *testing.T, s *testServer, write bool) *Actions {
	t.Helper()
	dir := t.TempDir()
	a, err := NewActions(s.watched, ActionsOptions{
		Write: write, Reason: "test says read-only", Server: "test-server",
		AuditPath: filepath.Join(dir, "state", "audit.log"), BackupDir: filepath.Join(dir, "backups"), User: "tester",
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// readAudit returns the audit log's entries.
func readAudit(t *testing.T, path string) []AuditEntry {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []AuditEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

func TestReadOnlyRefusesEveryWrite(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	s.admin.Set(ctx, "k", "v", time.Hour)
	a := newTestActions(t, s, false)
	backup := filepath.Join(t.TempDir(), "b.backup")
	if ok, why := a.Writable(); ok || why != "test says read-only" {
		t.Fatalf("Writable = %v %q", ok, why)
	}
	// A valid backup to try to restore.
	w, err := openBackup(backup, BackupHeader{})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.close()
	writes := map[string]func() error{
		"delete":     func() error { _, err := a.Delete(ctx, []string{"k"}, DeleteOptions{Backup: backup}); return err },
		"expire":     func() error { _, err := a.Expire(ctx, "k", time.Second); return err },
		"persist":    func() error { _, err := a.Persist(ctx, "k"); return err },
		"invalidate": func() error { _, err := a.Invalidate(ctx, "*", InvalidateOptions{}); return err },
		"bump":       func() error { _, err := a.BumpVersion(ctx, "", "v"); return err },
		"restore":    func() error { _, err := a.Restore(ctx, backup); return err },
	}
	for name, write := range writes {
		err := write()
		if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "test says read-only") {
			t.Errorf("%s in read-only mode: %v", name, err)
		}
	}
	if ttl := s.admin.PTTL(ctx, "k").Val(); s.admin.Get(ctx, "k").Val() != "v" || ttl < 59*time.Minute {
		t.Fatal("a refused write changed the key")
	}
	if n := s.admin.DBSize(ctx).Val(); n != 1 {
		t.Fatalf("%d keys: something was written", n)
	}
	if e := readAudit(t, a.AuditPath()); len(e) != 0 {
		t.Fatalf("refused writes were audited: %+v", e)
	}
	// A dry run is not a write.
	rep, err := a.Invalidate(ctx, "*", InvalidateOptions{DryRun: true})
	if err != nil || rep.Matched != 1 || rep.Deleted != 0 || len(rep.Sample) != 1 {
		t.Fatalf("dry run in read-only mode: %+v %v", rep, err)
	}
}

func TestAuditLogRecordsEveryWrite(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	for i := 0; i < 30; i++ {
		s.admin.Set(ctx, fmt.Sprintf("user:%d", i), i, 0)
	}
	s.admin.Set(ctx, "evil\x1b[2J", "v", 0)
	a := newTestActions(t, s, true)
	backup, err := a.NewBackupPath("test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Expire(ctx, "user:1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Persist(ctx, "user:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Delete(ctx, []string{"evil\x1b[2J", "user:0"}, DeleteOptions{Backup: backup}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Invalidate(ctx, "user:*", InvalidateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Invalidate(ctx, "user:*", InvalidateOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.BumpVersion(ctx, "shop", "products"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Restore(ctx, backup); err != nil {
		t.Fatal(err)
	}
	entries := readAudit(t, a.AuditPath())
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if e.Server != "test-server" || e.User != "tester" || e.Result != ResultOK || e.Time.IsZero() {
			t.Errorf("entry %+v", e)
		}
	}
	want := []string{ActionExpire, ActionPersist, ActionDelete, ActionInvalidate, ActionBumpVersion, ActionRestore}
	if fmt.Sprint(actions) != fmt.Sprint(want) {
		t.Fatalf("audited %v, want %v (dry runs are not writes)", actions, want)
	}
	del := entries[2]
	if del.Count != 2 || del.Backup != backup || len(del.Keys) != 2 || del.Keys[0] != `evil\x1b[2J` {
		t.Fatalf("delete entry %+v (keys must be sanitized)", del)
	}
	inv := entries[3]
	if inv.Pattern != "user:*" || inv.Count != 29 || len(inv.Keys) == 0 || len(inv.Keys) > auditKeys {
		t.Fatalf("invalidate entry %+v", inv)
	}
	if entries[5].Count != 2 {
		t.Fatalf("restore entry %+v", entries[5])
	}
	// A failed write is recorded with its error.
	if _, err := a.Expire(ctx, "k", 0); err == nil {
		t.Fatal("a zero TTL was accepted")
	}
	s.admin.HSet(ctx, "h", "f", "v")
	if _, err := a.BumpVersion(ctx, "", ""); err == nil {
		t.Fatal("an empty version name was accepted")
	}
	entries = readAudit(t, a.AuditPath())
	last := entries[len(entries)-1]
	if last.Action != ActionBumpVersion || last.Result != ResultError || last.Error == "" {
		t.Fatalf("failed write entry %+v", last)
	}
}

func TestWritesRefusedWithoutAnAuditLog(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	s.admin.Set(t.Context(), "k", "v", 0)
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := NewActions(s.watched, ActionsOptions{Write: true, AuditPath: filepath.Join(blocker, "audit.log")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Delete(t.Context(), []string{"k"}, DeleteOptions{}); err == nil || !strings.Contains(err.Error(), "audit") {
		t.Fatalf("delete without a writable audit log: %v", err)
	}
	if s.admin.Exists(t.Context(), "k").Val() != 1 {
		t.Fatal("the key was deleted without being recorded")
	}
}

func TestInvalidateAndRestoreRoundTrip(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	type entry struct {
		value string
		ttl   time.Duration
	}
	want := map[string]entry{}
	for i := 0; i < 2000; i++ {
		key := fmt.Sprintf("cache:%d", i)
		e := entry{value: fmt.Sprintf("v%d", i)}
		switch i % 3 {
		case 0:
			e.ttl = time.Hour
		case 1:
			e.value = string([]byte{0, 0xff, byte(i), '\n', 0x1b})
			e.ttl = 10 * time.Minute
		}
		s.admin.Set(ctx, key, e.value, e.ttl)
		want[key] = e
	}
	s.admin.HSet(ctx, "cache:\x00hash", "f\xff", "v\x00")
	s.admin.RPush(ctx, "cache:list", "a", "b")
	s.admin.Set(ctx, "other", "kept", 0)
	a := newTestActions(t, s, true)
	backup := filepath.Join(t.TempDir(), "inv.backup")
	var progress int
	rep, err := a.Invalidate(ctx, "cache:*", InvalidateOptions{Backup: backup, Progress: func(InvalidateReport) { progress++ }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Deleted != 2002 || rep.BackedUp != 2002 || rep.Backup != backup || progress == 0 {
		t.Fatalf("report %+v, %d progress calls", rep, progress)
	}
	if n := s.admin.DBSize(ctx).Val(); n != 1 {
		t.Fatalf("%d keys left, want only 'other'", n)
	}
	h, err := ReadBackup(backup, func(BackupRecord) error { return nil })
	if err != nil || h.Action != ActionInvalidate || h.Pattern != "cache:*" || h.Server != "test-server" {
		t.Fatalf("backup header %+v %v", h, err)
	}
	res, err := a.Restore(ctx, backup)
	if err != nil || res.Restored != 2002 || res.Failed != 0 || res.Expired != 0 {
		t.Fatalf("restore %+v %v", res, err)
	}
	for key, e := range want {
		v, err := s.admin.Get(ctx, key).Result()
		if err != nil || v != e.value {
			t.Fatalf("%s = %q %v, want %q", key, v, err, e.value)
		}
		ttl := s.admin.PTTL(ctx, key).Val()
		if e.ttl == 0 && ttl != -1 || e.ttl > 0 && (ttl > e.ttl || ttl < e.ttl-time.Minute) {
			t.Fatalf("%s TTL %v, want about %v", key, ttl, e.ttl)
		}
	}
	if v := s.admin.HGet(ctx, "cache:\x00hash", "f\xff").Val(); v != "v\x00" {
		t.Fatalf("binary hash restored as %q", v)
	}
	if v := s.admin.LRange(ctx, "cache:list", 0, -1).Val(); fmt.Sprint(v) != "[a b]" {
		t.Fatalf("list restored as %v", v)
	}
}

func TestRestoreSkipsKeysThatExpiredMeanwhile(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	s.admin.Set(ctx, "short", "v", 300*time.Millisecond)
	s.admin.Set(ctx, "long", "v", time.Hour)
	s.admin.Set(ctx, "forever", "v", 0)
	a := newTestActions(t, s, true)
	backup := filepath.Join(t.TempDir(), "b.backup")
	if _, err := a.Delete(ctx, []string{"short", "long", "forever", "missing"}, DeleteOptions{Backup: backup}); err != nil {
		t.Fatal(err)
	}
	// Move the clock instead of sleeping: short's TTL has run out.
	a.now = func() time.Time { return time.Now().Add(time.Second) }
	res, err := a.Restore(ctx, backup)
	if err != nil || res.Restored != 2 || res.Expired != 1 {
		t.Fatalf("restore %+v %v", res, err)
	}
	if s.admin.Exists(ctx, "short").Val() != 0 || s.admin.PTTL(ctx, "forever").Val() != -1 {
		t.Fatal("wrong keys restored")
	}
	if ttl := s.admin.PTTL(ctx, "long").Val(); ttl > time.Hour-time.Second+100*time.Millisecond {
		t.Fatalf("long restored with TTL %v: the time since the dump was not taken off", ttl)
	}
}

func TestBackupFileFormat(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "x.backup")
	w, err := openBackup(path, BackupHeader{Server: "srv", Action: "delete"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1_700_000_000_000)
	recs := []BackupRecord{
		{Key: "k\x00\n", Payload: "\x00\x01payload\xff", DumpedAt: at},
		{Key: "t", Payload: "p", TTL: 1500 * time.Millisecond, HasTTL: true, DumpedAt: at},
	}
	for _, r := range recs {
		if err := w.add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v", st.Mode())
	}
	// Appending keeps the header and adds records.
	w, err = openBackup(path, BackupHeader{Server: "other"})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.add(BackupRecord{Key: "third", Payload: "p", DumpedAt: at})
	_ = w.close()
	raw, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(raw), "cachescope-backup 1\n{") {
		t.Fatalf("file starts %q", raw[:30])
	}
	var got []BackupRecord
	h, err := ReadBackup(path, func(r BackupRecord) error { got = append(got, r); return nil })
	if err != nil || h.Server != "srv" || h.Version != 1 || len(got) != 3 {
		t.Fatalf("read %+v %v %d", h, err, len(got))
	}
	for i, r := range recs {
		if got[i].Key != r.Key || got[i].Payload != r.Payload || got[i].HasTTL != r.HasTTL || got[i].TTL != r.TTL || !got[i].DumpedAt.Equal(at) {
			t.Fatalf("record %d: %+v, want %+v", i, got[i], r)
		}
	}
	// A file cut by a crash mid-line reads up to its last whole line.
	if err := os.WriteFile(path, raw[:len(raw)-5], 0o600); err != nil {
		t.Fatal(err)
	}
	n := 0
	if _, err := ReadBackup(path, func(BackupRecord) error { n++; return nil }); err != nil || n != 2 {
		t.Fatalf("truncated file: %d records, %v", n, err)
	}
	// Not a backup: refused, both to read and to append to.
	other := filepath.Join(dir, "notes.txt")
	_ = os.WriteFile(other, []byte("hello\nworld\n"), 0o600)
	if _, err := ReadBackup(other, func(BackupRecord) error { return nil }); !errors.Is(err, ErrBackupFormat) {
		t.Fatalf("reading a non-backup: %v", err)
	}
	if _, err := openBackup(other, BackupHeader{}); !errors.Is(err, ErrBackupFormat) {
		t.Fatalf("appending to a non-backup: %v", err)
	}
	if b, _ := os.ReadFile(other); string(b) != "hello\nworld\n" {
		t.Fatal("a non-backup file was modified")
	}
	future := filepath.Join(dir, "future.backup")
	_ = os.WriteFile(future, []byte("cachescope-backup 2\n{}\n"), 0o600)
	if _, err := ReadBackup(future, func(BackupRecord) error { return nil }); !errors.Is(err, ErrBackupFormat) {
		t.Fatalf("a future version: %v", err)
	}
}

func TestDeleteExpirePersist(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	s.admin.Set(ctx, "k", "v", 0)
	a := newTestActions(t, s, true)
	if ok, err := a.Expire(ctx, "k", 90*time.Second); !ok || err != nil {
		t.Fatalf("expire: %v %v", ok, err)
	}
	if ttl := s.admin.PTTL(ctx, "k").Val(); ttl < 89*time.Second || ttl > 90*time.Second {
		t.Fatalf("TTL %v", ttl)
	}
	if ok, err := a.Persist(ctx, "k"); !ok || err != nil {
		t.Fatalf("persist: %v %v", ok, err)
	}
	if ttl := s.admin.PTTL(ctx, "k").Val(); ttl != -1 {
		t.Fatalf("TTL after persist %v", ttl)
	}
	if ok, err := a.Expire(ctx, "missing", time.Second); ok || err != nil {
		t.Fatalf("expire of a missing key: %v %v", ok, err)
	}
	many := make([]string, 1200)
	for i := range many {
		many[i] = fmt.Sprintf("m:%d", i)
		s.admin.Set(ctx, many[i], i, 0)
	}
	res, err := a.Delete(ctx, append(many, "missing"), DeleteOptions{})
	if err != nil || res.Deleted != 1200 {
		t.Fatalf("bulk delete %+v %v", res, err)
	}
	if _, err := a.Delete(ctx, []string{""}, DeleteOptions{}); !errors.Is(err, ErrBadQuery) {
		t.Fatalf("empty key: %v", err)
	}
}

func TestBumpVersionGoesThroughCachecore(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	a := newTestActions(t, s, true)
	v1, err := a.BumpVersion(ctx, "shop", "products")
	if err != nil {
		t.Fatal(err)
	}
	v2, err := a.BumpVersion(ctx, "shop", "products")
	if err != nil || v2 != v1+1 {
		t.Fatalf("versions %d then %d (%v)", v1, v2, err)
	}
	if got, err := s.admin.Get(ctx, "shop:__version:products").Int64(); err != nil || got != v2 {
		t.Fatalf("version key holds %d (%v)", got, err)
	}
}

func TestInvalidateIsCancellable(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	populate(t, s.admin, 20_000, "c")
	a := newTestActions(t, s, true)
	ctx, cancel := context.WithCancel(t.Context())
	backup := filepath.Join(t.TempDir(), "b.backup")
	rep, err := a.Invalidate(ctx, "c:*", InvalidateOptions{MaxRate: 2000, Backup: backup, Progress: func(r InvalidateReport) {
		if r.Deleted > 0 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	left := s.admin.DBSize(context.Background()).Val()
	if rep.Deleted == 0 || rep.Deleted >= 20_000 || left != 20_000-rep.Deleted {
		t.Fatalf("report %+v, %d keys left", rep, left)
	}
	n := 0
	if _, err := ReadBackup(backup, func(BackupRecord) error { n++; return nil }); err != nil || int64(n) < rep.Deleted {
		t.Fatalf("backup holds %d records for %d deleted (%v)", n, rep.Deleted, err)
	}
	entries := readAudit(t, a.AuditPath())
	if len(entries) != 1 || entries[0].Result != ResultCancelled || entries[0].Count != rep.Deleted {
		t.Fatalf("audit %+v", entries)
	}
}

var _ = redis.Nil

func TestAnEmptyBackupIsNotLeftBehind(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	a := newTestActions(t, s, true)
	dir := t.TempDir()
	inv := filepath.Join(dir, "inv.backup")
	rep, err := a.Invalidate(ctx, "nothing:*", InvalidateOptions{Backup: inv})
	if err != nil || rep.Backup != "" || rep.Deleted != 0 {
		t.Fatalf("report %+v %v", rep, err)
	}
	del := filepath.Join(dir, "del.backup")
	res, err := a.Delete(ctx, []string{"missing"}, DeleteOptions{Backup: del})
	if err != nil || res.Backup != "" {
		t.Fatalf("delete %+v %v", res, err)
	}
	for _, p := range []string{inv, del} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s left behind (%v)", p, err)
		}
	}
	for _, e := range readAudit(t, a.AuditPath()) {
		if e.Backup != "" {
			t.Fatalf("the audit names a backup that does not exist: %+v", e)
		}
	}
	// An existing backup is appended to, and never removed.
	s.admin.Set(ctx, "k", "v", 0)
	if _, err := a.Delete(ctx, []string{"k"}, DeleteOptions{Backup: del}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Delete(ctx, []string{"missing"}, DeleteOptions{Backup: del}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(del); err != nil {
		t.Fatalf("a backup holding a key was removed: %v", err)
	}
}
