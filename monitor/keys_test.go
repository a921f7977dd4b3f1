package monitor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/cachecore"
)

func TestBrowseReturnsEveryKeyOnce(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	populate(t, s.admin, 100_000, "key")
	k := NewKeys(s.watched, KeysOptions{PageSize: 1000})
	b, err := k.Browse(Query{})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]int, 100_000)
	pages := 0
	var last Page
	for !b.Done() {
		p, err := b.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Keys) > 1000 {
			t.Fatalf("page of %d keys, PageSize is 1000", len(p.Keys))
		}
		if !p.Done && len(p.Keys) < 1000 && !p.Budget {
			t.Fatalf("short page (%d keys) that is neither the last nor out of budget", len(p.Keys))
		}
		if p.Total != 100_000 {
			t.Fatalf("Total = %d, want the DBSIZE 100000", p.Total)
		}
		for _, key := range p.Keys {
			seen[key]++
		}
		pages++
		last = p
	}
	if len(seen) != 100_000 {
		t.Fatalf("%d distinct keys, want 100000", len(seen))
	}
	for key, n := range seen {
		if n != 1 {
			t.Fatalf("%q returned %d times", key, n)
		}
	}
	if pages < 100 || last.Examined != 100_000 || !last.Done {
		t.Fatalf("%d pages, last %+v", pages, last)
	}
	// After the end, Next keeps saying done.
	p, err := b.Next(t.Context())
	if err != nil || !p.Done || len(p.Keys) != 0 || p.Examined != 100_000 {
		t.Fatalf("after the end: %+v %v", p, err)
	}
}

func TestBrowseWhileKeysAreAddedAndDeleted(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	populate(t, s.admin, 100_000, "stable")
	// 400k keys that go away during the scan: the table then shrinks
	// under the cursor, which is when SCAN returns keys twice.
	populate(t, s.admin, 400_000, "doomed")
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var churned atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for start := 0; start < 400_000 && ctx.Err() == nil; start += 2000 {
			p := s.admin.Pipeline()
			for i := start; i < start+2000; i++ {
				p.Unlink(ctx, fmt.Sprintf("doomed:%d", i))
			}
			if _, err := p.Exec(ctx); err == nil {
				churned.Add(2000)
			}
		}
	}()
	// Writers add and delete keys all along.
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; ctx.Err() == nil; round++ {
				p := s.admin.Pipeline()
				for i := 0; i < 500; i++ {
					if round%2 == 0 {
						p.Set(ctx, fmt.Sprintf("churn:%d:%d:%d", w, round, i), 1, 0)
					} else {
						p.Del(ctx, fmt.Sprintf("churn:%d:%d:%d", w, round-1, i))
					}
				}
				if _, err := p.Exec(ctx); err == nil {
					churned.Add(500)
				}
			}
		}()
	}
	k := NewKeys(s.watched, KeysOptions{PageSize: 500, ScanCount: 200})
	b, err := k.Browse(Query{})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]int)
	for !b.Done() {
		p, err := b.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range p.Keys {
			seen[key]++
		}
	}
	cancel()
	wg.Wait()
	if churned.Load() == 0 {
		t.Fatal("the writers did nothing")
	}
	for i := 0; i < 100_000; i++ {
		if n := seen[fmt.Sprintf("stable:%d", i)]; n != 1 {
			t.Fatalf("stable:%d returned %d times", i, n)
		}
	}
	for key, n := range seen {
		if n != 1 {
			t.Fatalf("%q returned %d times", key, n)
		}
	}
}

func TestRarePatternStaysWithinTheBudget(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	populate(t, s.admin, 1_000_000, "bulk")
	for i := 0; i < 3; i++ {
		s.admin.Set(t.Context(), fmt.Sprintf("rare:%d", i), i, 0)
	}
	k := NewKeys(s.watched, KeysOptions{PageSize: 50, ScanCount: 1000, MaxExamined: 50_000})
	b, err := k.Browse(Query{Pattern: "rare:*"})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	var prev int64
	pages := 0
	for !b.Done() {
		p, err := b.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		// Each call examines about MaxExamined keys, in MaxExamined/COUNT
		// SCAN calls, and reports its progress.
		if p.Calls > 50 {
			t.Fatalf("page %d made %d SCAN calls; the budget allows 50", pages, p.Calls)
		}
		if !p.Done && !p.Budget {
			t.Fatalf("page %d stopped without reason: %+v", pages, p)
		}
		if p.Examined <= prev || p.Examined > p.Total {
			t.Fatalf("progress %d of %d after %d", p.Examined, p.Total, prev)
		}
		prev = p.Examined
		found = append(found, p.Keys...)
	}
	if len(found) != 3 {
		t.Fatalf("found %v", found)
	}
	if pages < 15 {
		t.Fatalf("%d pages for 1M keys at a 50k budget: the budget is not applied", pages)
	}
}

func TestScanPageIsStatelessAndResumable(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	populate(t, s.admin, 5000, "k")
	k := NewKeys(s.watched, KeysOptions{ScanCount: 1000})
	seen := map[string]bool{}
	cur := Cursor{}
	if !cur.IsZero() {
		t.Fatal("zero cursor is not zero")
	}
	for i := 0; ; i++ {
		p, err := k.ScanPage(t.Context(), Query{Pattern: "k:*"}, cur, 7)
		if err != nil {
			t.Fatal(err)
		}
		// COUNT 1000 returns ~1000 keys per call; the page keeps 7 and
		// the cursor carries the rest.
		if len(p.Keys) > 7 {
			t.Fatalf("page of %d keys, limit 7", len(p.Keys))
		}
		// Re-reading from the same cursor gives the same page.
		again, err := k.ScanPage(t.Context(), Query{Pattern: "k:*"}, cur, 7)
		if err != nil || fmt.Sprint(again.Keys) != fmt.Sprint(p.Keys) {
			t.Fatalf("the cursor is not immutable: %v then %v (%v)", p.Keys, again.Keys, err)
		}
		for _, key := range p.Keys {
			seen[key] = true
		}
		if p.Done {
			if !p.Next.IsZero() {
				t.Fatal("the last page has a next cursor")
			}
			break
		}
		cur = p.Next
		if i > 2000 {
			t.Fatal("no end")
		}
	}
	if len(seen) != 5000 {
		t.Fatalf("%d keys", len(seen))
	}
}

func TestExactLookupAndTypeFilter(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	s.admin.Set(ctx, "a*b", "glob in the name", 0)
	s.admin.Set(ctx, "axb", "x", 0)
	s.admin.HSet(ctx, "h:1", "f", "v")
	s.admin.RPush(ctx, "l:1", "a")
	s.admin.Set(ctx, "s:1", "v", 0)
	k := NewKeys(s.watched, KeysOptions{})
	m := meter(s.watched)

	p, err := k.ScanPage(ctx, Query{Pattern: cachecore.EscapeGlob("a*b")}, Cursor{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Exact || !p.Done || len(p.Keys) != 1 || p.Keys[0] != "a*b" {
		t.Fatalf("exact lookup of a*b: %+v", p)
	}
	cmds, _ := m.reset()
	for _, c := range cmds {
		if len(c) >= 4 && c[:4] == "SCAN" {
			t.Fatalf("an exact lookup scanned: %v", cmds)
		}
	}
	if p, _ := k.ScanPage(ctx, Query{Pattern: "missing"}, Cursor{}, 0); len(p.Keys) != 0 || !p.Done {
		t.Fatalf("missing key: %+v", p)
	}
	if p, _ := k.ScanPage(ctx, Query{Pattern: "h:1", Type: TypeList}, Cursor{}, 0); len(p.Keys) != 0 {
		t.Fatalf("exact lookup ignores the type filter: %+v", p)
	}
	got := browseAll(t, k, Query{Type: TypeHash})
	if len(got) != 1 || got[0] != "h:1" {
		t.Fatalf("type hash: %v", got)
	}
	cmds, _ = m.reset()
	for _, c := range cmds {
		if len(c) >= 4 && c[:4] == "SCAN" && containsWord(c, "TYPE") {
			t.Fatalf("SCAN ... TYPE counts hits the client cannot know; sent %q", c)
		}
	}
	if _, err := k.Browse(Query{Type: "bogus"}); !errors.Is(err, ErrBadQuery) {
		t.Fatalf("bad type: %v", err)
	}
}

func containsWord(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i:i+len(w)] == w && (i == 0 || s[i-1] == ' ') && (i+len(w) == len(s) || s[i+len(w)] == ' ') {
			return true
		}
	}
	return false
}

func TestMetaInOnePipelinePerPage(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	s.admin.Set(ctx, "str", "hello", time.Hour)
	s.admin.HSet(ctx, "hash", "a", "1", "b", "2")
	s.admin.RPush(ctx, "list", "a", "b", "c")
	s.admin.SAdd(ctx, "set", "x")
	s.admin.ZAdd(ctx, "zset", redis.Z{Score: 1, Member: "m"})
	s.admin.XAdd(ctx, &redis.XAddArgs{Stream: "stream", Values: []string{"f", "v"}})
	k := NewKeys(s.watched, KeysOptions{})
	var pipelines atomic.Int64
	s.watched.AddHook(pipelineCounter{&pipelines})
	keys := []string{"str", "hash", "list", "set", "zset", "stream", "gone"}
	metas, err := k.Meta(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if n := pipelines.Load(); n != 2 {
		t.Fatalf("%d pipelines for one page, want 2 (the length depends on the type)", n)
	}
	want := map[string]struct {
		typ string
		n   int64
	}{"str": {"string", 5}, "hash": {"hash", 2}, "list": {"list", 3}, "set": {"set", 1}, "zset": {"zset", 1}, "stream": {"stream", 1}}
	for _, m := range metas {
		w, ok := want[m.Key]
		if !ok {
			if m.Exists || m.Key != "gone" {
				t.Fatalf("unexpected %+v", m)
			}
			continue
		}
		if !m.Exists || m.Type != w.typ || m.Length != w.n || m.Memory <= 0 || m.Encoding == "" {
			t.Errorf("%s: %+v", m.Key, m)
		}
		if (m.Key == "str") != m.HasTTL || m.HasTTL && (m.TTL <= 59*time.Minute || m.TTL > time.Hour) {
			t.Errorf("%s TTL: %+v", m.Key, m)
		}
	}
	if _, err := k.Inspect(ctx, "gone"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("Inspect of a missing key: %v", err)
	}
	// A cancelled context abandons the read.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := k.Meta(cctx, keys); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Meta: %v", err)
	}
}

type pipelineCounter struct{ n *atomic.Int64 }

func (pipelineCounter) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (pipelineCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (p pipelineCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		// A new connection's handshake (HELLO, CLIENT SETINFO) is a
		// pipeline of its own; it is not the code's.
		if name := cmds[0].Name(); name != "hello" && name != "client" {
			p.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// The explorer's own reads change the server's keyspace_hits and
// keyspace_misses by exactly what Lookups reports.
func TestLookupsMatchTheServersCounters(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	populate(t, s.admin, 3000, "k")
	s.admin.HSet(ctx, "h", "a", "1")
	s.admin.RPush(ctx, "l", "a", "b")
	s.admin.XAdd(ctx, &redis.XAddArgs{Stream: "x", Values: []string{"f", "v"}})
	s.admin.Set(ctx, "ttl", "v", time.Hour)
	k := NewKeys(s.watched, KeysOptions{PageSize: 500})
	h0, m0 := lookupStats(t, s.admin)

	browseAll(t, k, Query{})
	browseAll(t, k, Query{Type: TypeHash})
	browseAll(t, k, Query{Pattern: "h"})
	browseAll(t, k, Query{Pattern: "nope"})
	if _, err := k.Meta(ctx, []string{"k:1", "h", "l", "x", "ttl", "gone", "gone2"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ key, typ string }{{"k:1", TypeString}, {"h", TypeHash}, {"l", TypeList}, {"x", TypeStream}, {"gone", TypeString}, {"h", TypeList}} {
		_, _ = k.ReadValue(ctx, r.key, r.typ, ValueAt{})
	}
	if _, err := k.Analyze(ctx, AnalyzeOptions{Rate: -1, ScanRate: -1}); err != nil {
		t.Fatal(err)
	}
	h1, m1 := lookupStats(t, s.admin)
	hits, misses := k.Lookups().Load()
	if hits != h1-h0 || misses != m1-m0 {
		t.Fatalf("Lookups says %d hits %d misses; the server counted %d and %d", hits, misses, h1-h0, m1-m0)
	}
	if hits < 3000 || misses < 4 {
		t.Fatalf("implausibly few lookups: %d hits %d misses", hits, misses)
	}
}

func TestBinaryAndHostileKeys(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	keys := []string{"bin:\x00\xff\xfe", "nl:line1\nline2", "esc:\x1b[31mred\x1b[0m", "uni:日本語🔑", "bidi:\u202eevil", "bin:\x80"}
	for _, key := range keys {
		if err := s.admin.Set(ctx, key, "value of "+key, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	k := NewKeys(s.watched, KeysOptions{})
	got := browseAll(t, k, Query{})
	if len(got) != len(keys) {
		t.Fatalf("listed %q", got)
	}
	set := map[string]bool{}
	for _, g := range got {
		set[g] = true
	}
	for _, key := range keys {
		if !set[key] {
			t.Fatalf("%q not listed as is (got %q)", key, got)
		}
		// An exact lookup finds it too, escaped.
		p, err := k.ScanPage(ctx, Query{Pattern: cachecore.EscapeGlob(key)}, Cursor{}, 0)
		if err != nil || len(p.Keys) != 1 || p.Keys[0] != key {
			t.Fatalf("exact lookup of %q: %+v %v", key, p, err)
		}
		m, err := k.Inspect(ctx, key)
		if err != nil || m.Type != TypeString || m.Length != int64(len("value of "+key)) {
			t.Fatalf("meta of %q: %+v %v", key, m, err)
		}
		v, err := k.ReadValue(ctx, key, TypeString, ValueAt{})
		if err != nil || v.Data != "value of "+key {
			t.Fatalf("value of %q: %q %v", key, v.Data, err)
		}
	}
	a := newTestActions(t, s, true)
	res, err := a.Delete(ctx, keys, DeleteOptions{})
	if err != nil || res.Deleted != int64(len(keys)) {
		t.Fatalf("delete: %+v %v", res, err)
	}
	if n := s.admin.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("%d keys left", n)
	}
}

func TestUnescapeGlob(t *testing.T) {
	for in, want := range map[string]string{`a\*b`: "a*b", `a\\b`: `a\b`, `trail\`: `trail\`, `x\?`: "x?", "plain": "plain"} {
		if got := unescapeGlob(in); got != want {
			t.Errorf("unescapeGlob(%q) = %q, want %q", in, got, want)
		}
	}
}
