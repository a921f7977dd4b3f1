package cachecore

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
)

// The model test drives each algorithm with random requests and random
// pauses and checks every Result against an exact model of what the
// algorithm promises, evaluated in rational arithmetic at the server time
// the script ran at. It is independent of the scripts' floating point and
// catches any wrong decision, Remaining, RetryAfter or ResetAfter.

type limiterIdealResult struct {
	allowed      bool
	remaining    int64
	retry, reset int64 // µs
}

type limiterIdeal interface {
	decide(now, n int64) limiterIdealResult
}

func limiterRat(x int64) *big.Rat { return new(big.Rat).SetInt64(x) }

// limiterFloor and limiterCeil round a rational to an integer.
func limiterFloor(r *big.Rat) int64 {
	q := new(big.Int).Div(r.Num(), r.Denom()) // Euclidean: floor for a positive denominator
	return q.Int64()
}

func limiterCeil(r *big.Rat) int64 {
	return -limiterFloor(new(big.Rat).Neg(r))
}

// limiterIdealGCRA is the virtual scheduling form of GCRA: the theoretical
// arrival time tat advances by n*T per admitted request.
type limiterIdealGCRA struct {
	interval *big.Rat // T = period / rate, µs
	burst    int64
	tat      *big.Rat
}

func (m *limiterIdealGCRA) decide(now, n int64) limiterIdealResult {
	nowR := limiterRat(now)
	tat := nowR
	if m.tat != nil && m.tat.Cmp(nowR) > 0 {
		tat = m.tat
	}
	want := max(n, 1)
	owedTime := new(big.Rat).Sub(tat, nowR)
	owed := new(big.Rat).Quo(owedTime, m.interval)
	need := new(big.Rat).Add(owed, limiterRat(want))
	if need.Cmp(limiterRat(m.burst)) > 0 {
		// admitted once tat - at <= (burst - want) * T
		slack := new(big.Rat).Mul(limiterRat(m.burst-want), m.interval)
		at := new(big.Rat).Sub(owedTime, slack)
		return limiterIdealResult{
			remaining: limiterFloor(new(big.Rat).Sub(limiterRat(m.burst), owed)),
			retry:     limiterCeil(at),
			reset:     limiterCeil(owedTime),
		}
	}
	if n > 0 {
		tat = new(big.Rat).Add(tat, new(big.Rat).Mul(limiterRat(n), m.interval))
		m.tat = tat
	}
	owedTime = new(big.Rat).Sub(tat, nowR)
	owed = new(big.Rat).Quo(owedTime, m.interval)
	return limiterIdealResult{
		allowed:   true,
		remaining: limiterFloor(new(big.Rat).Sub(limiterRat(m.burst), owed)),
		reset:     limiterCeil(owedTime),
	}
}

type limiterIdealFixed struct {
	period, rate  int64
	window, count int64
}

func (m *limiterIdealFixed) decide(now, n int64) limiterIdealResult {
	w := now / m.period
	if w != m.window {
		m.window, m.count = w, 0
	}
	left := (w+1)*m.period - now
	want := max(n, 1)
	if m.count+want > m.rate {
		return limiterIdealResult{remaining: m.rate - m.count, retry: left, reset: left}
	}
	m.count += n
	r := limiterIdealResult{allowed: true, remaining: m.rate - m.count}
	if m.count > 0 {
		r.reset = left
	}
	return r
}

type limiterIdealSliding struct {
	period, rate int64
	window       int64
	cur, prev    int64
	started      bool
}

func (m *limiterIdealSliding) decide(now, n int64) limiterIdealResult {
	w := now / m.period
	switch {
	case !m.started:
		m.window, m.started = w, true
	case w == m.window+1:
		m.window, m.prev, m.cur = w, m.cur, 0
	case w != m.window:
		m.window, m.prev, m.cur = w, 0, 0
	}
	start := w * m.period
	p := limiterRat(m.period)
	// estimate = prev*(1 - (now-start)/period) + cur
	frac := new(big.Rat).Quo(limiterRat(now-start), p)
	rest := new(big.Rat).Sub(big.NewRat(1, 1), frac)
	est := new(big.Rat).Add(new(big.Rat).Mul(limiterRat(m.prev), rest), limiterRat(m.cur))
	want := max(n, 1)
	resetAfter := func() int64 {
		if m.cur > 0 {
			return start + 2*m.period - now
		}
		if m.prev > 0 {
			return start + m.period - now
		}
		return 0
	}
	if new(big.Rat).Add(est, limiterRat(want)).Cmp(limiterRat(m.rate)) > 0 {
		var at *big.Rat
		if m.cur+want <= m.rate {
			// prev*(1-f) <= rate-cur-want  <=>  f >= 1 - (rate-cur-want)/prev
			f := new(big.Rat).Sub(big.NewRat(1, 1), big.NewRat(m.rate-m.cur-want, m.prev))
			at = new(big.Rat).Add(limiterRat(start), new(big.Rat).Mul(f, p))
		} else {
			f := new(big.Rat).Sub(big.NewRat(1, 1), big.NewRat(m.rate-want, m.cur))
			at = new(big.Rat).Add(limiterRat(start+m.period), new(big.Rat).Mul(f, p))
		}
		return limiterIdealResult{
			remaining: max(limiterFloor(new(big.Rat).Sub(limiterRat(m.rate), est)), 0),
			retry:     limiterCeil(at) - now,
			reset:     resetAfter(),
		}
	}
	m.cur += n
	est.Add(est, limiterRat(n))
	return limiterIdealResult{
		allowed:   true,
		remaining: limiterFloor(new(big.Rat).Sub(limiterRat(m.rate), est)),
		reset:     resetAfter(),
	}
}

func TestLimiterMatchesExactModel(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	cases := []struct {
		limit Limit
		model func() limiterIdeal
	}{
		{ // T = 16666.67µs: not a whole number of microseconds
			Limit{Algorithm: GCRA, Rate: 3, Period: 50 * time.Millisecond, Burst: 5},
			func() limiterIdeal { return &limiterIdealGCRA{interval: big.NewRat(50000, 3), burst: 5} },
		},
		{
			Limit{Algorithm: GCRA, Rate: 7, Period: 70 * time.Millisecond},
			func() limiterIdeal { return &limiterIdealGCRA{interval: big.NewRat(70000, 7), burst: 7} },
		},
		{
			Limit{Algorithm: FixedWindow, Rate: 5, Period: 60 * time.Millisecond},
			func() limiterIdeal { return &limiterIdealFixed{period: 60000, rate: 5, window: -1} },
		},
		{
			Limit{Algorithm: SlidingWindow, Rate: 7, Period: 90 * time.Millisecond},
			func() limiterIdeal { return &limiterIdealSliding{period: 90000, rate: 7} },
		},
	}
	for _, c := range cases {
		t.Run(c.limit.Algorithm.String(), func(t *testing.T) {
			t.Parallel()
			// Batching on and off: results must not depend on the path.
			for _, inFlight := range []int{-1, 0} {
				l := NewLimiter(rdb, LimiterOptions{MaxInFlight: inFlight})
				burst, err := c.limit.check("k", 0)
				if err != nil {
					t.Fatal(err)
				}
				key := "model:" + time.Now().Format("150405.000000")
				model := c.model()
				rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
				p := c.limit.Period
				for i := 0; i < 120; i++ {
					n := 1
					switch x := rng.IntN(10); {
					case x == 0:
						n = 0
					case x >= 7:
						n = 1 + rng.IntN(burst)
					}
					got := limiterAllowN(t, l, key, c.limit, n)
					now := limiterMicros(got)
					want := model.decide(now, int64(n))
					retry, reset := limiterUS(got.RetryAfter), limiterUS(got.ResetAfter)
					if got.Allowed != want.allowed || int64(got.Remaining) != want.remaining ||
						retry < want.retry || retry > want.retry+1 || reset < want.reset-1 || reset > want.reset+1 {
						t.Fatalf("call %d AllowN(%d) at %dµs: got %+v, want %+v", i, n, now, got, want)
					}
					if rng.IntN(3) == 0 {
						time.Sleep(time.Duration(rng.Int64N(int64(p) / 3)))
					}
				}
			}
		})
	}
}
