package cachecore

import (
	"fmt"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
)

func TestLimiterStatsNamesAndCap(t *testing.T) {
	t.Parallel()
	l := NewLimiter(redistest.Start(t).Client(t), LimiterOptions{MaxNames: 2})
	limit := Limit{Algorithm: FixedWindow, Rate: 2, Period: time.Hour}
	for _, key := range []string{"login:a", "login:b", "login:a", "login:a", "api:1", "search:x", "nocolon", "api:2:3"} {
		limiterAllowN(t, l, key, limit, 1)
	}
	got := l.Stats()
	want := map[string]LimiterCounts{
		"login":          {Allowed: 3, Denied: 1},
		"api":            {Allowed: 2},
		LimiterOtherName: {Allowed: 2},
	}
	if len(got.ByName) != len(want) {
		t.Fatalf("stats %+v, want %+v", got.ByName, want)
	}
	for name, c := range want {
		if got.ByName[name] != c {
			t.Errorf("%s: %+v, want %+v", name, got.ByName[name], c)
		}
	}
	if tot := got.Total(); tot != (LimiterCounts{Allowed: 7, Denied: 1}) {
		t.Errorf("Total %+v", tot)
	}
}

func TestLimiterStatsExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	var s limiterStats
	s.init(10)
	const goroutines, each = 50, 2000
	done := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < each; i++ {
				key := fmt.Sprintf("name%d:%d", i%40, g)
				s.record(key, i%3 != 0, i%7 == 0)
			}
		}()
	}
	for g := 0; g < goroutines; g++ {
		<-done
	}
	st := s.snapshot()
	if len(st.ByName) > 11 {
		t.Errorf("%d names tracked, cap is 10 plus %q", len(st.ByName), LimiterOtherName)
	}
	var wantAllowed, wantErrors uint64
	for i := 0; i < each; i++ {
		if i%3 != 0 {
			wantAllowed += goroutines
		}
		if i%7 == 0 {
			wantErrors += goroutines
		}
	}
	tot := st.Total()
	if tot.Allowed != wantAllowed || tot.Allowed+tot.Denied != goroutines*each || tot.Errors != wantErrors {
		t.Errorf("total %+v, want %d allowed of %d, %d errors", tot, wantAllowed, goroutines*each, wantErrors)
	}
}
