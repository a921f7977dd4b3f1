package redistest

import (
	"context"
	"errors"
	"testing"
)

func TestDangerous(t *testing.T) {
	for _, c := range []struct {
		args []any
		want string
	}{
		{[]any{"KEYS", "*"}, "KEYS"},
		{[]any{"keys", "*"}, "KEYS"},
		{[]any{"monitor"}, "MONITOR"},
		{[]any{"FlushAll"}, "FLUSHALL"},
		{[]any{"flushdb", "async"}, "FLUSHDB"},
		{[]any{"debug", "sleep", "0"}, "DEBUG"},
		{[]any{"config", "SET", "maxmemory", "1"}, "CONFIG SET"},
		{[]any{"config", "get", "maxmemory"}, ""},
		{[]any{"info"}, ""},
		{[]any{"get", "keys"}, ""},
		{nil, ""},
	} {
		got, bad := Dangerous(c.args)
		if got != c.want || bad != (c.want != "") {
			t.Errorf("Dangerous(%v) = %q, %v; want %q", c.args, got, bad, c.want)
		}
	}
}

// recorder is a testing.TB that records Errorf instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) { r.errors = append(r.errors, format) }
func (r *recorder) Helper()                           {}

func TestForbidDangerousBlocksAndReports(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	c := s.Client(t)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{TB: t}
	ForbidDangerous(rec, c)

	if err := c.Get(ctx, "k").Err(); err != nil {
		t.Fatalf("allowed command failed: %v", err)
	}
	if len(rec.errors) != 0 {
		t.Fatalf("allowed command reported: %v", rec.errors)
	}
	if err := c.FlushAll(ctx).Err(); !errors.Is(err, ErrForbidden) {
		t.Fatalf("FLUSHALL: err = %v, want ErrForbidden", err)
	}
	if err := c.Do(ctx, "config", "set", "maxmemory", "1mb").Err(); !errors.Is(err, ErrForbidden) {
		t.Fatalf("CONFIG SET: err = %v", err)
	}
	pipe := c.Pipeline()
	pipe.Get(ctx, "k")
	pipe.Keys(ctx, "*")
	if _, err := pipe.Exec(ctx); !errors.Is(err, ErrForbidden) {
		t.Fatalf("pipelined KEYS: err = %v", err)
	}
	if len(rec.errors) != 3 {
		t.Fatalf("reported %d forbidden commands, want 3", len(rec.errors))
	}
	// Nothing was sent: the key survives the FLUSHALL attempt.
	if n, err := s.Client(t).Exists(ctx, "k").Result(); err != nil || n != 1 {
		t.Fatalf("key gone (n=%d, err=%v): the forbidden command reached the server", n, err)
	}
}
