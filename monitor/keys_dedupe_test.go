package monitor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// SCAN's duplicates are rare and depend on the server's table resizes, so
// a hook makes the server's replies repeat keys, as SCAN is allowed to.
func TestBrowserDropsTheDuplicatesScanReturns(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	populate(t, s.admin, 5000, "k")
	s.watched.AddHook(&repeatingScan{})
	k := NewKeys(s.watched, KeysOptions{PageSize: 300, ScanCount: 100})
	b, _ := k.Browse(Query{})
	seen := map[string]int{}
	dups := 0
	for !b.Done() {
		p, err := b.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		dups += p.Duplicates
		for _, key := range p.Keys {
			seen[key]++
		}
	}
	if len(seen) != 5000 || dups == 0 {
		t.Fatalf("%d keys, %d duplicates dropped", len(seen), dups)
	}
	for key, n := range seen {
		if n != 1 {
			t.Fatalf("%s returned %d times", key, n)
		}
	}
	// ScanPage keeps no state, so it passes them on (as documented).
	total, cur := 0, Cursor{}
	for {
		p, err := k.ScanPage(t.Context(), Query{}, cur, 0)
		if err != nil {
			t.Fatal(err)
		}
		total += len(p.Keys)
		if p.Done {
			break
		}
		cur = p.Next
	}
	if total <= 5000 {
		t.Fatalf("ScanPage returned %d keys: the hook did not repeat any", total)
	}
}

// repeatingScan adds the previous SCAN reply's first keys to each reply.
type repeatingScan struct {
	mu   sync.Mutex
	prev []string
}

func (h *repeatingScan) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *repeatingScan) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *repeatingScan) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if sc, ok := cmd.(*redis.ScanCmd); ok && err == nil && cmd.Name() == "scan" {
			keys, cursor := sc.Val()
			h.mu.Lock()
			repeat := h.prev[:min(len(h.prev), 10)]
			h.prev = append([]string(nil), keys...)
			h.mu.Unlock()
			sc.SetVal(append(keys, repeat...), cursor)
		}
		return err
	}
}

func TestKeySetGrowsAndStopsAtItsLimit(t *testing.T) {
	s := newKeySet(5000)
	for i := 0; i < 6000; i++ {
		s.add(fmt.Sprint(i))
	}
	if s.len() != 5000 || !s.full() {
		t.Fatalf("len %d full %v", s.len(), s.full())
	}
	for i := 0; i < 5000; i++ {
		if !s.has(fmt.Sprint(i)) {
			t.Fatalf("lost %d", i)
		}
	}
	if s.has("5999") {
		t.Fatal("a key past the limit is remembered")
	}
	if len(s.slots) > 16384 {
		t.Fatalf("%d slots for 5000 keys", len(s.slots))
	}
}

func TestCursorFromOtherServersIsStale(t *testing.T) {
	t.Parallel()
	a, b := startKeysServer(t), startKeysServer(t)
	populate(t, a.admin, 3000, "k")
	ka, kb := NewKeys(a.watched, KeysOptions{ScanCount: 100}), NewKeys(b.watched, KeysOptions{ScanCount: 100})
	p, err := ka.ScanPage(t.Context(), Query{}, Cursor{}, 10)
	if err != nil || p.Done {
		t.Fatalf("%+v %v", p, err)
	}
	// The masters differ (as after a failover or a resharding): resuming
	// could miss keys, so it is refused.
	if _, err := kb.ScanPage(t.Context(), Query{}, p.Next, 10); !errors.Is(err, ErrCursorStale) {
		t.Fatalf("resumed on another server: %v", err)
	}
}
