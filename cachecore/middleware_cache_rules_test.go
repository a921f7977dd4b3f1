package cachecore

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

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
