package cachecore

import (
	"context"
	"testing"

	"github.com/cachescope/cachescope/internal/redistest"
)

var globCases = []struct {
	pattern, key string
	want         bool
}{
	{"*", "", true},
	{"*", "anything", true},
	{"user:*", "user:1", true},
	{"user:*", "users:1", false},
	{"user:*", "user:", true},
	{"user:?", "user:12", false},
	{"user:??", "user:12", true},
	{"h[ae]llo", "hello", true},
	{"h[ae]llo", "hillo", false},
	{"h[^e]llo", "hallo", true},
	{"h[^e]llo", "hello", false},
	{"h[a-b]llo", "hbllo", true},
	{"h[b-a]llo", "hallo", true}, // reversed range
	{"h[a-b]llo", "hcllo", false},
	{`a\*b`, "a*b", true},
	{`a\*b`, "axb", false},
	{`a\?`, "a?", true},
	{`a\[b\]`, "a[b]", true},
	{`a\\b`, `a\b`, true},
	{"a*b*c", "abc", true},
	{"a*b*c", "aXXbYYc", true},
	{"a*b*c", "aXXbYY", false},
	{"**x", "x", true},
	{"a*", "b", false},
	{"[abc", "b", true}, // unterminated class runs to the end
	{"[abc", "d", false},
	{`[\]]`, "]", true},
	{"ab", "abc", false},
	{"abc", "ab", false},
	{"*:session:*", "app:session:9", true},
	{"\xff*", "\xff\x00bin", true},
}

func TestMatchGlob(t *testing.T) {
	for _, tc := range globCases {
		if got := MatchGlob(tc.pattern, tc.key); got != tc.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tc.pattern, tc.key, got, tc.want)
		}
	}
}

// TestMatchGlobAgreesWithRedis checks the matcher against the server's own
// SCAN MATCH, the authority InvalidatePattern double-checks.
func TestMatchGlobAgreesWithRedis(t *testing.T) {
	s := redistest.Start(t)
	rdb := s.Client(t)
	ctx := context.Background()
	for i, tc := range globCases {
		if tc.key == "" {
			continue
		}
		if err := rdb.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		rdb.Set(ctx, tc.key, 1, 0)
		keys, _, err := rdb.Scan(ctx, 0, tc.pattern, 100).Result()
		if err != nil {
			t.Fatal(err)
		}
		redisSays := len(keys) == 1
		if got := MatchGlob(tc.pattern, tc.key); got != redisSays {
			t.Errorf("case %d: MatchGlob(%q, %q) = %v but Redis says %v", i, tc.pattern, tc.key, got, redisSays)
		}
	}
}

func TestEscapeGlob(t *testing.T) {
	for _, s := range []string{"plain", "a*b", "q?", "[x]", `back\slash`, "*?[]\\", ""} {
		p := EscapeGlob(s)
		if !MatchGlob(p, s) {
			t.Errorf("EscapeGlob(%q) = %q does not match itself", s, p)
		}
		if s != "" && MatchGlob(p, s+"x") {
			t.Errorf("EscapeGlob(%q) = %q matches a longer key", s, p)
		}
		if HasGlob(p) {
			t.Errorf("HasGlob(EscapeGlob(%q)) = true", s)
		}
	}
	if !HasGlob("a*") || !HasGlob("a?") || !HasGlob("[a]") || HasGlob(`a\*`) {
		t.Error("HasGlob wrong")
	}
}

func FuzzEscapeGlob(f *testing.F) {
	for _, s := range []string{"", "a*b", "[", `\`, "x?y", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := EscapeGlob(s)
		if !MatchGlob(p, s) {
			t.Fatalf("EscapeGlob(%q) = %q does not match itself", s, p)
		}
		if MatchGlob(p, s+"!") {
			t.Fatalf("EscapeGlob(%q) = %q matches %q", s, p, s+"!")
		}
		if HasGlob(p) {
			t.Fatalf("escaped pattern %q has a glob", p)
		}
	})
}

func FuzzMatchGlob(f *testing.F) {
	for _, tc := range globCases {
		f.Add(tc.pattern, tc.key)
	}
	f.Fuzz(func(t *testing.T, pattern, key string) {
		// Must not panic or hang, and a trailing * can only widen a match.
		// Two patterns end open, and a "*" appended would change what
		// their end means (both are crashers of this test, kept in
		// testdata/fuzz/FuzzMatchGlob): a lone backslash, which matches a
		// literal backslash (as in Redis) but escapes the star after it, so
		// "a\" widens to "a\\*"; and an unterminated class, which runs to
		// the end of the pattern (as in Redis) and would take the star in.
		wide := pattern + "*"
		switch {
		case endsInClass(pattern):
			return
		case trailingBackslashes(pattern)%2 == 1:
			wide = pattern + `\*`
		}
		if MatchGlob(pattern, key) && !MatchGlob(wide, key) {
			t.Fatalf("%q matches %q but %q does not", pattern, key, wide)
		}
	})
}

// endsInClass reports whether pattern ends inside an unterminated [class,
// read as MatchGlob reads it.
func endsInClass(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			i++
		case '[':
			j := i + 1
			if j < len(pattern) && pattern[j] == '^' {
				j++
			}
			for {
				switch {
				case j >= len(pattern):
					return true
				case pattern[j] == '\\' && j+1 < len(pattern):
					j += 2
					continue
				case pattern[j] == ']':
				case j+2 < len(pattern) && pattern[j+1] == '-':
					j += 3
					continue
				default:
					j++
					continue
				}
				break
			}
			i = j
		}
	}
	return false
}

func trailingBackslashes(s string) int {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	return n
}
