package cachecore

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"
)

// rateLimiter is what the RateLimit middleware needs of a Limiter.
type rateLimiter interface {
	AllowN(ctx context.Context, key string, limit Limit, n int) (Result, error)
}

// rateLimitLogInterval is the minimum time between two logged limiter
// errors.
const rateLimitLogInterval = 10 * time.Second

// rateLimitWith is the body of RateLimit: it takes one token per request
// from the bucket keyOf(r) names, and answers 429 Too Many Requests when
// the limiter denies it.
//
// Every response carries RateLimit-Limit (the limit's Burst, or its Rate
// when Burst is 0: the most requests admitted at once), RateLimit-Remaining
// and RateLimit-Reset (seconds until the bucket is full again, rounded
// up). A 429 also carries Retry-After: RetryAfter in whole seconds, rounded
// up so that a client waiting that long is admitted, and at least 1.
//
// When the limiter returns an error (Redis unreachable, say), the request
// follows the Result it returned with it: the limiter decides whether to
// fail open or closed. The error is logged at most once every 10s through
// slog.Default.
//
// keyOf names the bucket, for example "api:"+apiKey. A nil keyOf, or one
// returning "", limits by client address under the key "ip:<address>", so
// leaving out the credential keyOf reads never escapes the limit. The
// address is the connection's (r.RemoteAddr): behind a proxy every
// request comes from the proxy, so give a keyOf that reads the client
// address the proxy forwards, from proxies you trust.
func rateLimitWith(rl rateLimiter, limit Limit, keyOf func(*http.Request) string) func(http.Handler) http.Handler {
	errs := &errorLog{logger: slog.Default(), every: rateLimitLogInterval, now: time.Now}
	quota := strconv.Itoa(limitQuota(limit))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := ""
			if keyOf != nil {
				key = keyOf(r)
			}
			if key == "" {
				key = "ip:" + remoteIP(r)
			}
			res, err := rl.AllowN(r.Context(), key, limit, 1)
			if err != nil {
				errs.log("ratelimit", key, err)
			}
			h := w.Header()
			h.Set("RateLimit-Limit", quota)
			h.Set("RateLimit-Remaining", strconv.Itoa(max(0, res.Remaining)))
			h.Set("RateLimit-Reset", strconv.FormatInt(ceilSeconds(res.ResetAfter), 10))
			if !res.Allowed {
				h.Set("Retry-After", strconv.FormatInt(max(1, ceilSeconds(res.RetryAfter)), 10))
				http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// limitQuota is the number of requests a limit admits at once.
func limitQuota(l Limit) int {
	if l.Burst > 0 {
		return l.Burst
	}
	return l.Rate
}

// ceilSeconds rounds d up to whole seconds; 0 for d <= 0.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	s := int64(d / time.Second)
	if d%time.Second != 0 {
		s++
	}
	return s
}

// remoteIP returns the host part of r.RemoteAddr, or all of it when it has
// no port, or "unknown" when it is empty.
func remoteIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	if r.RemoteAddr == "" {
		return "unknown"
	}
	return r.RemoteAddr
}

// RateLimit returns middleware that admits each request through l under
// limit, keyed by keyOf (nil, or a key of "", limits per client address).
// A denied request gets 429 Too Many Requests with Retry-After; every
// response carries RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset. When Redis fails, the limiter's FailOpen decides.
func RateLimit(l *Limiter, limit Limit, keyOf func(*http.Request) string) func(http.Handler) http.Handler {
	if l == nil {
		panic("cachecore: RateLimit needs a non-nil *Limiter")
	}
	return rateLimitWith(l, limit, keyOf)
}
