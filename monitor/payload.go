package monitor

import (
	"strings"

	"github.com/cachescope/cachescope/internal/sanitize"
)

// FormatPayload renders a message payload for a detail pane, as several
// lines that are safe to write to a terminal whatever the payload holds. It
// decodes like a key's value (DecodeValue): a JSON object or array
// pretty-printed, other UTF-8 text with newlines kept and every other
// control character or escape sequence escaped ("\x1b"), anything else
// (invalid UTF-8, mostly control bytes) as a hex dump.
func FormatPayload(payload string) (string, ValueKind) {
	d := DecodeValue(payload, false)
	// JSON forbids raw control characters in strings, but not the C1
	// controls or bidirectional overrides sanitize escapes.
	return strings.TrimRight(sanitize.Text(d.Text), "\n"), d.Kind
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
