package cachecore

import (
	"bytes"
	"errors"
	"net/http"
	"sync"
	"time"
)

// errUncacheable is what a load returns for a response that must not be
// shared; it reaches every request waiting on that load.
var errUncacheable = errors.New("cachecore: response not cacheable")

// errClientGone is what a handler's Write returns once a response that
// cannot be cached has nobody to go to.
var errClientGone = errors.New("cachecore: response not cacheable and its client has gone")

// handoff connects a load to the request that started it, while that
// request waits. A load may outlive its request (GetOrSet loads on a
// detached context) or have none (an early refresh), so every use of the
// request's ResponseWriter goes through here, under mu, and stops when
// the request stops waiting.
type handoff struct {
	mu    sync.Mutex
	w     http.ResponseWriter
	open  bool // the request waits; the load may write to w
	ran   bool // this request's load ran while it waited
	wrote bool // the load wrote (part of) the response to w
}

func (h *handoff) begin() {
	h.mu.Lock()
	h.ran = h.open
	h.mu.Unlock()
}

// close ends the handoff and says whether the request's own load ran and
// whether it wrote to w.
func (h *handoff) close() (ran, wrote bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.open = false
	return h.ran, h.wrote
}

// start sends the status, header and the body so far to the waiting
// request, and reports whether there was one.
func (h *handoff) start(status int, header http.Header, body []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.open {
		return false
	}
	h.wrote = true
	dst := h.w.Header()
	for k, v := range header {
		dst[k] = v
	}
	dst.Set(xCacheHeader, xCacheMiss)
	h.w.WriteHeader(status)
	if len(body) > 0 {
		_, _ = h.w.Write(body)
	}
	return true
}

func (h *handoff) write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.open {
		return 0, errClientGone
	}
	return h.w.Write(p)
}

func (h *handoff) flush() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f, ok := h.w.(http.Flusher); h.open && ok {
		f.Flush()
	}
}

// recorder is the ResponseWriter a load's handler writes to. It buffers a
// response while it may be cached; once it cannot be (its status or
// headers say so, or the body outgrows MaxBodySize), it sends what it has
// to the waiting request and streams the rest, or, with no request
// waiting, discards it.
type recorder struct {
	h      *handoff
	rc     *responseCache
	header http.Header
	status int // 0 until the header is written

	buffering bool // the response may still be cached
	stored    http.Header
	body      bytes.Buffer
}

func newRecorder(h *handoff, rc *responseCache) *recorder {
	return &recorder{h: h, rc: rc, header: http.Header{}, buffering: true}
}

func (rec *recorder) Header() http.Header { return rec.header }

func (rec *recorder) WriteHeader(status int) {
	if rec.status != 0 || status < 200 {
		// A second call is ignored, as net/http does; so are
		// informational responses (103 Early Hints), which a cached copy
		// cannot replay.
		return
	}
	rec.status = status
	rec.stored = rec.header.Clone()
	if !rec.rc.cacheable(status, rec.stored) {
		rec.giveUp()
	}
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if rec.buffering && rec.body.Len()+len(p) > rec.rc.opts.MaxBodySize {
		rec.giveUp()
	}
	if rec.buffering {
		return rec.body.Write(p)
	}
	return rec.h.write(p)
}

// Flush sends what the handler wrote so far to the client when the
// response is being streamed; a response that may be cached is sent
// whole at the end.
func (rec *recorder) Flush() {
	if !rec.buffering {
		rec.h.flush()
	}
}

// giveUp stops buffering: the response will not be cached. What was
// buffered goes to the waiting request, if any, and the buffer is freed.
func (rec *recorder) giveUp() {
	rec.buffering = false
	rec.h.start(rec.status, rec.stored, rec.body.Bytes())
	rec.body = bytes.Buffer{}
}

// run calls the handler and reports a panic instead of propagating it:
// GetOrSet would turn it into an error and lose the value.
func (rec *recorder) run(next http.Handler, r *http.Request) (v any, panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			v, panicked = p, true
		}
	}()
	next.ServeHTTP(rec, r)
	return nil, false
}

// finish returns the response to cache, or errUncacheable.
func (rec *recorder) finish() (cachedResponse, error) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK) // a handler that wrote nothing
	}
	if !rec.buffering {
		return cachedResponse{}, errUncacheable
	}
	return cachedResponse{
		Status:   rec.status,
		Header:   storedHeader(rec.stored),
		Body:     rec.body.Bytes(),
		StoredAt: time.Now().UnixMilli(),
	}, nil
}
