package monitor

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
)

// Not parallel: the scan's Total and the analysis cover the whole
// keyspace of the shared cluster, which no other test changes meanwhile.
func TestClusterBrowseAnalyzeAndInvalidate(t *testing.T) {
	c := sharedCluster.Get(t)
	admin := c.Client(t)
	rdb := c.Client(t)
	redistest.ForbidDangerous(t, rdb)
	ctx := t.Context()
	const n = 100_000
	p := admin.Pipeline()
	for i := 0; i < n; i++ {
		p.Set(ctx, fmt.Sprintf("item:%d", i), i, 0)
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p := admin.Pipeline()
		for i := 0; i < n; i++ {
			p.Unlink(context.Background(), fmt.Sprintf("item:%d", i))
		}
		_, _ = p.Exec(context.Background())
	})
	var total atomic.Int64
	if err := admin.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		size, err := m.DBSize(ctx).Result()
		total.Add(size)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	k := NewKeys(rdb, KeysOptions{PageSize: 1000, ScanCount: 1000})
	b, err := k.Browse(Query{Pattern: "item:*"})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]int, n)
	pages := 0
	for !b.Done() {
		page, err := b.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if page.Total != total.Load() {
			t.Fatalf("Total %d: not DBSIZE summed over the masters (%d)", page.Total, total.Load())
		}
		for _, key := range page.Keys {
			seen[key]++
		}
		if n := len(b.Cursor().nodes); !page.Done && n != 3 {
			t.Fatalf("cursor over %d masters", n)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d keys in %d pages, want %d", len(seen), pages, n)
	}
	for key, times := range seen {
		if times != 1 {
			t.Fatalf("%s returned %d times", key, times)
		}
	}
	metas, err := k.Meta(ctx, []string{"item:1", "item:2", "item:3"})
	if err != nil || !metas[2].Exists || metas[2].Length != 1 {
		t.Fatalf("meta across slots: %+v %v", metas, err)
	}
	a, err := k.Analyze(ctx, AnalyzeOptions{Query: Query{Pattern: "item:1*"}, Rate: -1, ScanRate: -1})
	if err != nil || a.Keys != 11_111 || !a.Complete {
		t.Fatalf("analysis: %d keys complete %v %v", a.Keys, a.Complete, err)
	}

	dir := t.TempDir()
	acts, err := NewActions(rdb, ActionsOptions{Write: true, AuditPath: filepath.Join(dir, "audit.log")})
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "b.backup")
	rep, err := acts.Invalidate(ctx, "item:1*", InvalidateOptions{Backup: backup})
	if err != nil || rep.Deleted != 11_111 || rep.BackedUp != 11_111 {
		t.Fatalf("invalidate: %+v %v", rep, err)
	}
	res, err := acts.Restore(ctx, backup)
	if err != nil || res.Restored != 11_111 {
		t.Fatalf("restore: %+v %v", res, err)
	}
	if v := admin.Get(ctx, "item:12345").Val(); v != "12345" {
		t.Fatalf("restored item:12345 = %q", v)
	}
}
