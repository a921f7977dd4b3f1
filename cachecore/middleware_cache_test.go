package cachecore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cachedServer is an httptest server whose handler sits behind
// ResponseCache, with counters on both sides of the middleware.
type cachedServer struct {
	*httptest.Server
	arrivals atomic.Int64 // requests that reached the middleware
	calls    atomic.Int64 // handler runs
}

func newCachedServer(t *testing.T, c *Cache, opts ResponseCacheOptions, handler http.HandlerFunc) *cachedServer {
	t.Helper()
	cs := &cachedServer{}
	inner := ResponseCache(c, opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.calls.Add(1)
		handler(w, r)
	}))
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.arrivals.Add(1)
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(cs.Close)
	return cs
}

// fetch sends a request and returns the response with its body read.
func fetch(t *testing.T, method, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// awaitFlight blocks a handler until n requests have read Redis on their
// way into GetOrSet (n misses plus the leader's second read), and then a
// moment more for them to join the load: only then does a test know they
// all wait on this handler run rather than start runs of their own.
func awaitFlight(cc *commandCounter, n int) {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		cc.mu.Lock()
		gets := cc.names["get"]
		cc.mu.Unlock()
		if gets >= n+1 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
}

func product42(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", `"v1"`)
	w.Header().Add("X-Multi", "one")
	w.Header().Add("X-Multi", "two")
	w.Header().Set("Date", "Mon, 01 Jan 2001 00:00:00 GMT") // must not be replayed
	fmt.Fprintf(w, `{"id":42,"query":%q}`, r.URL.RawQuery)
}

func TestResponseCacheStoresAndReplays(t *testing.T) {
	t.Parallel()
	c, _, rdb := newRealCache(t, Options{OpTimeout: slowMachine})
	srv := newCachedServer(t, c, ResponseCacheOptions{}, product42)

	r1, b1 := fetch(t, "GET", srv.URL+"/products/42?b=2&a=1", nil)
	r2, b2 := fetch(t, "GET", srv.URL+"/products/42?a=1&b=2", nil)
	if r1.Header.Get("X-Cache") != "MISS" || r2.Header.Get("X-Cache") != "HIT" || srv.calls.Load() != 1 {
		t.Fatalf("X-Cache %q then %q, %d handler runs", r1.Header.Get("X-Cache"), r2.Header.Get("X-Cache"), srv.calls.Load())
	}
	if b1 != b2 || b1 != `{"id":42,"query":"b=2&a=1"}` {
		t.Fatalf("bodies %q and %q", b1, b2)
	}
	for _, r := range []*http.Response{r1, r2} {
		h := r.Header
		if r.StatusCode != 200 || h.Get("Content-Type") != "application/json" || h.Get("ETag") != `"v1"` ||
			strings.Join(h.Values("X-Multi"), ",") != "one,two" || h.Get("Content-Length") != fmt.Sprint(len(b1)) {
			t.Fatalf("response %d headers %v", r.StatusCode, h)
		}
	}
	if r2.Header.Get("Age") == "" {
		t.Fatal("a hit has no Age header")
	}
	if d := r2.Header.Get("Date"); d == "" || strings.Contains(d, "2001") {
		t.Fatalf("a hit replayed the stored Date %q", d)
	}
	// The key names the route, with the query sorted.
	key := "http:GET:" + strings.TrimPrefix(srv.URL, "http://") + "/products/42?a=1&b=2"
	if n, err := rdb.Exists(context.Background(), key).Result(); err != nil || n != 1 {
		t.Fatalf("key %q not in Redis (%d, %v)", key, n, err)
	}
	if st := c.Stats().Namespaces["http"]; st.Hits != 1 || st.Loads != 1 {
		t.Fatalf("http namespace counters %+v", st)
	}
}

func TestResponseCacheConcurrentColdRequestsRunHandlerOnce(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{OpTimeout: slowMachine})
	const n = 50
	var srv *cachedServer
	srv = newCachedServer(t, c, ResponseCacheOptions{}, func(w http.ResponseWriter, r *http.Request) {
		// Hold the load until every request is inside the middleware, so
		// they really are concurrent with it.
		deadline := time.Now().Add(20 * time.Second)
		for srv.arrivals.Load() < n && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Fprint(w, "the catalogue")
	})
	var wg sync.WaitGroup
	var hits, misses atomic.Int64
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + "/catalogue")
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(body) != "the catalogue" {
				errs <- fmt.Errorf("got %d %q", resp.StatusCode, body)
			}
			switch resp.Header.Get("X-Cache") {
			case "HIT":
				hits.Add(1)
			case "MISS":
				misses.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if srv.arrivals.Load() != n {
		t.Fatalf("%d requests arrived", srv.arrivals.Load())
	}
	if calls := srv.calls.Load(); calls != 1 || misses.Load() != 1 || hits.Load() != n-1 {
		t.Fatalf("handler ran %d times; %d misses, %d hits", calls, misses.Load(), hits.Load())
	}
}

// A response that cannot be cached (here: it sets a session cookie) must
// reach only the request whose handler run produced it, even when other
// requests for the same URL waited on that run.
func TestResponseCacheUncacheableResponseIsNotShared(t *testing.T) {
	t.Parallel()
	c, _, rdb := newRealCache(t, Options{OpTimeout: slowMachine})
	gets := countCommands(rdb)
	const n = 10
	var session atomic.Int64
	srv := newCachedServer(t, c, ResponseCacheOptions{}, func(w http.ResponseWriter, r *http.Request) {
		id := session.Add(1)
		if id == 1 {
			awaitFlight(gets, n)
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: fmt.Sprint(id)})
		fmt.Fprintf(w, "welcome, visitor %d", id)
	})
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + "/login")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			cookie := resp.Header.Get("Set-Cookie")
			mu.Lock()
			defer mu.Unlock()
			if seen[cookie] || !strings.HasSuffix(string(body), strings.TrimPrefix(cookie, "session=")) || resp.Header.Get("X-Cache") != "MISS" {
				t.Errorf("response %q with cookie %q (X-Cache %s) was shared", body, cookie, resp.Header.Get("X-Cache"))
			}
			seen[cookie] = true
		}()
	}
	wg.Wait()
	if srv.calls.Load() != n {
		t.Fatalf("handler ran %d times for %d requests", srv.calls.Load(), n)
	}
}

func TestResponseCacheBodySizeCap(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{OpTimeout: slowMachine})
	const limit = 1000
	big := bytes.Repeat([]byte("x"), 5*limit)
	srv := newCachedServer(t, c, ResponseCacheOptions{MaxBodySize: limit}, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/exact":
			_, _ = w.Write(big[:limit])
		case "/declared":
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			_, _ = w.Write(big)
		default:
			for i := 0; i < len(big); i += 100 {
				_, _ = w.Write(big[i : i+100])
			}
		}
	})
	for _, path := range []string{"/chunks", "/declared"} {
		for range 2 {
			resp, body := fetch(t, "GET", srv.URL+path, nil)
			if body != string(big) || resp.Header.Get("X-Cache") != "MISS" {
				t.Fatalf("%s: %d bytes, X-Cache %s", path, len(body), resp.Header.Get("X-Cache"))
			}
		}
	}
	if srv.calls.Load() != 4 {
		t.Fatalf("handler ran %d times: a body over the cap was cached", srv.calls.Load())
	}
	fetch(t, "GET", srv.URL+"/exact", nil)
	if resp, body := fetch(t, "GET", srv.URL+"/exact", nil); resp.Header.Get("X-Cache") != "HIT" || len(body) != limit {
		t.Fatalf("a body of exactly MaxBodySize: %s, %d bytes", resp.Header.Get("X-Cache"), len(body))
	}
}

// A body over the cap is streamed as the handler writes it, not buffered
// to the end: the client reads the first part while the handler waits.
func TestResponseCacheStreamsLargeBodies(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{OpTimeout: slowMachine})
	const limit = 1000
	clientRead := make(chan struct{})
	srv := newCachedServer(t, c, ResponseCacheOptions{MaxBodySize: limit}, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(bytes.Repeat([]byte("a"), 2*limit))
		w.(http.Flusher).Flush()
		select {
		case <-clientRead:
		case <-time.After(20 * time.Second):
			return // the test fails on the client side
		}
		_, _ = w.Write([]byte("end"))
	})
	resp, err := http.Get(srv.URL + "/big")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 2*limit)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatalf("reading the first part while the handler waits: %v", err)
	}
	close(clientRead)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "end" || resp.Header.Get("X-Cache") != "MISS" {
		t.Fatalf("rest %q, X-Cache %s", rest, resp.Header.Get("X-Cache"))
	}
}

func TestResponseCacheHEAD(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{OpTimeout: slowMachine})
	var methods []string
	var mu sync.Mutex
	srv := newCachedServer(t, c, ResponseCacheOptions{}, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods = append(methods, r.Method)
		mu.Unlock()
		w.Header().Set("ETag", `"e"`)
		fmt.Fprint(w, "twelve bytes")
	})
	// A cold HEAD goes to the handler and is not cached.
	resp, body := fetch(t, "HEAD", srv.URL+"/doc", nil)
	if resp.Header.Get("X-Cache") != "MISS" || body != "" {
		t.Fatalf("cold HEAD: %s %q", resp.Header.Get("X-Cache"), body)
	}
	if resp, _ := fetch(t, "GET", srv.URL+"/doc", nil); resp.Header.Get("X-Cache") != "MISS" {
		t.Fatal("a HEAD response was cached for GET")
	}
	// A HEAD after a GET is answered from the GET's entry.
	resp, body = fetch(t, "HEAD", srv.URL+"/doc", nil)
	if resp.Header.Get("X-Cache") != "HIT" || body != "" || resp.Header.Get("ETag") != `"e"` || resp.ContentLength != 12 {
		t.Fatalf("warm HEAD: %s %q %v length %d", resp.Header.Get("X-Cache"), body, resp.Header, resp.ContentLength)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(methods, ",") != "HEAD,GET" {
		t.Fatalf("handler saw %v", methods)
	}
}

func TestResponseCacheRedisDownServesFromHandler(t *testing.T) {
	t.Parallel()
	c, s, _ := newRealCache(t, Options{OpTimeout: 100 * time.Millisecond, BreakerThreshold: 2})
	srv := newCachedServer(t, c, ResponseCacheOptions{}, product42)
	fetch(t, "GET", srv.URL+"/p", nil)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		resp, body := fetch(t, "GET", srv.URL+"/p", nil)
		if resp.StatusCode != 200 || body != `{"id":42,"query":""}` || resp.Header.Get("X-Cache") != "MISS" {
			t.Fatalf("with Redis down: %d %q %s", resp.StatusCode, body, resp.Header.Get("X-Cache"))
		}
		if resp, body := fetch(t, "HEAD", srv.URL+"/p", nil); resp.StatusCode != 200 || body != "" {
			t.Fatalf("HEAD with Redis down: %d", resp.StatusCode)
		}
	}
	if srv.calls.Load() != 11 {
		t.Fatalf("handler ran %d times", srv.calls.Load())
	}
}

// recovering stands for a recovery middleware outside the cache: it turns
// a panic into a 500 and records the value.
func recovering(values chan<- any, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				values <- v
				http.Error(w, "recovered", 500)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func TestResponseCacheHandlerPanic(t *testing.T) {
	t.Parallel()
	c, _, rdb := newRealCache(t, Options{OpTimeout: slowMachine})
	gets := countCommands(rdb)
	const n = 5
	var calls atomic.Int64
	var fail atomic.Bool
	fail.Store(true)
	values := make(chan any, n)
	cached := ResponseCache(c, ResponseCacheOptions{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if fail.Load() {
			awaitFlight(gets, n)
			panic("database on fire")
		}
		fmt.Fprint(w, "fine")
	}))
	srv := httptest.NewServer(recovering(values, cached))
	defer srv.Close()

	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, body := fetch(t, "GET", srv.URL+"/x", nil); resp.StatusCode != 500 || !strings.Contains(body, "recovered") {
				t.Errorf("got %d %q", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	close(values)
	got := 0
	for v := range values {
		if v != "database on fire" {
			t.Fatalf("panic value %v", v)
		}
		got++
	}
	// One run, and its panic raised in each request that waited for it.
	if calls.Load() != 1 || got != n {
		t.Fatalf("%d handler runs, %d panics seen", calls.Load(), got)
	}
	fail.Store(false)
	if resp, body := fetch(t, "GET", srv.URL+"/x", nil); resp.Header.Get("X-Cache") != "MISS" || body != "fine" {
		t.Fatalf("after the panic: %s %q (the panic must not be cached)", resp.Header.Get("X-Cache"), body)
	}
}

// The load survives the client that started it: requests waiting on it
// still get the response, and it is cached.
func TestResponseCacheLeaderDisconnects(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{OpTimeout: slowMachine})
	entered := make(chan struct{})
	release := make(chan struct{})
	var srv *cachedServer
	srv = newCachedServer(t, c, ResponseCacheOptions{}, func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		fmt.Fprint(w, "slow answer")
	})
	ctx, cancel := context.WithCancel(context.Background())
	leaderDone := make(chan error)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		leaderDone <- err
	}()
	<-entered
	waiter := make(chan string)
	go func() {
		resp, body := fetch(t, "GET", srv.URL+"/slow", nil)
		waiter <- resp.Header.Get("X-Cache") + " " + body
	}()
	waitFor(t, "the second request", 10*time.Second, func() bool { return srv.arrivals.Load() == 2 })
	cancel()
	if err := <-leaderDone; err == nil {
		t.Fatal("the cancelled request succeeded")
	}
	close(release)
	if got := <-waiter; got != "HIT slow answer" {
		t.Fatalf("waiter got %q", got)
	}
	if resp, body := fetch(t, "GET", srv.URL+"/slow", nil); resp.Header.Get("X-Cache") != "HIT" || body != "slow answer" || srv.calls.Load() != 1 {
		t.Fatalf("after: %s %q, %d runs", resp.Header.Get("X-Cache"), body, srv.calls.Load())
	}
}
