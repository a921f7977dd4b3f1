package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	cases := map[string]string{
		"user:1":             "user:1",
		"café ☕ 日本":          "café ☕ 日本",
		"a\nb":               `a\nb`,
		"\x1b[31mred\x1b[0m": `\x1b[31mred\x1b[0m`,
		"\x1b]0;pwned\x07":   `\x1b]0;pwned\x07`,
		"tab\there":          `tab\there`,
		"cr\rlf":             `cr\rlf`,
		"nul\x00":            `nul\x00`,
		"del\x7f":            `del\x7f`,
		"bin\xff\xfe":        `bin\xff\xfe`,
		`back\slash`:         `back\\slash`,
		"c1\u009b31m":        `c1\u009b31m`,
		"bidi\u202egnp.exe":  `bidi\u202egnp.exe`,
		"ls\u2028next":       `ls\u2028next`,
		"":                   "",
		"emoji 👍🏽 zwj 👨‍👩‍👧": "emoji 👍🏽 zwj 👨‍👩‍👧",
	}
	for in, want := range cases {
		if got := Line(in); got != want {
			t.Errorf("Line(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestText(t *testing.T) {
	got := Text("line1\n\tindented\x1b[2J\r\n")
	want := "line1\n    indented\\x1b[2J\\r\n"
	if got != want {
		t.Fatalf("Text = %q, want %q", got, want)
	}
}

func TestSafeFastPathDoesNotAllocate(t *testing.T) {
	s := "product:12345:details"
	if !Safe(s) {
		t.Fatal("plain key reported unsafe")
	}
	if n := testing.AllocsPerRun(100, func() { _ = Line(s) }); n != 0 {
		t.Fatalf("Line of a safe string allocates %v times", n)
	}
}

func TestTruncate(t *testing.T) {
	if got := Truncate("abcdef", 4); got != "abc…" {
		t.Fatalf("Truncate = %q", got)
	}
	if got := Truncate("日本語テキスト", 5); got != "日本…" {
		t.Fatalf("wide Truncate = %q", got)
	}
	if got := Truncate("abc", 3); got != "abc" {
		t.Fatalf("Truncate of a fitting string = %q", got)
	}
	if got := Truncate("abc", 0); got != "" {
		t.Fatalf("Truncate to 0 = %q", got)
	}
}

// assertInert checks what a terminal must never receive from server text.
func assertInert(t *testing.T, in, out string, multiline bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("output of %q is not valid UTF-8: %q", in, out)
	}
	for _, r := range out {
		if r < 0x20 && !(multiline && r == '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) || needsEscape(r) {
			t.Fatalf("output of %q contains %U: %q", in, r, out)
		}
	}
	if strings.ContainsRune(out, 0x1b) {
		t.Fatalf("ESC survived in %q", out)
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[31m", "\xff\xfe", "\u202e", "a\nb\tc", "\x9b", `\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line := Line(s)
		assertInert(t, s, line, false)
		assertInert(t, s, Text(s), true)
		if Safe(s) != (line == s) {
			t.Fatalf("Safe(%q) = %v but Line gives %q", s, Safe(s), line)
		}
		if tr := Truncate(line, 10); !utf8.ValidString(tr) {
			t.Fatalf("Truncate broke a rune: %q", tr)
		}
	})
}
