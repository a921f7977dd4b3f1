package cachecore

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
)

// TestRateLimitWithRealLimiter wires the exported middleware to a real
// Limiter on a real server: the third request in a second is refused with
// an honest Retry-After, and a request after waiting it is admitted.
func TestRateLimitWithRealLimiter(t *testing.T) {
	srv := redistest.Start(t)
	l := NewLimiter(srv.Client(t), LimiterOptions{})
	limit := Limit{Algorithm: FixedWindow, Rate: 2, Period: time.Second}
	h := RateLimit(l, limit, func(r *http.Request) string { return "api:" + r.Header.Get("X-Key") })(
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	get := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Key", "k")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	// Align to the start of a window so three requests land in one.
	w := get()
	for w.Header().Get("RateLimit-Remaining") != "1" {
		time.Sleep(50 * time.Millisecond)
		w = get()
	}
	if w.Code != 200 || w.Header().Get("RateLimit-Limit") != "2" {
		t.Fatalf("first request: %d %v", w.Code, w.Header())
	}
	_ = get()
	w = get()
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("third request in a window of 2: %d", w.Code)
	}
	retry, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || retry < 1 || retry > 1 {
		t.Fatalf("Retry-After %q", w.Header().Get("Retry-After"))
	}
	time.Sleep(time.Duration(retry) * time.Second)
	if w := get(); w.Code != 200 {
		t.Fatalf("request after Retry-After: %d", w.Code)
	}
	if st := l.Stats().ByName["api"]; st.Denied < 1 || st.Allowed < 3 {
		t.Fatalf("limiter stats %+v", st)
	}
}

func TestRateLimitNilLimiterPanicsAtSetup(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a nil limiter")
		}
	}()
	RateLimit(nil, PerSecond(1), nil)
}
