package cachecore

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// ResponseCacheOptions configure ResponseCache. The zero value caches
// 200 responses of up to 1 MiB for one minute, keyed by host, path and
// query.
type ResponseCacheOptions struct {
	// TTL is how long a response stays cached. 0 (or a negative value)
	// means 1 minute. For a TTL per route, wrap each route's handler in a
	// middleware with its own TTL, or set TTLFor.
	TTL time.Duration

	// TTLFor, when set, chooses the TTL of each request, for example by
	// path when one middleware wraps a whole mux. It returns 0 to use TTL,
	// and a negative duration to leave the request uncached.
	TTLFor func(*http.Request) time.Duration

	// VaryHeaders are the request headers whose values are part of the
	// key, as a Vary response header would name them ("Accept-Language",
	// "Accept-Encoding"). Their values are hashed into the key, never
	// stored in clear. A response whose own Vary header names a header
	// not listed here (or "*") is not cached: one cached copy could not be
	// right for every request.
	VaryHeaders []string

	// MaxBodySize is the largest body, in bytes, that is cached. A larger
	// response is streamed to the client as the handler writes it and is
	// not cached; no more than MaxBodySize bytes of it are ever held in
	// memory. 0 (or a negative value) means 1 MiB.
	MaxBodySize int

	// KeyPrefix starts every key, and is the namespace the cache's
	// counters report for them. "" means "http".
	KeyPrefix string

	// IgnoreCredentials lets requests that carry an Authorization or a
	// Cookie header read and fill the cache like any other. By default
	// they bypass it (as in Varnish's default rules), because the key does
	// not say who asked, and a response to one user must never reach
	// another. Set it when responses never depend on those headers (a
	// cookie that only feeds analytics). Naming the header in VaryHeaders
	// instead caches one copy per credential.
	//
	// Only those two headers are recognised as credentials. A handler
	// whose response depends on anything else about the client (another
	// header such as X-Api-Key, a context value an outer middleware set)
	// must name that header in VaryHeaders, answer with
	// "Cache-Control: private", or not be wrapped.
	IgnoreCredentials bool
}

const (
	defaultResponseTTL    = time.Minute
	defaultMaxBodySize    = 1 << 20
	defaultHTTPPrefix     = "http"
	xCacheHeader          = "X-Cache"
	xCacheHit, xCacheMiss = "HIT", "MISS"
)

// ResponseCache returns a middleware that caches responses to GET
// requests in c and answers HEAD requests from them too.
//
// A response is served from the cache with the header "X-Cache: HIT" and
// an Age header; every other response passing through carries
// "X-Cache: MISS". HIT means the handler did not run for this request: the
// response came from Redis, or from the handler run of an identical
// request that arrived at the same time.
//
// What is cached: responses with status 200 to GET requests, with the
// status, the headers (less hop-by-hop ones, Date, which is set afresh,
// and Content-Length, which is recomputed) and the body. Not cached:
// other statuses; responses with Cache-Control no-store, no-cache or
// private; responses that set a cookie (Set-Cookie is per visitor);
// responses declaring trailers or a Vary header the key does not cover;
// bodies over MaxBodySize. Requests with Cache-Control no-store, no-cache
// or private, Pragma no-cache, an Upgrade header, or (see
// IgnoreCredentials) credentials, bypass the cache both ways.
//
// The key is "<KeyPrefix>:GET:<host><path>?<query>" with the query's
// parameters sorted, plus a hash of the VaryHeaders' values; a URL longer
// than 256 bytes is replaced by its SHA-256. Nothing else about the
// request (cookies, credentials, the client) is part of it.
//
// Loads go through GetOrSet: a cold URL requested by many clients at once
// runs the handler once, and the others receive its response. The handler
// then runs with a copy of the first request on a context detached from
// that client's cancellation, bounded by Options.LoadTimeout, and with an
// empty body. If the response turns out not to be cacheable, only the
// request that ran the handler receives it; the others run the handler
// themselves, so nothing meant for one client reaches another. A handler
// panic is re-raised with the same value in every request that waited
// for that run, as it would have been had each run the handler, and
// nothing is cached.
//
// The cache never fails a request: when Redis is down, slow or the
// circuit breaker is open, responses come from the handler (each Redis
// call bounded by Options.OpTimeout). HEAD requests are answered from the
// cached GET response (headers and Content-Length, no body); on a miss
// they go to the handler and are not cached. Do not wrap handlers that
// stream without end (server-sent events) or hijack the connection.
func ResponseCache(c *Cache, opts ResponseCacheOptions) func(http.Handler) http.Handler {
	rc := newResponseCache(c, opts)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc.serve(w, r, next)
		})
	}
}

// responseCache is a ResponseCache with its options resolved.
type responseCache struct {
	c       *Cache
	opts    ResponseCacheOptions
	vary    []string        // canonical names, sorted
	varySet map[string]bool // the same, for lookups
	prefix  string          // "http:GET:"
}

func newResponseCache(c *Cache, opts ResponseCacheOptions) *responseCache {
	if opts.TTL <= 0 {
		opts.TTL = defaultResponseTTL
	}
	if opts.MaxBodySize <= 0 {
		opts.MaxBodySize = defaultMaxBodySize
	}
	if opts.KeyPrefix == "" {
		opts.KeyPrefix = defaultHTTPPrefix
	}
	rc := &responseCache{c: c, opts: opts, varySet: map[string]bool{}, prefix: opts.KeyPrefix + ":GET:"}
	for _, h := range opts.VaryHeaders {
		name := http.CanonicalHeaderKey(h)
		if name != "" && !rc.varySet[name] {
			rc.varySet[name] = true
			rc.vary = append(rc.vary, name)
		}
	}
	slices.Sort(rc.vary)
	return rc
}

// cachedResponse is what ResponseCache stores.
type cachedResponse struct {
	Status   int         `json:"status"`
	Header   http.Header `json:"header"`
	Body     []byte      `json:"body"`
	StoredAt int64       `json:"stored_at_ms"`
}

func (rc *responseCache) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	ttl := rc.ttl(r)
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || ttl < 0 || rc.bypass(r) {
		passThrough(w, r, next)
		return
	}
	key := rc.key(r)
	ctx := r.Context()
	if r.Method == http.MethodHead {
		var resp cachedResponse
		if err := rc.c.Get(ctx, key, &resp); err == nil && resp.valid() {
			writeCached(w, r, &resp, xCacheHit)
			return
		}
		passThrough(w, r, next)
		return
	}

	h := &handoff{w: w, open: true}
	resp, err := GetOrSet(ctx, rc.c, key, ttl, func(lctx context.Context) (cachedResponse, error) {
		return rc.load(lctx, r, next, h)
	})
	ran, wrote := h.close()
	var hp *handlerPanic
	switch {
	case err == nil && !resp.valid():
		// Something else wrote this key with the cache's envelope.
		passThrough(w, r, next)
	case err == nil && ran:
		writeCached(w, r, &resp, xCacheMiss)
	case err == nil:
		writeCached(w, r, &resp, xCacheHit)
	case errors.As(err, &hp):
		panic(hp.value)
	case wrote, ctx.Err() != nil:
		// The response went out as the handler wrote it, or the client
		// has gone.
	default:
		// Not cacheable and produced for another request, or a failure of
		// the cache: this request runs the handler itself.
		passThrough(w, r, next)
	}
}

// ttl returns the request's TTL; negative means do not cache.
func (rc *responseCache) ttl(r *http.Request) time.Duration {
	if rc.opts.TTLFor != nil {
		if d := rc.opts.TTLFor(r); d != 0 {
			return d
		}
	}
	return rc.opts.TTL
}

// load runs the handler for GetOrSet. It writes into a recorder, never
// straight to the waiting request's ResponseWriter: that request may have
// gone by the time the handler writes (GetOrSet loads on a detached
// context), and early refreshes run with no request at all. The recorder
// hands the response to the waiting request through h when it cannot be
// cached.
func (rc *responseCache) load(ctx context.Context, r *http.Request, next http.Handler, h *handoff) (cachedResponse, error) {
	h.begin()
	req := r.Clone(ctx)
	// The body may be gone with the request that brought it, and a GET
	// body cannot matter to a response keyed by URL.
	req.Body, req.ContentLength = http.NoBody, 0
	rec := newRecorder(h, rc)
	if v, panicked := rec.run(next, req); panicked {
		return cachedResponse{}, &handlerPanic{value: v}
	}
	return rec.finish()
}

// handlerPanic carries a handler's panic value to every request that
// waited for its run.
type handlerPanic struct{ value any }

func (p *handlerPanic) Error() string { return "cachecore: handler panicked" }

// valid reports whether a decoded entry is one ResponseCache stored.
func (resp *cachedResponse) valid() bool { return resp.Status == http.StatusOK }

// passThrough serves a request with the handler, uncached.
func passThrough(w http.ResponseWriter, r *http.Request, next http.Handler) {
	w.Header().Set(xCacheHeader, xCacheMiss)
	next.ServeHTTP(w, r)
}

// writeCached writes a stored response. Header values are copied: the
// same cachedResponse can be shared by concurrent requests.
func writeCached(w http.ResponseWriter, r *http.Request, resp *cachedResponse, xcache string) {
	dst := w.Header()
	for k, v := range resp.Header {
		dst[k] = slices.Clone(v)
	}
	dst.Set(xCacheHeader, xcache)
	if xcache == xCacheHit && resp.StoredAt > 0 {
		age := max(0, time.Since(time.UnixMilli(resp.StoredAt))/time.Second)
		dst.Set("Age", strconv.FormatInt(int64(age), 10))
	}
	dst.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(resp.Body)
	}
}
