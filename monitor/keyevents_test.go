package monitor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestKeyEventsConfigFlags(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		flags, missing        string
		expired, evicted, del bool
	}{
		{"", "Egxe", false, false, false},
		{"AE", "", true, true, true},
		{"KA", "E", false, false, false},
		{"xE", "ge", true, false, false},
		{"gxeE", "", true, true, true},
		{"Kl", "Egxe", false, false, false},
	} {
		got := keyEventsConfigOf(c.flags)
		if got.Missing() != c.missing || got.Expired != c.expired || got.Evicted != c.evicted || got.Del != c.del ||
			got.Enabled() != (c.missing == "") {
			t.Errorf("%q: %+v missing %q", c.flags, got, got.Missing())
		}
	}
}

func TestEnableKeyEventsRefusesInReadOnlyMode(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := context.Background()
	// The watched client fails the test on CONFIG SET: nothing may be sent.
	if _, err := EnableKeyEvents(ctx, s.watched, false); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only: %v", err)
	}
	cfg, err := ReadKeyEventsConfig(ctx, s.watched)
	if err != nil || !cfg.Available || cfg.Enabled() || cfg.Flags != "" {
		t.Fatalf("config %+v, %v", cfg, err)
	}
}

func TestReadKeyEventsConfigRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := context.Background()
	if err := s.admin.Do(ctx, "acl", "setuser", "viewer", "on", ">pw", "+@all", "-config", "~*", "&*").Err(); err != nil {
		t.Fatal(err)
	}
	cfg, err := ReadKeyEventsConfig(ctx, guardedClient(t, withPassword(s.Options(), "viewer", "pw")))
	if err != nil || cfg.Available || !strings.Contains(cfg.Reason, "NOPERM") || cfg.Enabled() {
		t.Fatalf("%+v, %v", cfg, err)
	}
}

func TestKeyEventsCountsExpiredEvictedAndDeleted(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--maxmemory", "4mb", "--maxmemory-policy", "allkeys-random")
	ctx := context.Background()
	// Flags the user had stay: K (keyspace channels) and l (list events).
	if err := s.admin.ConfigSet(ctx, "notify-keyspace-events", "Kl").Err(); err != nil {
		t.Fatal(err)
	}
	// The write action, explicitly allowed, on the admin client (the
	// guarded one refuses CONFIG SET by design).
	cfg, err := EnableKeyEvents(ctx, s.admin, true)
	if err != nil || !cfg.Enabled() || !strings.Contains(cfg.Flags, "K") || !strings.Contains(cfg.Flags, "l") {
		t.Fatalf("enable: %+v, %v", cfg, err)
	}
	if again, err := EnableKeyEvents(ctx, s.admin, true); err != nil || again.Flags != cfg.Flags {
		t.Fatalf("enabling twice changed %q to %q (%v)", cfg.Flags, again.Flags, err)
	}

	k := NewKeyEvents(s.watched, KeyEventsOptions{})
	if snap := k.Snapshot(); snap.State != TapStopped || len(snap.Expired.History) != DefaultTapHistory {
		t.Fatalf("before Run: %+v", snap)
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = k.Run(runCtx) })
	defer wg.Wait()
	defer cancel()
	eventually(t, "key events to subscribe", func() bool { return k.Snapshot().State == TapSubscribed })

	for i := 0; i < 5; i++ {
		s.admin.Set(ctx, fmt.Sprintf("gone:%d", i), "v", 0)
		s.admin.Set(ctx, fmt.Sprintf("short:%d", i), "v", 20*time.Millisecond)
	}
	for i := 0; i < 5; i++ {
		s.admin.Del(ctx, fmt.Sprintf("gone:%d", i))
	}
	// Touching the short keys after they expired expires them at once.
	eventually(t, "expiries", func() bool {
		for i := 0; i < 5; i++ {
			s.admin.Get(ctx, fmt.Sprintf("short:%d", i))
		}
		return k.Snapshot().Expired.Count == 5
	})
	// Past maxmemory, writes evict.
	big := strings.Repeat("b", 64<<10)
	eventually(t, "evictions", func() bool {
		pipe := s.admin.Pipeline()
		for i := 0; i < 64; i++ {
			pipe.Set(ctx, fmt.Sprintf("big:%d:%d", time.Now().UnixNano(), i), big, 0)
		}
		_, _ = pipe.Exec(ctx)
		return k.Snapshot().Evicted.Count > 0
	})
	snap := k.Snapshot()
	if snap.Del.Count != 5 || snap.Expired.Count != 5 || snap.Del.PerSec <= 0 || snap.Expired.PerSec <= 0 || snap.Evicted.PerSec <= 0 {
		t.Fatalf("del %+v expired %+v evicted %+v", snap.Del, snap.Expired, snap.Evicted)
	}
	var sawDel bool
	for _, m := range snap.Recent {
		if m.Channel == "__keyevent@0__:del" && strings.HasPrefix(m.Payload, "gone:") {
			sawDel = true
		}
	}
	if !sawDel {
		t.Fatalf("recent events lack the deleted keys: %+v", snap.Recent)
	}
}
