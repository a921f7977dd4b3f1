package monitor

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/cachescope/cachescope/internal/sanitize"
)

// PayloadKind says how [FormatPayload] rendered a payload.
type PayloadKind string

// Kinds of payload rendering.
const (
	// PayloadJSON: a JSON object or array, pretty-printed.
	PayloadJSON PayloadKind = "json"
	// PayloadText: UTF-8 text, with control characters shown escaped.
	PayloadText PayloadKind = "text"
	// PayloadBinary: a hex dump with an ASCII column.
	PayloadBinary PayloadKind = "binary"
)

// FormatPayload renders a message payload for a detail pane, as several
// lines that are safe to write to a terminal whatever the payload holds: a
// JSON object or array is pretty-printed (two-space indent); other UTF-8
// text is shown with newlines kept and every other control character or
// escape sequence escaped ("\x1b"); anything else (invalid UTF-8, mostly
// control bytes) is a hex dump.
func FormatPayload(payload string) (string, PayloadKind) {
	if looksLikeJSON(payload) {
		var b bytes.Buffer
		if err := json.Indent(&b, []byte(strings.TrimSpace(payload)), "", "  "); err == nil {
			// JSON forbids raw control characters in strings, but not the
			// C1 controls or bidirectional overrides sanitize escapes.
			return sanitize.Text(b.String()), PayloadJSON
		}
	}
	if isText(payload) {
		return sanitize.Text(payload), PayloadText
	}
	return strings.TrimRight(hex.Dump([]byte(payload)), "\n"), PayloadBinary
}

// PayloadPreview renders a payload (or a channel name) on one line of at
// most cells terminal cells, control characters escaped, ending with "…"
// when cut.
func PayloadPreview(payload string, cells int) string {
	// Only what can show is sanitized: a 16 KiB payload costs no more
	// than a short one.
	if limit := 4*cells + 16; len(payload) > limit {
		payload = cutPayload(payload, limit)
	}
	return sanitize.Truncate(sanitize.Line(payload), cells)
}

func looksLikeJSON(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return false
	}
	first, last := s[0], s[len(s)-1]
	return (first == '{' && last == '}') || (first == '[' && last == ']')
}

// isText reports whether s is UTF-8 without NUL bytes and with few other
// control characters (newline, carriage return and tab do not count): text
// that holds a few escape sequences is text, shown escaped; a blob is
// binary.
func isText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	controls := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0:
			return false
		case c < 0x20 && c != '\n' && c != '\r' && c != '\t', c == 0x7f:
			controls++
		}
	}
	return controls*3 <= len(s)
}
