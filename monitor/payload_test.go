package monitor

import (
	"strings"
	"testing"

	"github.com/cachescope/cachescope/internal/sanitize"
)

// inert reports whether s can be written to a terminal without any byte
// being interpreted: no control character other than newline, no C1
// control, no bidirectional override.
func inert(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if !sanitize.Safe(strings.ReplaceAll(line, `\`, "")) {
			return false
		}
	}
	return true
}

func TestFormatPayload(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, payload string
		kind          ValueKind
		want          string
	}{
		{"json object", `{"id":7,"tags":["a","b"],"price":9.5}`, KindJSON,
			"{\n  \"id\": 7,\n  \"tags\": [\n    \"a\",\n    \"b\"\n  ],\n  \"price\": 9.5\n}"},
		{"json array", ` [1, 2] `, KindJSON, "[\n  1,\n  2\n]"},
		{"json with an escaped escape", `{"s":"\u001b[31mred"}`, KindJSON, "{\n  \"s\": \"\\\\u001b[31mred\"\n}"},
		{"json with a raw bidi override", "{\"s\":\"a\u202eb\"}", KindJSON, "{\n  \"s\": \"a\\u202eb\"\n}"},
		{"broken json is text", `{"id":`, KindText, `{"id":`},
		{"a number is text", `42`, KindText, `42`},
		{"text keeps newlines", "line one\nline two", KindText, "line one\nline two"},
		{"terminal escapes are inert", "\x1b[2J\x1b]0;owned\x07hello", KindText, `\x1b[2J\x1b]0;owned\x07hello`},
		{"utf-8 text", "café ☕", KindText, "café ☕"},
		{"invalid utf-8 is binary", "ab\xff\xfecd", KindBinary, "00000000  61 62 ff fe 63 64                                 |ab..cd|"},
		{"NUL is binary", "a\x00b", KindBinary, "00000000  61 00 62                                          |a.b|"},
		{"empty", "", KindEmpty, ""},
	} {
		got, kind := FormatPayload(c.payload)
		if got != c.want || kind != c.kind {
			t.Errorf("%s: FormatPayload(%q) = %q, %s; want %q, %s", c.name, c.payload, got, kind, c.want, c.kind)
		}
		if !inert(got) {
			t.Errorf("%s: output is not inert: %q", c.name, got)
		}
	}
}

func TestPayloadPreviewIsOneInertLine(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		payload string
		cells   int
		want    string
	}{
		{"hello", 10, "hello"},
		{"hello world", 6, "hello…"},
		{"a\nb\x1b[31m", 40, `a\nb\x1b[31m`},
		{"\x1b]52;c;ZXZpbA==\x07", 40, `\x1b]52;c;ZXZpbA==\x07`},
		{strings.Repeat("x", 1<<20), 8, "xxxxxxx…"},
	} {
		got := PayloadPreview(c.payload, c.cells)
		if got != c.want || strings.Contains(got, "\n") || !sanitize.Safe(strings.ReplaceAll(got, `\`, "")) {
			t.Errorf("PayloadPreview(%.20q, %d) = %q, want %q", c.payload, c.cells, got, c.want)
		}
	}
}
