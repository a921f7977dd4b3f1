package cachecore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestMSetMGetTenThousandKeys(t *testing.T) {
	// A patient OpTimeout: a chunk of 1000 SETs under -race on a loaded
	// machine can take longer than the default 250ms.
	c, _, rdb := newRealCache(t, Options{Namespace: "bulk", TTLJitter: 0.1, OpTimeout: 10 * time.Second})
	ctx := context.Background()
	items := make(map[string]any, 10_000)
	keys := make([]string, 0, 10_100)
	for i := 0; i < 10_000; i++ {
		k := fmt.Sprintf("item:%d", i)
		items[k] = product{ID: i, Name: k}
		keys = append(keys, k)
	}
	if err := c.MSet(ctx, items, time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := rdb.DBSize(ctx).Val(); n != 10_000 {
		t.Fatalf("DBSIZE after MSet = %d", n)
	}
	// Per-key TTLs, jittered within bounds.
	for _, i := range []int{0, 1234, 9999} {
		pttl := rdb.PTTL(ctx, fmt.Sprintf("bulk:item:%d", i)).Val()
		if pttl > time.Minute || pttl < 54*time.Second-time.Second {
			t.Fatalf("PTTL %v outside [54s, 60s]", pttl)
		}
	}
	for i := 0; i < 100; i++ {
		keys = append(keys, fmt.Sprintf("absent:%d", i))
	}
	got, err := MGet[product](ctx, c, keys...)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10_000 {
		t.Fatalf("MGet returned %d hits, want 10000", len(got))
	}
	for _, i := range []int{0, 5000, 9999} {
		k := fmt.Sprintf("item:%d", i)
		if got[k].ID != i || got[k].Name != k {
			t.Fatalf("MGet[%s] = %+v", k, got[k])
		}
	}
	st := c.Stats()
	if st.Namespaces["item"].Hits != 10_000 || st.Namespaces["absent"].Misses != 100 || st.Sets != 10_000 {
		t.Fatalf("stats: %+v", st.Namespaces)
	}
}

func TestMGetSkipsUndecodableAndNegative(t *testing.T) {
	c, mr := newMiniCache(t, Options{})
	ctx := context.Background()
	if err := c.MSet(ctx, map[string]any{"a": product{ID: 1}, "b": product{ID: 2}}, 0); err != nil {
		t.Fatal(err)
	}
	mr.Set("foreign", "not an envelope")
	if err := c.Set(ctx, "wrongtype", "a string", 0); err != nil {
		t.Fatal(err)
	}
	mr.Set("neg", string(encodeEnvelope(nil, true, nil)))
	got, err := MGet[product](ctx, c, "a", "foreign", "b", "wrongtype", "neg", "missing")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["a"].ID != 1 || got["b"].ID != 2 {
		t.Fatalf("MGet = %+v", got)
	}
	st := c.Stats()
	// a, b and the negative entry are hits; foreign, wrongtype and missing
	// are misses; the two undecodable values are decode errors.
	if st.Hits != 3 || st.Misses != 3 || st.ErrorsByOp["decode"] != 2 {
		t.Fatalf("hits=%d misses=%d decode=%d", st.Hits, st.Misses, st.ErrorsByOp["decode"])
	}
}

func TestMSetSmallChunksAndEmpty(t *testing.T) {
	c, mr := newMiniCache(t, Options{BulkChunk: 7})
	ctx := context.Background()
	if err := c.MSet(ctx, nil, 0); err != nil {
		t.Fatal(err)
	}
	items := map[string]any{}
	for i := 0; i < 50; i++ {
		items[fmt.Sprintf("k%d", i)] = i
	}
	if err := c.MSet(ctx, items, 0); err != nil {
		t.Fatal(err)
	}
	if len(mr.Keys()) != 50 {
		t.Fatalf("%d keys written, want 50", len(mr.Keys()))
	}
	got, err := MGet[int](ctx, c, "k0", "k49", "k13")
	if err != nil || len(got) != 3 || got["k49"] != 49 {
		t.Fatalf("MGet across chunks = %v, %v", got, err)
	}
	if got, err := MGet[int](ctx, c); err != nil || len(got) != 0 {
		t.Fatalf("MGet of no keys = %v, %v", got, err)
	}
}

// MSet's JSON fast path writes exactly what Set writes, and refuses an
// unencodable value with ErrEncode.
func TestMSetWritesWhatSetWrites(t *testing.T) {
	t.Parallel()
	c, _, rdb := newRealCache(t, Options{Namespace: "eq"})
	ctx := context.Background()
	values := map[string]any{
		"a": product{ID: 1, Name: "<b>&é\u2028", Price: 1.5},
		"b": []string{"x", "y"},
		"c": map[string]int{"z": 1, "a": 2},
		"d": "plain",
		"e": nil,
	}
	if err := c.MSet(ctx, values, time.Hour); err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		bulk, err := rdb.Get(ctx, "eq:"+k).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, k, v, time.Hour); err != nil {
			t.Fatal(err)
		}
		single, _ := rdb.Get(ctx, "eq:"+k).Bytes()
		if string(bulk) != string(single) {
			t.Errorf("%s: MSet wrote %q, Set writes %q", k, bulk, single)
		}
	}
	err := c.MSet(ctx, map[string]any{"f": make(chan int)}, time.Hour)
	if !errors.Is(err, ErrEncode) {
		t.Errorf("unencodable value: %v", err)
	}
}
