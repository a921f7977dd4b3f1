package cachecore

import "strings"

// EscapeGlob escapes the glob characters of s (* ? [ ] \) so that it
// matches itself literally in a Redis pattern. Use it to build patterns
// from key parts that come from users or data:
//
//	c.InvalidatePattern(ctx, "user:"+cachecore.EscapeGlob(id)+":*", opts)
func EscapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// HasGlob reports whether pattern contains an unescaped glob character,
// that is whether it can match anything but one literal key.
func HasGlob(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			i++
		case '*', '?', '[':
			return true
		}
	}
	return false
}

// MatchGlob reports whether key matches pattern with the semantics of
// Redis' glob matching (SCAN MATCH, KEYS): * any run of bytes, ? one byte,
// [abc] [^abc] [a-z] classes, \x a literal x. It works on bytes, as Redis
// does, and runs in O(len(pattern)*len(key)) at worst.
func MatchGlob(pattern, key string) bool {
	p, k := 0, 0
	starP, starK := -1, -1 // where to resume after the last '*'
	for k < len(key) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				for p < len(pattern) && pattern[p] == '*' {
					p++
				}
				if p == len(pattern) {
					return true
				}
				starP, starK = p, k
				continue
			case '?':
				p++
				k++
				continue
			case '[':
				if ok, next := matchClass(pattern, p, key[k]); ok {
					p, k = next, k+1
					continue
				}
			case '\\':
				lit, next := c, p+1
				if p+1 < len(pattern) {
					lit, next = pattern[p+1], p+2
				}
				if lit == key[k] {
					p, k = next, k+1
					continue
				}
			default:
				if c == key[k] {
					p++
					k++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starK++
		p, k = starP, starK
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchClass matches byte c against the class starting at pattern[open]
// ('['), and returns where the pattern continues. Like Redis, an
// unterminated class runs to the end of the pattern.
func matchClass(pattern string, open int, c byte) (bool, int) {
	q := open + 1
	negate := q < len(pattern) && pattern[q] == '^'
	if negate {
		q++
	}
	matched := false
	for q < len(pattern) {
		switch {
		case pattern[q] == '\\' && q+1 < len(pattern):
			if pattern[q+1] == c {
				matched = true
			}
			q += 2
			continue
		case pattern[q] == ']':
			q++
			return matched != negate, q
		case q+2 < len(pattern) && pattern[q+1] == '-':
			lo, hi := pattern[q], pattern[q+2]
			if lo > hi {
				lo, hi = hi, lo
			}
			if c >= lo && c <= hi {
				matched = true
			}
			q += 3
			continue
		}
		if pattern[q] == c {
			matched = true
		}
		q++
	}
	return matched != negate, q
}
