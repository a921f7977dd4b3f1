package cachecore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLimiter answers with a scripted Result and records what it was asked.
type fakeLimiter struct {
	mu     sync.Mutex
	result Result
	err    error
	keys   []string
	limits []Limit
	ns     []int
}

func (f *fakeLimiter) AllowN(_ context.Context, key string, limit Limit, n int) (Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, key)
	f.limits = append(f.limits, limit)
	f.ns = append(f.ns, n)
	return f.result, f.err
}

func serveRateLimited(t *testing.T, rl rateLimiter, limit Limit, keyOf func(*http.Request) string, r *http.Request) (*httptest.ResponseRecorder, bool) {
	t.Helper()
	reached := false
	h := rateLimitWith(rl, limit, keyOf)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		_, _ = w.Write([]byte("ok"))
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w, reached
}

func TestRateLimitAllowedSetsHeaders(t *testing.T) {
	fake := &fakeLimiter{result: Result{Allowed: true, Remaining: 7, ResetAfter: 1500 * time.Millisecond}}
	limit := Limit{Rate: 10, Period: time.Second, Burst: 20}
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("X-Api-Key", "k1")
	w, reached := serveRateLimited(t, fake, limit, func(r *http.Request) string { return "api:" + r.Header.Get("X-Api-Key") }, r)
	if !reached || w.Code != 200 || w.Body.String() != "ok" {
		t.Fatalf("allowed request: reached=%v code=%d", reached, w.Code)
	}
	want := map[string]string{"RateLimit-Limit": "20", "RateLimit-Remaining": "7", "RateLimit-Reset": "2", "Retry-After": ""}
	for k, v := range want {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if fake.keys[0] != "api:k1" || fake.ns[0] != 1 || fake.limits[0] != limit {
		t.Fatalf("limiter asked %v %v %v", fake.keys, fake.ns, fake.limits)
	}
}

func TestRateLimitDeniedAnswers429(t *testing.T) {
	cases := []struct {
		retryAfter time.Duration
		want       string
	}{
		{2 * time.Second, "2"},
		{2001 * time.Millisecond, "3"}, // rounded up: waiting 2s would be denied again
		{10 * time.Millisecond, "1"},
		{0, "1"}, // never "0": a client would retry at once
		{-time.Second, "1"},
	}
	for _, tc := range cases {
		t.Run(tc.retryAfter.String(), func(t *testing.T) {
			fake := &fakeLimiter{result: Result{Allowed: false, Remaining: -3, RetryAfter: tc.retryAfter, ResetAfter: 59 * time.Second}}
			w, reached := serveRateLimited(t, fake, Limit{Rate: 100, Period: time.Minute}, nil, httptest.NewRequest("GET", "/", nil))
			if reached || w.Code != http.StatusTooManyRequests {
				t.Fatalf("denied request: reached=%v code=%d", reached, w.Code)
			}
			h := w.Header()
			if h.Get("Retry-After") != tc.want || h.Get("RateLimit-Limit") != "100" ||
				h.Get("RateLimit-Remaining") != "0" || h.Get("RateLimit-Reset") != "59" {
				t.Fatalf("headers %v", h)
			}
		})
	}
}

func TestRateLimitFollowsResultOnError(t *testing.T) {
	for _, allowed := range []bool{true, false} {
		t.Run(fmt.Sprint("allowed=", allowed), func(t *testing.T) {
			fake := &fakeLimiter{result: Result{Allowed: allowed}, err: errors.New("redis down")}
			w, reached := serveRateLimited(t, fake, Limit{Rate: 1, Period: time.Second}, nil, httptest.NewRequest("GET", "/", nil))
			if reached != allowed {
				t.Fatalf("limiter said allowed=%v with an error; handler reached=%v", allowed, reached)
			}
			if want := map[bool]int{true: 200, false: 429}[allowed]; w.Code != want {
				t.Fatalf("code %d, want %d", w.Code, want)
			}
		})
	}
}

func TestRateLimitDefaultsToRemoteIP(t *testing.T) {
	fake := &fakeLimiter{result: Result{Allowed: true}}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "203.0.113.9:4711"
	serveRateLimited(t, fake, Limit{Rate: 1, Period: time.Second}, nil, r)
	serveRateLimited(t, fake, Limit{Rate: 1, Period: time.Second}, func(*http.Request) string { return "" }, r)
	r.RemoteAddr = "[2001:db8::1]:443"
	serveRateLimited(t, fake, Limit{Rate: 1, Period: time.Second}, nil, r)
	r.RemoteAddr = ""
	serveRateLimited(t, fake, Limit{Rate: 1, Period: time.Second}, nil, r)
	want := []string{"ip:203.0.113.9", "ip:203.0.113.9", "ip:2001:db8::1", "ip:unknown"}
	if strings.Join(fake.keys, " ") != strings.Join(want, " ") {
		t.Fatalf("keys %q, want %q", fake.keys, want)
	}
}

func TestCeilSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int64{
		0: 0, -1: 0, 1: 1, time.Second: 1, time.Second + 1: 2, math.MaxInt64: math.MaxInt64/int64(time.Second) + 1,
	} {
		if got := ceilSeconds(d); got != want {
			t.Errorf("ceilSeconds(%v) = %d, want %d", d, got, want)
		}
	}
}
