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

func TestResponseCacheBypassAndUncacheable(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{OpTimeout: slowMachine})
	cases := []struct {
		name    string
		method  string
		request map[string]string
		respond func(w http.ResponseWriter)
	}{
		{name: "request no-store", request: map[string]string{"Cache-Control": "no-store"}},
		{name: "request no-cache", request: map[string]string{"Cache-Control": "max-age=0, no-cache"}},
		{name: "request private", request: map[string]string{"Cache-Control": "private"}},
		{name: "request pragma", request: map[string]string{"Pragma": "no-cache"}},
		{name: "authorization", request: map[string]string{"Authorization": "Bearer alice"}},
		{name: "cookie", request: map[string]string{"Cookie": "session=alice"}},
		{name: "upgrade", request: map[string]string{"Connection": "Upgrade", "Upgrade": "websocket"}},
		{name: "post", method: "POST"},
		{name: "response no-store", respond: func(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }},
		{name: "response private", respond: func(w http.ResponseWriter) { w.Header().Set("Cache-Control", `max-age=60, PRIVATE="X-User"`) }},
		{name: "response no-cache", respond: func(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-cache") }},
		{name: "set-cookie", respond: func(w http.ResponseWriter) { w.Header().Set("Set-Cookie", "a=b") }},
		{name: "vary not keyed", respond: func(w http.ResponseWriter) { w.Header().Set("Vary", "Accept-Encoding") }},
		{name: "vary star", respond: func(w http.ResponseWriter) { w.Header().Set("Vary", "*") }},
		{name: "trailer", respond: func(w http.ResponseWriter) { w.Header().Set("Trailer", "X-Checksum") }},
		{name: "404", respond: func(w http.ResponseWriter) { w.WriteHeader(404) }},
		{name: "500", respond: func(w http.ResponseWriter) { w.WriteHeader(500) }},
		{name: "204", respond: func(w http.ResponseWriter) { w.WriteHeader(204) }},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newCachedServer(t, c, ResponseCacheOptions{KeyPrefix: fmt.Sprint("case", i)}, func(w http.ResponseWriter, r *http.Request) {
				if tc.respond != nil {
					tc.respond(w)
				}
				fmt.Fprint(w, "body")
			})
			method := tc.method
			if method == "" {
				method = "GET"
			}
			var status int
			for range 2 {
				resp, body := fetch(t, method, srv.URL+"/x", tc.request)
				status = resp.StatusCode
				if resp.Header.Get("X-Cache") != "MISS" {
					t.Fatalf("X-Cache %q", resp.Header.Get("X-Cache"))
				}
				if status != 204 && body != "body" {
					t.Fatalf("body %q", body)
				}
			}
			if srv.calls.Load() != 2 {
				t.Fatalf("handler ran %d times for 2 requests: the response was cached", srv.calls.Load())
			}
			// The same URL without the request's special headers is
			// cached normally (unless the response forbids it).
			if tc.respond == nil && tc.method == "" {
				fetch(t, "GET", srv.URL+"/x", nil)
				if resp, _ := fetch(t, "GET", srv.URL+"/x", nil); resp.Header.Get("X-Cache") != "HIT" {
					t.Fatal("a plain request was not cached")
				}
			}
		})
	}
}

func TestResponseCacheCredentialsOptIn(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{OpTimeout: slowMachine})
	echoUser := func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.Header.Get("Authorization")) }

	// IgnoreCredentials: one shared copy, whoever asks.
	shared := newCachedServer(t, c, ResponseCacheOptions{KeyPrefix: "shared", IgnoreCredentials: true}, echoUser)
	fetch(t, "GET", shared.URL, map[string]string{"Authorization": "alice"})
	resp, body := fetch(t, "GET", shared.URL, map[string]string{"Authorization": "bob"})
	if resp.Header.Get("X-Cache") != "HIT" || body != "alice" {
		t.Fatalf("IgnoreCredentials: %s %q", resp.Header.Get("X-Cache"), body)
	}

	// Authorization in VaryHeaders: one copy per credential.
	perUser := newCachedServer(t, c, ResponseCacheOptions{KeyPrefix: "peruser", VaryHeaders: []string{"authorization"}}, echoUser)
	for _, step := range []struct{ user, xcache string }{{"alice", "MISS"}, {"bob", "MISS"}, {"alice", "HIT"}, {"bob", "HIT"}} {
		resp, body := fetch(t, "GET", perUser.URL, map[string]string{"Authorization": step.user})
		if resp.Header.Get("X-Cache") != step.xcache || body != step.user {
			t.Fatalf("%s: %s %q, want %s", step.user, resp.Header.Get("X-Cache"), body, step.xcache)
		}
	}
}

func TestResponseCacheVaryHeaders(t *testing.T) {
	t.Parallel()
	c, _, _ := newRealCache(t, Options{OpTimeout: slowMachine})
	srv := newCachedServer(t, c, ResponseCacheOptions{VaryHeaders: []string{"Accept-Language"}}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "accept-language")
		fmt.Fprint(w, "lang="+r.Header.Get("Accept-Language"))
	})
	for _, step := range []struct{ lang, xcache string }{{"en", "MISS"}, {"fr", "MISS"}, {"en", "HIT"}, {"fr", "HIT"}, {"", "MISS"}} {
		resp, body := fetch(t, "GET", srv.URL+"/greeting", map[string]string{"Accept-Language": step.lang})
		if resp.Header.Get("X-Cache") != step.xcache || body != "lang="+step.lang {
			t.Fatalf("%q: %s %q, want %s", step.lang, resp.Header.Get("X-Cache"), body, step.xcache)
		}
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

func TestResponseCacheTTL(t *testing.T) {
	t.Parallel()
	c, _, rdb := newRealCache(t, Options{TTLJitter: -1, OpTimeout: slowMachine})
	srv := newCachedServer(t, c, ResponseCacheOptions{
		TTL: time.Hour,
		TTLFor: func(r *http.Request) time.Duration {
			switch r.URL.Path {
			case "/news":
				return 30 * time.Second
			case "/live":
				return -1
			}
			return 0
		},
	}, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.URL.Path) })
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	for path, want := range map[string]time.Duration{"/news": 30 * time.Second, "/about": time.Hour} {
		fetch(t, "GET", srv.URL+path, nil)
		ttl, err := rdb.PTTL(ctx, "http:GET:"+host+path).Result()
		if err != nil || ttl <= want-10*time.Second || ttl > want {
			t.Fatalf("%s: TTL %v, %v; want about %v", path, ttl, err, want)
		}
	}
	fetch(t, "GET", srv.URL+"/live", nil)
	if resp, _ := fetch(t, "GET", srv.URL+"/live", nil); resp.Header.Get("X-Cache") != "MISS" {
		t.Fatal("a request with a negative TTL was cached")
	}
	if n, _ := rdb.Exists(ctx, "http:GET:"+host+"/live").Result(); n != 0 {
		t.Fatal("a request with a negative TTL was stored")
	}
}

func TestResponseCacheKeys(t *testing.T) {
	c, _ := newMiniCache(t, Options{})
	plain := newResponseCache(c, ResponseCacheOptions{})
	vary := newResponseCache(c, ResponseCacheOptions{KeyPrefix: "pages", VaryHeaders: []string{"accept-language", "Accept-Language"}})
	req := func(target string, header map[string]string) *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		for k, v := range header {
			r.Header.Set(k, v)
		}
		return r
	}
	if k := plain.key(req("http://Example.COM/a%2Fb?z=1&a=2&a=1", nil)); k != "http:GET:example.com/a%2Fb?a=2&a=1&z=1" {
		t.Errorf("normalized key %q", k)
	}
	if k := plain.key(req("http://h/p?%zz", nil)); k != "http:GET:h/p?%zz" {
		t.Errorf("key of an unparsable query %q", k)
	}
	long := plain.key(req("http://h/"+strings.Repeat("x", 300), nil))
	if len(long) > 100 || !strings.HasPrefix(long, "http:GET:sha256:") || long == plain.key(req("http://h/"+strings.Repeat("x", 301), nil)) {
		t.Errorf("long URL key %q", long)
	}
	// Credentials and cookies are not part of a key unless asked for.
	if plain.key(req("http://h/p", map[string]string{"Authorization": "secret", "Cookie": "c=1"})) != "http:GET:h/p" {
		t.Error("request headers leaked into the key")
	}
	en := vary.key(req("http://h/p", map[string]string{"Accept-Language": "en"}))
	fr := vary.key(req("http://h/p", map[string]string{"Accept-Language": "fr"}))
	// The values are hashed (32 hex digits), never in clear.
	if en == fr || !strings.HasPrefix(en, "pages:GET:h/p#vary:") || len(en) != len("pages:GET:h/p#vary:")+32 {
		t.Errorf("vary keys %q %q", en, fr)
	}
	if len(vary.vary) != 1 {
		t.Errorf("duplicate vary header kept: %v", vary.vary)
	}
}

// The response cache stores the codec's encoding of the response, so a
// value written by something else is a miss, not a crash or a wrong page.
func TestResponseCacheForeignValueIsAMiss(t *testing.T) {
	t.Parallel()
	c, _, rdb := newRealCache(t, Options{OpTimeout: slowMachine})
	srv := newCachedServer(t, c, ResponseCacheOptions{}, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "real") })
	key := "http:GET:" + strings.TrimPrefix(srv.URL, "http://") + "/p"
	if err := rdb.Set(context.Background(), key, "garbage", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if resp, body := fetch(t, "GET", srv.URL+"/p", nil); resp.Header.Get("X-Cache") != "MISS" || body != "real" {
		t.Fatalf("%s %q", resp.Header.Get("X-Cache"), body)
	}
	if resp, body := fetch(t, "HEAD", srv.URL+"/p", nil); resp.Header.Get("X-Cache") != "HIT" || body != "" {
		t.Fatalf("HEAD after reload: %s", resp.Header.Get("X-Cache"))
	}
	// A cachecore value of another shape under the same key (status 0
	// would make WriteHeader panic) is not served either.
	if err := c.Set(context.Background(), key, map[string]any{"body": "b3RoZXI="}, time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"GET", "HEAD"} {
		if resp, _ := fetch(t, method, srv.URL+"/p", nil); resp.StatusCode != 200 || resp.Header.Get("X-Cache") != "MISS" {
			t.Fatalf("%s over a foreign cachecore value: %d %s", method, resp.StatusCode, resp.Header.Get("X-Cache"))
		}
	}
	if n := srv.calls.Load(); n != 3 {
		t.Fatalf("handler ran %d times, want 3", n)
	}
}
