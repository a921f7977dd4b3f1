package cachecore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/redis/go-redis/v9"
)

var limiterAlgorithms = []Algorithm{GCRA, FixedWindow, SlidingWindow}

// limiterMicros is a result's server time in the scripts' clock
// (microseconds since limiterEpoch).
func limiterMicros(r Result) int64 {
	return r.serverTime.UnixMicro() - limiterEpoch*1e6
}

func limiterAllowN(t *testing.T, l *Limiter, key string, limit Limit, n int) Result {
	t.Helper()
	r, err := l.AllowN(context.Background(), key, limit, n)
	if err != nil {
		t.Fatalf("AllowN(%q, %+v, %d): %v", key, limit, n, err)
	}
	if r.serverTime.IsZero() {
		t.Fatalf("AllowN(%q): result carries no server time", key)
	}
	return r
}

func limiterUS(d time.Duration) int64 { return d.Microseconds() }

func TestLimiterRejectsBadInputWithoutAskingRedis(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	// Stopped: a case that reached Redis would fail with a connection
	// error instead of its sentinel.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	const day = 24 * time.Hour
	cases := []struct {
		name  string
		key   string
		limit Limit
		n     int
		want  error
	}{
		{"empty key", "", PerSecond(1), 1, ErrInvalidKey},
		{"zero rate", "k", Limit{Period: time.Second}, 1, ErrInvalidLimit},
		{"negative rate", "k", Limit{Rate: -1, Period: time.Second}, 1, ErrInvalidLimit},
		{"rate above 2^40", "k", Limit{Rate: 1<<40 + 1, Period: time.Second}, 1, ErrInvalidLimit},
		{"zero period", "k", Limit{Rate: 1}, 1, ErrInvalidLimit},
		{"negative period", "k", Limit{Rate: 1, Period: -time.Second}, 1, ErrInvalidLimit},
		{"period below 1ms", "k", Limit{Rate: 1, Period: 999 * time.Microsecond}, 1, ErrInvalidLimit},
		{"period above 366 days", "k", Limit{Rate: 1, Period: 367 * day}, 1, ErrInvalidLimit},
		{"negative burst", "k", Limit{Rate: 1, Period: time.Second, Burst: -1}, 1, ErrInvalidLimit},
		{"gcra holding over 10 years", "k", Limit{Rate: 1, Period: 366 * day, Burst: 11}, 1, ErrInvalidLimit},
		{"fixed window with a burst", "k", Limit{Algorithm: FixedWindow, Rate: 5, Period: time.Second, Burst: 3}, 1, ErrInvalidLimit},
		{"sliding window with a burst", "k", Limit{Algorithm: SlidingWindow, Rate: 5, Period: time.Second, Burst: 6}, 1, ErrInvalidLimit},
		{"unknown algorithm", "k", Limit{Algorithm: 7, Rate: 1, Period: time.Second}, 1, ErrInvalidLimit},
		{"negative algorithm", "k", Limit{Algorithm: -1, Rate: 1, Period: time.Second}, 1, ErrInvalidLimit},
		{"negative n", "k", PerSecond(5), -1, ErrInvalidN},
		{"n above the default burst", "k", Limit{Rate: 3, Period: time.Second}, 4, ErrExceedsBurst},
		{"n above an explicit burst", "k", Limit{Rate: 10, Period: time.Second, Burst: 2}, 3, ErrExceedsBurst},
		{"n above a fixed window's rate", "k", Limit{Algorithm: FixedWindow, Rate: 3, Period: time.Second}, 4, ErrExceedsBurst},
		{"n above a sliding window's rate", "k", Limit{Algorithm: SlidingWindow, Rate: 3, Period: time.Second, Burst: 3}, 4, ErrExceedsBurst},
	}
	for _, failOpen := range []bool{false, true} {
		l := NewLimiter(rdb, LimiterOptions{FailOpen: failOpen})
		for _, c := range cases {
			res, err := l.AllowN(context.Background(), c.key, c.limit, c.n)
			if !errors.Is(err, c.want) {
				t.Errorf("FailOpen=%v %s: err = %v, want %v", failOpen, c.name, err, c.want)
			}
			if res != (Result{}) {
				t.Errorf("FailOpen=%v %s: result %+v, want the zero Result (bad input is never allowed)", failOpen, c.name, res)
			}
		}
		if err := l.Reset(context.Background(), ""); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Reset(\"\") = %v, want ErrInvalidKey", err)
		}
		if st := l.Stats(); len(st.ByName) != 0 {
			t.Errorf("bad input was counted as decisions: %+v", st)
		}
	}
}

func TestLimiterGCRABurstAndRetryAfter(t *testing.T) {
	t.Parallel()
	l := NewLimiter(redistest.Start(t).Client(t), LimiterOptions{})
	const hour = int64(time.Hour / time.Microsecond)
	// One unit an hour, so no unit comes back while the test runs.
	limit := Limit{Rate: 1, Period: time.Hour, Burst: 3}

	var rs []Result
	for i := 0; i < 3; i++ {
		r := limiterAllowN(t, l, "api:gcra", limit, 1)
		if !r.Allowed || r.Remaining != 2-i || r.RetryAfter != 0 {
			t.Fatalf("call %d of a burst of 3: %+v", i+1, r)
		}
		rs = append(rs, r)
	}
	t0 := limiterMicros(rs[0])
	for i, r := range rs {
		// The bucket is full again once every spent unit has come back.
		if want := t0 + int64(i+1)*hour - limiterMicros(r); limiterUS(r.ResetAfter) != want {
			t.Errorf("call %d: ResetAfter %v, want %dµs", i+1, r.ResetAfter, want)
		}
	}
	denied := limiterAllowN(t, l, "api:gcra", limit, 1)
	t3 := limiterMicros(denied)
	if denied.Allowed || denied.Remaining != 0 {
		t.Fatalf("4th call with a burst of 3: %+v", denied)
	}
	if want := t0 + hour - t3; limiterUS(denied.RetryAfter) != want {
		t.Errorf("RetryAfter %v, want %dµs (first unit back an hour after the first call)", denied.RetryAfter, want)
	}
	if want := t0 + 3*hour - t3; limiterUS(denied.ResetAfter) != want {
		t.Errorf("denied ResetAfter %v, want %dµs", denied.ResetAfter, want)
	}

	// AllowN spends all n or nothing, and Remaining after a denial is what
	// is really left.
	a := limiterAllowN(t, l, "api:gcra-n", limit, 2)
	if !a.Allowed || a.Remaining != 1 {
		t.Fatalf("AllowN(2) on a fresh key: %+v", a)
	}
	b := limiterAllowN(t, l, "api:gcra-n", limit, 2)
	if b.Allowed || b.Remaining != 1 {
		t.Fatalf("AllowN(2) with one unit left: %+v, want denied with Remaining 1", b)
	}
	if want := limiterMicros(a) + hour - limiterMicros(b); limiterUS(b.RetryAfter) != want {
		t.Errorf("AllowN(2) RetryAfter %v, want %dµs", b.RetryAfter, want)
	}
	if c := limiterAllowN(t, l, "api:gcra-n", limit, 1); !c.Allowed || c.Remaining != 0 {
		t.Fatalf("the unit left after a denied AllowN(2): %+v", c)
	}
	// n == Burst fits a fresh key.
	if r := limiterAllowN(t, l, "api:gcra-full", limit, 3); !r.Allowed || r.Remaining != 0 {
		t.Fatalf("AllowN(burst) on a fresh key: %+v", r)
	}
}

// limiterSameWindow fails the test if the results straddle a window
// boundary, which with 366-day windows means the clock jumped.
func limiterSameWindow(t *testing.T, period time.Duration, rs ...Result) int64 {
	t.Helper()
	p := period.Microseconds()
	w := limiterMicros(rs[0]) / p
	for _, r := range rs {
		if limiterMicros(r)/p != w {
			t.Fatalf("results straddle a %v window boundary", period)
		}
	}
	return w
}

func TestLimiterFixedWindow(t *testing.T) {
	t.Parallel()
	l := NewLimiter(redistest.Start(t).Client(t), LimiterOptions{})
	period := 366 * 24 * time.Hour
	limit := Limit{Algorithm: FixedWindow, Rate: 3, Period: period}
	var rs []Result
	for i := 0; i < 3; i++ {
		r := limiterAllowN(t, l, "api:fixed", limit, 1)
		if !r.Allowed || r.Remaining != 2-i {
			t.Fatalf("call %d of 3: %+v", i+1, r)
		}
		rs = append(rs, r)
	}
	denied := limiterAllowN(t, l, "api:fixed", limit, 1)
	rs = append(rs, denied)
	w := limiterSameWindow(t, period, rs...)
	end := (w + 1) * period.Microseconds()
	for i, r := range rs {
		if want := end - limiterMicros(r); limiterUS(r.ResetAfter) != want {
			t.Errorf("call %d: ResetAfter %v, want the window's end in %dµs", i+1, r.ResetAfter, want)
		}
	}
	if denied.Allowed || denied.Remaining != 0 || denied.RetryAfter != denied.ResetAfter {
		t.Fatalf("4th call: %+v, want denied until the window ends", denied)
	}
	// A denied AllowN(2) with one unit left spends nothing.
	limiterAllowN(t, l, "api:fixed-n", limit, 2)
	if r := limiterAllowN(t, l, "api:fixed-n", limit, 2); r.Allowed || r.Remaining != 1 {
		t.Fatalf("AllowN(2) with one unit left: %+v", r)
	}
	if r := limiterAllowN(t, l, "api:fixed-n", limit, 1); !r.Allowed || r.Remaining != 0 {
		t.Fatalf("the unit left: %+v", r)
	}
	// A Burst equal to the rate is accepted (and means nothing more).
	if r := limiterAllowN(t, l, "api:fixed-burst", Limit{Algorithm: FixedWindow, Rate: 3, Period: period, Burst: 3}, 3); !r.Allowed {
		t.Fatalf("AllowN(rate) with Burst == Rate: %+v", r)
	}
}

func TestLimiterFixedWindowStartsAfresh(t *testing.T) {
	t.Parallel()
	l := NewLimiter(redistest.Start(t).Client(t), LimiterOptions{})
	limit := Limit{Algorithm: FixedWindow, Rate: 2, Period: 200 * time.Millisecond}
	var last Result
	for i := 0; i < 10; i++ { // spend the window, however many windows that takes
		if last = limiterAllowN(t, l, "api:fresh", limit, 1); !last.Allowed {
			break
		}
	}
	if last.Allowed {
		t.Fatal("never denied")
	}
	r := limiterRetryHonestly(t, l, "api:fresh", limit, 1, last)
	if r.Remaining != 1 {
		t.Fatalf("first call of the next window: %+v, want Remaining 1", r)
	}
	p := limit.Period.Microseconds()
	if limiterMicros(r)/p <= limiterMicros(last)/p {
		t.Fatalf("admitted in the window that was spent")
	}
}

func TestLimiterSlidingWindow(t *testing.T) {
	t.Parallel()
	l := NewLimiter(redistest.Start(t).Client(t), LimiterOptions{})
	period := 366 * 24 * time.Hour
	p := period.Microseconds()
	limit := Limit{Algorithm: SlidingWindow, Rate: 4, Period: period}
	var rs []Result
	for i := 0; i < 4; i++ {
		r := limiterAllowN(t, l, "api:sliding", limit, 1)
		if !r.Allowed || r.Remaining != 3-i {
			t.Fatalf("call %d of 4: %+v", i+1, r)
		}
		rs = append(rs, r)
	}
	denied := limiterAllowN(t, l, "api:sliding", limit, 1)
	rs = append(rs, denied)
	w := limiterSameWindow(t, period, rs...)
	now := limiterMicros(denied)
	if denied.Allowed || denied.Remaining != 0 {
		t.Fatalf("5th call: %+v", denied)
	}
	// Next window, the 4 units weigh 4*(1-f): one unit fits once f >= 1/4.
	wantRetry := (w+1)*p + p/4 - now
	if got := limiterUS(denied.RetryAfter); got < wantRetry || got > wantRetry+1 {
		t.Errorf("RetryAfter %dµs, want %dµs (a quarter into the next window)", got, wantRetry)
	}
	// The estimate reaches zero at the end of the next window.
	if want := (w+2)*p - now; limiterUS(denied.ResetAfter) != want {
		t.Errorf("ResetAfter %v, want %dµs", denied.ResetAfter, want)
	}
}

func TestLimiterSlidingWindowWeighsThePreviousWindow(t *testing.T) {
	t.Parallel()
	l := NewLimiter(redistest.Start(t).Client(t), LimiterOptions{})
	const rate = 10
	limit := Limit{Algorithm: SlidingWindow, Rate: rate, Period: 400 * time.Millisecond}
	p := limit.Period.Microseconds()
	for attempt := 0; ; attempt++ {
		key := fmt.Sprintf("api:weigh%d", attempt)
		// Spend the whole rate in one window; retry if a slow machine
		// makes the calls straddle a boundary.
		first := limiterAllowN(t, l, key, limit, rate)
		if !first.Allowed {
			t.Fatalf("AllowN(rate) on a fresh key: %+v", first)
		}
		w := limiterMicros(first) / p
		time.Sleep(time.Duration((w+1)*p-limiterMicros(first)) * time.Microsecond)
		peek := limiterAllowN(t, l, key, limit, 0)
		if limiterMicros(peek)/p != w+1 {
			if attempt == 5 {
				t.Fatal("could not peek in the window right after the spent one")
			}
			continue
		}
		f := float64(limiterMicros(peek)-(w+1)*p) / float64(p)
		estimate := rate * (1 - f)
		if want := int(float64(rate) - estimate + 1e-9); peek.Remaining != want {
			t.Errorf("at f=%.4f of the next window Remaining %d, want floor(%d - %d*(1-f)) = %d", f, peek.Remaining, rate, rate, want)
		}
		return
	}
}

func TestLimiterPeekSpendsNothing(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	l := NewLimiter(rdb, LimiterOptions{})
	ctx := context.Background()
	for _, a := range limiterAlgorithms {
		limit := Limit{Algorithm: a, Rate: 3, Period: time.Hour}
		key := "peek:" + a.String()
		fresh := limiterAllowN(t, l, key, limit, 0)
		if !fresh.Allowed || fresh.Remaining != 3 || fresh.RetryAfter != 0 || fresh.ResetAfter != 0 {
			t.Errorf("%v: peek on a fresh key %+v, want allowed, Remaining 3, no waits", a, fresh)
		}
		if n, err := rdb.Exists(ctx, l.stateKey(key, a)).Result(); err != nil || n != 0 {
			t.Errorf("%v: a peek wrote its key (exists=%d, err=%v)", a, n, err)
		}
		limiterAllowN(t, l, key, limit, 1)
		for i := 0; i < 5; i++ {
			if r := limiterAllowN(t, l, key, limit, 0); !r.Allowed || r.Remaining != 2 {
				t.Fatalf("%v: peek %d after one unit: %+v, want Remaining 2", a, i, r)
			}
		}
		limiterAllowN(t, l, key, limit, 2)
		spent := limiterAllowN(t, l, key, limit, 0)
		if spent.Allowed || spent.Remaining != 0 || spent.RetryAfter <= 0 {
			t.Errorf("%v: peek on a spent key %+v, want denied with a RetryAfter", a, spent)
		}
		denied := limiterAllowN(t, l, key, limit, 1)
		if denied.Allowed || denied.RetryAfter > spent.RetryAfter {
			t.Errorf("%v: Allow after the peek %+v; the peek said %v", a, denied, spent.RetryAfter)
		}
	}
	st := l.Stats().ByName["peek"]
	if st.Allowed != 6 || st.Denied != 3 {
		t.Errorf("stats %+v, want 6 allowed and 3 denied (peeks are not decisions)", st)
	}
}

// limiterRetryHonestly retries after RetryAfter and fails the test if a
// retry made at or after the promised server time is denied. A retry the
// server clock puts before the promise (the client's sleep is on a
// different clock) is repeated.
func limiterRetryHonestly(t *testing.T, l *Limiter, key string, limit Limit, n int, denied Result) Result {
	t.Helper()
	promised := limiterMicros(denied) + limiterUS(denied.RetryAfter)
	time.Sleep(denied.RetryAfter)
	for i := 0; i < 100; i++ {
		r := limiterAllowN(t, l, key, limit, n)
		if r.Allowed {
			return r
		}
		if now := limiterMicros(r); now >= promised {
			t.Fatalf("%v: denied at server time %d, %dµs after RetryAfter said it would be admitted (%+v)",
				limit.Algorithm, now, now-promised, r)
		} else {
			time.Sleep(time.Duration(promised-now) * time.Microsecond)
		}
	}
	t.Fatal("server clock never reached the promised time")
	return Result{}
}

func TestLimiterRetryAfterIsHonest(t *testing.T) {
	t.Parallel()
	l := NewLimiter(redistest.Start(t).Client(t), LimiterOptions{})
	limits := []Limit{
		{Algorithm: GCRA, Rate: 5, Period: 300 * time.Millisecond, Burst: 3},
		{Algorithm: FixedWindow, Rate: 3, Period: 250 * time.Millisecond},
		{Algorithm: SlidingWindow, Rate: 3, Period: 250 * time.Millisecond},
	}
	for _, limit := range limits {
		for _, n := range []int{1, 2} {
			key := fmt.Sprintf("honest:%v:%d", limit.Algorithm, n)
			for round := 0; round < 3; round++ {
				var r Result
				for i := 0; i < 20; i++ {
					if r = limiterAllowN(t, l, key, limit, n); !r.Allowed {
						break
					}
				}
				if r.Allowed {
					t.Fatalf("%v: never denied", limit.Algorithm)
				}
				if r.RetryAfter <= 0 {
					t.Fatalf("%v: denied with RetryAfter %v", limit.Algorithm, r.RetryAfter)
				}
				limiterRetryHonestly(t, l, key, limit, n, r)
			}
		}
	}
}

func TestLimiterReset(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	l := NewLimiter(rdb, LimiterOptions{})
	ctx := context.Background()
	for _, key := range []string{"api:reset", "api:keep"} {
		for _, a := range limiterAlgorithms {
			limit := Limit{Algorithm: a, Rate: 2, Period: time.Hour}
			limiterAllowN(t, l, key, limit, 2)
			if r := limiterAllowN(t, l, key, limit, 1); r.Allowed {
				t.Fatalf("%v: not spent", a)
			}
		}
	}
	if err := l.Reset(ctx, "api:reset"); err != nil {
		t.Fatal(err)
	}
	for _, a := range limiterAlgorithms {
		limit := Limit{Algorithm: a, Rate: 2, Period: time.Hour}
		if r := limiterAllowN(t, l, "api:reset", limit, 1); !r.Allowed || r.Remaining != 1 {
			t.Errorf("%v after Reset: %+v, want a full quota", a, r)
		}
		if r := limiterAllowN(t, l, "api:keep", limit, 1); r.Allowed {
			t.Errorf("%v: Reset of another key freed this one", a)
		}
	}
	if err := l.Reset(ctx, "never:used"); err != nil {
		t.Errorf("Reset of a key without state: %v", err)
	}
}

func TestLimiterKeyLayoutAndTTL(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	for _, prefix := range []string{"", "rl"} {
		l := NewLimiter(rdb, LimiterOptions{Prefix: prefix})
		want := prefix
		if want == "" {
			want = "ratelimit"
		}
		for _, a := range limiterAlgorithms {
			limiterAllowN(t, l, "user:7", Limit{Algorithm: a, Rate: 5, Period: time.Minute}, 1)
			key := want + ":{user:7}:" + a.String()
			ttl, err := rdb.PTTL(ctx, key).Result()
			if err != nil || ttl <= 0 {
				t.Errorf("prefix %q %v: key %s has PTTL %v (%v), want a TTL", prefix, a, key, ttl, err)
			}
			// GCRA lives until the bucket is full again (12s for one unit
			// of 5/min), the windows until their state no longer matters.
			maxTTL := map[Algorithm]time.Duration{GCRA: 12 * time.Second, FixedWindow: time.Minute, SlidingWindow: 2 * time.Minute}[a]
			if ttl > maxTTL+time.Second {
				t.Errorf("%v: TTL %v, longer than the %v the state matters", a, ttl, maxTTL)
			}
		}
	}
	limiterAssertAllKeysHaveTTL(t, rdb)
}

// limiterAssertAllKeysHaveTTL SCANs the whole (test) server and fails on
// any key without a TTL. It returns how many keys it saw.
func limiterAssertAllKeysHaveTTL(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	ctx := context.Background()
	persistent, n := limiterKeysWithoutTTL(ctx, t, rdb)
	if len(persistent) > 0 {
		t.Errorf("%d of %d keys have no TTL, e.g. %q", len(persistent), n, persistent[0])
	}
	return n
}

func limiterKeysWithoutTTL(ctx context.Context, t *testing.T, rdb *redis.Client) (persistent []string, seen int) {
	t.Helper()
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		seen++
		ttl, err := rdb.PTTL(ctx, iter.Val()).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl == -1 { // -2 (expired since SCAN) is fine
			persistent = append(persistent, iter.Val())
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return persistent, seen
}
