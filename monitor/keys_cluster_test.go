package monitor

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cachescope/cachescope/internal/redistest"
)

func TestClusterBrowseAnalyzeAndInvalidate(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t, redistest.ClusterConfig{Masters: 3})
	admin := c.Client(t)
	rdb := c.Client(t)
	redistest.ForbidDangerous(t, rdb)
	ctx := t.Context()
	p := admin.Pipeline()
	for i := 0; i < 10_000; i++ {
		p.Set(ctx, fmt.Sprintf("item:%d", i), i, 0)
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	k := NewKeys(rdb, KeysOptions{PageSize: 700, ScanCount: 500})
	b, err := k.Browse(Query{Pattern: "item:*"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for !b.Done() {
		page, err := b.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 10_000 {
			t.Fatalf("Total %d: not the sum over the masters", page.Total)
		}
		for _, key := range page.Keys {
			seen[key]++
		}
		if n := len(b.Cursor().nodes); !page.Done && n != 3 {
			t.Fatalf("cursor over %d masters", n)
		}
	}
	if len(seen) != 10_000 {
		t.Fatalf("%d keys", len(seen))
	}
	for key, n := range seen {
		if n != 1 {
			t.Fatalf("%s returned %d times", key, n)
		}
	}
	metas, err := k.Meta(ctx, []string{"item:1", "item:2", "item:3"})
	if err != nil || !metas[2].Exists || metas[2].Length != 1 {
		t.Fatalf("meta across slots: %+v %v", metas, err)
	}
	a, err := k.Analyze(ctx, AnalyzeOptions{Rate: -1, ScanRate: -1})
	if err != nil || a.Keys != 10_000 || !a.Complete {
		t.Fatalf("analysis: %d keys complete %v %v", a.Keys, a.Complete, err)
	}

	dir := t.TempDir()
	acts, err := NewActions(rdb, ActionsOptions{Write: true, AuditPath: filepath.Join(dir, "audit.log")})
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "b.backup")
	rep, err := acts.Invalidate(ctx, "item:1*", InvalidateOptions{Backup: backup})
	if err != nil || rep.Deleted != 1111 || rep.BackedUp != 1111 {
		t.Fatalf("invalidate: %+v %v", rep, err)
	}
	res, err := acts.Restore(ctx, backup)
	if err != nil || res.Restored != 1111 {
		t.Fatalf("restore: %+v %v", res, err)
	}
	if v := admin.Get(ctx, "item:1234").Val(); v != "1234" {
		t.Fatalf("restored item:1234 = %q", v)
	}
}
