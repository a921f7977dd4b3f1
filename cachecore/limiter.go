package cachecore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Algorithm selects how a [Limit] counts requests.
//
// The zero value is GCRA, so a Limit literal without an Algorithm and the
// values built by [PerSecond], [PerMinute] and [PerHour] use GCRA.
type Algorithm int

const (
	// GCRA (generic cell rate algorithm) is a token bucket that refills
	// continuously: Rate units per Period, holding at most Burst units. A
	// fresh key admits Burst units at once, then one unit every
	// Period/Rate. In any interval of length t it admits at most
	// Burst + Rate*t/Period units.
	GCRA Algorithm = iota

	// FixedWindow counts units in windows of length Period aligned to the
	// server's clock (multiples of Period since 2020-01-01 00:00 UTC) and
	// admits at most Rate units per window. Exact per window, but a client
	// can spend a window's quota at its end and the next window's at its
	// start: up to 2*Rate units within moments across a boundary. Its
	// script does the least work.
	FixedWindow

	// SlidingWindow is the weighted two-window counter: a request at
	// fraction f of the current window sees
	//
	//	estimate = previous*(1-f) + current
	//
	// and is admitted when estimate+n <= Rate. It never admits more than
	// Rate units in one aligned window (like FixedWindow), and in any
	// interval of length t <= Period it admits at most Rate*(1+t/Period)
	// units, so always fewer than 2*Rate in any Period and close to Rate
	// over short intervals (where FixedWindow can admit 2*Rate). The
	// estimate is exact when the previous window's requests were spread
	// evenly over it; the bound is reached only when they were bunched at
	// its end.
	SlidingWindow
)

// String returns the algorithm's name as used in key names.
func (a Algorithm) String() string {
	switch a {
	case GCRA:
		return "gcra"
	case FixedWindow:
		return "fixed"
	case SlidingWindow:
		return "sliding"
	}
	return fmt.Sprintf("Algorithm(%d)", int(a))
}

// Limit describes how many units a key may spend: Rate units per Period.
//
// Burst means, for GCRA, the most units the bucket holds (the largest n
// that can ever be admitted, and how many a fresh key may spend at once);
// 0 means Rate. FixedWindow and SlidingWindow have no separate burst: a
// whole window's quota of Rate units can be spent at once, so Burst must be
// 0 or equal to Rate (anything else is [ErrInvalidLimit], rather than a
// setting that silently has no effect).
//
// Rate and Burst are at most 2^40; Period is between 1ms and 366 days and
// is used with microsecond precision; for GCRA, Burst*Period/Rate is at
// most 10 years.
type Limit struct {
	Algorithm Algorithm
	Rate      int
	Period    time.Duration
	Burst     int
}

// PerSecond returns a GCRA limit of rate units per second with a burst of
// rate.
func PerSecond(rate int) Limit { return Limit{Rate: rate, Period: time.Second, Burst: rate} }

// PerMinute returns a GCRA limit of rate units per minute with a burst of
// rate.
func PerMinute(rate int) Limit { return Limit{Rate: rate, Period: time.Minute, Burst: rate} }

// PerHour returns a GCRA limit of rate units per hour with a burst of rate.
func PerHour(rate int) Limit { return Limit{Rate: rate, Period: time.Hour, Burst: rate} }

// Result is a limiter's decision.
//
// Durations are whole microseconds, rounded up.
type Result struct {
	// Allowed reports whether the n units were admitted (and spent). For a
	// peek (n == 0) it reports whether one unit would be admitted now.
	Allowed bool
	// Remaining is how many units could be admitted right after this call:
	// for GCRA the units in the bucket, for FixedWindow what is left of the
	// window's Rate, for SlidingWindow Rate minus the weighted estimate,
	// rounded down. A denial spends nothing, so after a denial it is what
	// was there before.
	Remaining int
	// RetryAfter is 0 when Allowed; otherwise how long to wait before the
	// same request is admitted, provided nobody else spends units in the
	// meantime (for a peek: before one unit is admitted).
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to its full quota
	// (Remaining == Burst, or Rate for the window algorithms) if nothing
	// more is spent: for GCRA until the bucket is full, for FixedWindow
	// until the current window ends, for SlidingWindow until the weighted
	// estimate reaches zero (up to the end of the next window). 0 means the
	// quota is already full.
	ResetAfter time.Duration

	// serverTime is the server clock (TIME) the decision was made at; zero
	// when Redis was not asked. Tests use it to check exactness.
	serverTime time.Time
}

// Errors returned by the limiter for bad input (and ErrInvalidKey for an
// empty key). They are returned without
// asking Redis, with a zero Result (Allowed is false whatever FailOpen
// says: bad input is a bug to fix, not an outage to ride out).
var (
	// ErrInvalidLimit: Rate or Period not positive or out of range, a
	// negative Burst, a Burst other than 0 or Rate for a window algorithm,
	// or an unknown Algorithm.
	ErrInvalidLimit = errors.New("cachecore: invalid rate limit")
	// ErrInvalidN: n < 0.
	ErrInvalidN = errors.New("cachecore: rate limit n must not be negative")
	// ErrExceedsBurst: n is larger than the limit's Burst (Rate for the
	// window algorithms), so no amount of waiting would admit it.
	ErrExceedsBurst = errors.New("cachecore: rate limit n exceeds the burst")
)

const (
	limiterDefaultPrefix   = "ratelimit"
	limiterDefaultMaxNames = 100
	limiterDefaultInFlight = 4
	limiterMaxCount        = 1 << 40
	limiterMinPeriod       = time.Millisecond
	limiterMaxPeriod       = 366 * 24 * time.Hour
	limiterMaxTolerance    = 10 * 365 * 24 * time.Hour
)

// LimiterOptions configures a [Limiter]. The zero value is ready to use.
type LimiterOptions struct {
	// Prefix starts every key the limiter writes. A key k limited with
	// algorithm a is stored at "<Prefix>:{<k>}:<a>", for example
	// "ratelimit:{login:10.0.0.1}:gcra". The braces are a Redis Cluster
	// hash tag, so all keys of one limited key share a slot. "" means
	// "ratelimit".
	Prefix string
	// FailOpen decides the answer when Redis cannot be asked (unreachable,
	// timed out, or an unexpected reply): true admits the request, false
	// (the default) denies it. Either way the error is returned too, so the
	// caller can log it; a decision is never made silently without Redis.
	FailOpen bool
	// MaxNames bounds how many limiter names [Limiter.Stats] tracks; the
	// decisions of further names are counted under [LimiterOtherName].
	// 0 means 100.
	MaxNames int
	// MaxInFlight bounds the round trips to Redis the limiter has
	// outstanding at once. Calls made while that many are out wait and are
	// sent together, as one pipeline, when one returns: under concurrency
	// that turns many round trips into few, and below the bound calls go
	// straight away, unchanged. A waiting call still returns at its ctx's
	// deadline, but the pipeline it joins does not carry its ctx's values
	// (tracing spans). 0 means 4; a negative value turns batching off, so
	// every call is its own EVALSHA.
	MaxInFlight int
}

// Limiter makes rate-limit decisions with Lua scripts on Redis, so any
// number of processes share one exact limit per key. It is safe for
// concurrent use.
//
// Each decision is one EVALSHA (EVAL the first time a server sees the
// script, or after SCRIPT FLUSH); under concurrency the decisions waiting
// for a round trip share one pipeline (see LimiterOptions.MaxInFlight).
// The script reads the server's clock (TIME), never the client's, so
// clients with skewed clocks agree. Every key it writes gets a TTL in the
// same atomic script, so no key is left without one, whatever crashes.
// Scripts need Redis 5.0 or later: a script that calls TIME and then
// writes relies on effects replication, the default since 5.0. (Tested
// with Redis 7.0.)
//
// A call is bounded by its ctx. go-redis only bounds socket reads and
// writes by a ctx deadline when the client has ContextTimeoutEnabled set;
// without it the client's ReadTimeout/WriteTimeout apply.
type Limiter struct {
	rdb      redis.UniversalClient
	prefix   string
	failOpen bool
	batch    limiterBatcher
	stats    limiterStats
}

// NewLimiter returns a Limiter that keeps its state in rdb. rdb may be a
// single server, a Sentinel failover client or a Cluster client.
func NewLimiter(rdb redis.UniversalClient, opts LimiterOptions) *Limiter {
	if opts.Prefix == "" {
		opts.Prefix = limiterDefaultPrefix
	}
	if opts.MaxNames <= 0 {
		opts.MaxNames = limiterDefaultMaxNames
	}
	if opts.MaxInFlight == 0 {
		opts.MaxInFlight = limiterDefaultInFlight
	}
	l := &Limiter{rdb: rdb, prefix: opts.Prefix, failOpen: opts.FailOpen}
	l.batch.init(rdb, opts.MaxInFlight)
	l.stats.init(opts.MaxNames)
	return l
}

// Allow asks to spend one unit of key's limit. It is AllowN with n == 1.
func (l *Limiter) Allow(ctx context.Context, key string, limit Limit) (Result, error) {
	return l.AllowN(ctx, key, limit, 1)
}

// AllowN asks to spend n units of key's limit at once: either all n are
// admitted or none is spent.
//
// n == 0 is a peek: nothing is spent or written, and the Result describes
// the key as if one unit were asked for (Allowed reports whether it would
// be admitted now, RetryAfter how long until it would). Peeks are not
// counted in [Limiter.Stats]. n larger than the burst is
// [ErrExceedsBurst]: it could never be admitted, so there is no honest
// RetryAfter to give.
//
// When Redis cannot be asked the Result's Allowed follows
// LimiterOptions.FailOpen, its other fields are zero, and the error is
// returned as well.
func (l *Limiter) AllowN(ctx context.Context, key string, limit Limit, n int) (Result, error) {
	burst, err := limit.check(key, n)
	if err != nil {
		return Result{}, err
	}
	res, err := l.batch.do(newLimiterCall(ctx, l.stateKey(key, limit.Algorithm), limit, burst, n))
	if err != nil {
		if n > 0 {
			l.stats.record(key, l.failOpen, true)
		}
		return Result{Allowed: l.failOpen}, fmt.Errorf("cachecore: rate limit %q: %w", key, err)
	}
	if n > 0 {
		l.stats.record(key, res.Allowed, false)
	}
	return res, nil
}

// Reset forgets everything spent on key, for all algorithms, so its next
// request sees a full quota.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if key == "" {
		return ErrInvalidKey
	}
	// One DEL per algorithm in a pipeline rather than one DEL of three
	// keys: a key starting with '}' makes the hash tag empty, and a
	// multi-key DEL would then span slots on a cluster.
	_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, a := range []Algorithm{GCRA, FixedWindow, SlidingWindow} {
			p.Del(ctx, l.stateKey(key, a))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cachecore: rate limit reset %q: %w", key, err)
	}
	return nil
}

// stateKey is the Redis key holding key's state for one algorithm.
func (l *Limiter) stateKey(key string, a Algorithm) string {
	var b strings.Builder
	b.Grow(len(l.prefix) + len(key) + 12)
	b.WriteString(l.prefix)
	b.WriteString(":{")
	b.WriteString(key)
	b.WriteString("}:")
	b.WriteString(a.String())
	return b.String()
}

// check validates a request and returns the effective burst.
func (limit Limit) check(key string, n int) (int, error) {
	if key == "" {
		return 0, ErrInvalidKey
	}
	if limit.Rate <= 0 || limit.Rate > limiterMaxCount {
		return 0, fmt.Errorf("%w: rate %d is not in [1, 2^40]", ErrInvalidLimit, limit.Rate)
	}
	if limit.Period < limiterMinPeriod || limit.Period > limiterMaxPeriod {
		return 0, fmt.Errorf("%w: period %v is not in [%v, %v]", ErrInvalidLimit, limit.Period, limiterMinPeriod, limiterMaxPeriod)
	}
	if limit.Burst < 0 || limit.Burst > limiterMaxCount {
		return 0, fmt.Errorf("%w: burst %d is not in [0, 2^40]", ErrInvalidLimit, limit.Burst)
	}
	burst := limit.Burst
	switch limit.Algorithm {
	case GCRA:
		if burst == 0 {
			burst = limit.Rate
		}
		tolerance := float64(burst) / float64(limit.Rate) * float64(limit.Period)
		if tolerance > float64(limiterMaxTolerance) || math.IsNaN(tolerance) {
			return 0, fmt.Errorf("%w: burst %d at %d per %v holds more than %v", ErrInvalidLimit, burst, limit.Rate, limit.Period, limiterMaxTolerance)
		}
	case FixedWindow, SlidingWindow:
		if burst != 0 && burst != limit.Rate {
			return 0, fmt.Errorf("%w: %v has no separate burst (got %d, want 0 or the rate %d)", ErrInvalidLimit, limit.Algorithm, burst, limit.Rate)
		}
		burst = limit.Rate
	default:
		return 0, fmt.Errorf("%w: unknown algorithm %d", ErrInvalidLimit, int(limit.Algorithm))
	}
	if n < 0 {
		return 0, fmt.Errorf("%w (got %d)", ErrInvalidN, n)
	}
	if n > burst {
		return 0, fmt.Errorf("%w (n %d > burst %d)", ErrExceedsBurst, n, burst)
	}
	return burst, nil
}
