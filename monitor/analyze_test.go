package monitor

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestAnalyzeReportsNamespacesTTLsAndBiggestKeys(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	ctx := t.Context()
	p := s.admin.Pipeline()
	for i := 0; i < 3000; i++ {
		p.Set(ctx, fmt.Sprintf("user:%d", i), "x", 30*time.Second)
	}
	for i := 0; i < 1000; i++ {
		p.Set(ctx, fmt.Sprintf("session:%d", i), "x", 2*time.Hour)
	}
	for i := 0; i < 500; i++ {
		p.Set(ctx, fmt.Sprintf("noexpiry%d", i), "x", 0)
	}
	p.Set(ctx, "page:home", string(make([]byte, 500_000)), 10*time.Minute)
	p.Set(ctx, "page:about", string(make([]byte, 200_000)), 2*24*time.Hour)
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	k := NewKeys(s.watched, KeysOptions{})
	var progress int
	a, err := k.Analyze(ctx, AnalyzeOptions{Rate: -1, ScanRate: -1, Top: 3, Progress: func(Analysis) { progress++ }})
	if err != nil {
		t.Fatal(err)
	}
	if a.Keys != 4502 || !a.Complete || a.Total != 4502 || a.Examined != 4502 || progress == 0 {
		t.Fatalf("keys %d complete %v total %d examined %d progress %d", a.Keys, a.Complete, a.Total, a.Examined, progress)
	}
	want := TTLBuckets{None: 500, UnderMin: 3000, UnderHour: 1, UnderDay: 1000, DayOrLonger: 1}
	if a.TTL != want {
		t.Fatalf("TTL %+v, want %+v", a.TTL, want)
	}
	if len(a.Biggest) != 3 || a.Biggest[0].Key != "page:home" || a.Biggest[1].Key != "page:about" || a.Biggest[0].Type != TypeString || a.Biggest[0].Memory < 500_000 {
		t.Fatalf("biggest %+v", a.Biggest)
	}
	ns := map[string]NamespaceStats{}
	var sum int64
	for _, n := range a.Namespaces {
		ns[n.Prefix] = n
		sum += n.Memory
	}
	if a.Namespaces[0].Prefix != "page:" || ns["user:"].Keys != 3000 || ns["session:"].Keys != 1000 || ns[""].Keys != 500 || ns[""].NoTTL != 500 || ns["user:"].NoTTL != 0 {
		t.Fatalf("namespaces %+v", a.Namespaces)
	}
	if sum != a.Memory || a.Memory < 700_000 {
		t.Fatalf("memory %d, namespaces sum %d", a.Memory, sum)
	}

	// MaxKeys stops early; MaxNamespaces folds the rest into Other;
	// Depth 2 splits deeper.
	a, err = k.Analyze(ctx, AnalyzeOptions{Rate: -1, ScanRate: -1, MaxKeys: 1000, MaxNamespaces: 1})
	if err != nil || a.Keys != 1000 || a.Complete {
		t.Fatalf("MaxKeys: %d complete %v %v", a.Keys, a.Complete, err)
	}
	if len(a.Namespaces) != 2 || !a.Namespaces[1].Other || a.Namespaces[0].Keys+a.Namespaces[1].Keys != 1000 {
		t.Fatalf("namespaces %+v", a.Namespaces)
	}
	a, err = k.Analyze(ctx, AnalyzeOptions{Query: Query{Pattern: "page:*"}, Depth: 2, Rate: -1, ScanRate: -1})
	if err != nil || a.Keys != 2 || len(a.Namespaces) != 1 || a.Namespaces[0].Prefix != "page:" {
		t.Fatalf("depth 2 over page:*: %+v %v", a.Namespaces, err)
	}
}

func TestAnalyzeIsPacedAndCancellable(t *testing.T) {
	t.Parallel()
	s := startKeysServer(t)
	populate(t, s.admin, 5000, "k")
	k := NewKeys(s.watched, KeysOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	var last Analysis
	// At 1000 keys/s, 5000 keys take 5 s: the cancel after the first
	// batches must cut it short.
	a, err := k.Analyze(ctx, AnalyzeOptions{Rate: 1000, Batch: 50, Progress: func(p Analysis) {
		last = p
		if p.Keys >= 200 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if a.Keys < 200 || a.Keys >= 5000 || a.Complete || last.Keys == 0 {
		t.Fatalf("partial analysis %d keys complete %v", a.Keys, a.Complete)
	}
}

func TestPacerSpacesBatchesWithoutBursts(t *testing.T) {
	clock := time.Unix(0, 0)
	var slept time.Duration
	p := newPacer(1000)
	p.now = func() time.Time { return clock }
	p.sleep = func(_ context.Context, d time.Duration) error {
		slept += d
		clock = clock.Add(d)
		return nil
	}
	for i := 0; i < 6; i++ { // 300 items in batches of 50 at 1000/s
		if err := p.wait(t.Context(), 50); err != nil {
			t.Fatal(err)
		}
	}
	// The first batch goes at once; each next one 50ms later.
	if slept != 250*time.Millisecond {
		t.Fatalf("slept %v, want 250ms", slept)
	}
	// After idling, work resumes at the rate, without a catch-up burst.
	clock = clock.Add(10 * time.Second)
	slept = 0
	_ = p.wait(t.Context(), 50)
	_ = p.wait(t.Context(), 50)
	if slept != 50*time.Millisecond {
		t.Fatalf("after idling slept %v, want 50ms", slept)
	}
	if newPacer(0) != nil || newPacer(-1).wait(t.Context(), 1e9) != nil {
		t.Fatal("an unpaced pacer waits")
	}
}

func TestNamespaceOf(t *testing.T) {
	for _, c := range []struct {
		key, sep string
		depth    int
		want     string
	}{{"a:b:c", ":", 1, "a:"}, {"a:b:c", ":", 2, "a:b:"}, {"a:b:c", ":", 5, "a:b:"}, {"abc", ":", 1, ""}, {"a::b", "::", 1, "a::"}} {
		if got := namespaceOf(c.key, c.sep, c.depth); got != c.want {
			t.Errorf("namespaceOf(%q, %q, %d) = %q, want %q", c.key, c.sep, c.depth, got, c.want)
		}
	}
}
