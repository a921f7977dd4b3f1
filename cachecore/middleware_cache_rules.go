package cachecore

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxReadableTarget is the longest host+path+query kept readable in a
// key; longer ones are replaced by their hash, so a hostile URL cannot
// make huge keys.
const maxReadableTarget = 256

// key returns the cache key of a GET (or HEAD) request.
func (rc *responseCache) key(r *http.Request) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(r.Host))
	b.WriteString(r.URL.EscapedPath())
	if q := normalizeQuery(r.URL.RawQuery); q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
	target := b.String()
	if len(target) > maxReadableTarget {
		sum := sha256.Sum256([]byte(target))
		target = "sha256:" + hex.EncodeToString(sum[:])
	}
	if len(rc.vary) == 0 {
		return rc.prefix + target
	}
	// The chosen headers' values are hashed: they may be credentials, and
	// they must not make the key long.
	h := sha256.New()
	for _, name := range rc.vary {
		h.Write([]byte(name))
		for _, v := range r.Header.Values(name) {
			h.Write([]byte{0})
			h.Write([]byte(v))
		}
		h.Write([]byte{1})
	}
	return rc.prefix + target + "#vary:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// normalizeQuery sorts the parameters of a query, so that "?b=2&a=1" and
// "?a=1&b=2" share an entry; the order of repeated parameters is kept. A
// query that does not parse is used as it is.
func normalizeQuery(raw string) string {
	if raw == "" {
		return ""
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	return v.Encode()
}

// bypass reports whether a request must neither read nor fill the cache.
func (rc *responseCache) bypass(r *http.Request) bool {
	if hasDirective(r.Header, "no-store", "no-cache", "private") {
		return true
	}
	for _, v := range r.Header.Values("Pragma") {
		if strings.Contains(strings.ToLower(v), "no-cache") {
			return true
		}
	}
	if r.Header.Get("Upgrade") != "" {
		return true
	}
	if !rc.opts.IgnoreCredentials {
		for _, name := range []string{"Authorization", "Cookie"} {
			if r.Header.Get(name) != "" && !rc.varySet[name] {
				return true
			}
		}
	}
	return false
}

// cacheable reports whether a response, judged by its status and headers,
// may be stored and shared.
func (rc *responseCache) cacheable(status int, h http.Header) bool {
	if status != http.StatusOK {
		return false
	}
	if hasDirective(h, "no-store", "no-cache", "private") {
		return false
	}
	if len(h.Values("Set-Cookie")) > 0 || len(h.Values("Trailer")) > 0 {
		return false
	}
	for _, v := range h.Values("Vary") {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if name == "*" || !rc.varySet[http.CanonicalHeaderKey(name)] {
				return false
			}
		}
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n > int64(rc.opts.MaxBodySize) {
			return false
		}
	}
	return true
}

// hasDirective reports whether a Cache-Control header holds one of the
// directives, with or without an argument (private="Set-Cookie").
func hasDirective(h http.Header, directives ...string) bool {
	for _, line := range h.Values("Cache-Control") {
		for _, d := range strings.Split(line, ",") {
			d = strings.TrimSpace(d)
			if i := strings.IndexByte(d, '='); i >= 0 {
				d = strings.TrimSpace(d[:i])
			}
			for _, want := range directives {
				if strings.EqualFold(d, want) {
					return true
				}
			}
		}
	}
	return false
}

// notStored are response headers a cached copy does not keep: hop-by-hop
// headers belong to one connection, Date and Age are set when the copy is
// served, Content-Length is recomputed from the body, X-Cache is ours.
var notStored = []string{
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Connection", "Te", "Trailer",
	"Transfer-Encoding", "Upgrade", "Date", "Age", "Content-Length", xCacheHeader,
}

// storedHeader returns the part of a response's header worth storing.
func storedHeader(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for _, v := range h.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			out.Del(strings.TrimSpace(name))
		}
	}
	for _, name := range notStored {
		out.Del(name)
	}
	return out
}
