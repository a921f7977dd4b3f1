// Package sanitize makes untrusted text (key names, values, channel names,
// client names, slowlog arguments: anything a Redis server sends) safe to
// write to a terminal.
//
// Control characters and escape sequences are shown visibly ("\x1b",
// "\n") instead of being interpreted by the terminal, bytes that are not
// valid UTF-8 are shown as "\xff", and Unicode bidirectional overrides
// (which can make text display in a different order than it is stored)
// are shown as "\u202e". A literal backslash is doubled, so the escaped form
// is unambiguous. Printable text, including non-ASCII letters and emoji, is
// kept as is.
package sanitize

import (
	"strings"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// Line returns s made safe for one terminal line: every control character,
// including newline and tab, is escaped.
func Line(s string) string { return clean(s, false) }

// Text returns s made safe for a multi-line display: newlines are kept,
// tabs become four spaces, every other control character is escaped.
func Text(s string) string { return clean(s, true) }

// Safe reports whether s can be written to a terminal as it is (Line(s)
// == s).
func Safe(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '\\' {
			i++
			continue
		}
		if c < 0x80 {
			return false
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || needsEscape(r) {
			return false
		}
		i += size
	}
	return true
}

func clean(s string, multiline bool) string {
	if Safe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			i++
			switch {
			case c == '\\':
				b.WriteString(`\\`)
			case c >= 0x20 && c < 0x7f:
				b.WriteByte(c)
			case c == '\n' && multiline:
				b.WriteByte('\n')
			case c == '\t' && multiline:
				b.WriteString("    ")
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			default:
				writeHexByte(&b, c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			writeHexByte(&b, c)
		case needsEscape(r):
			b.WriteString(`\u`)
			for shift := 12; shift >= 0; shift -= 4 {
				b.WriteByte(hexDigits[(r>>shift)&0xf])
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func writeHexByte(b *strings.Builder, c byte) {
	b.WriteString(`\x`)
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&0xf])
}

// needsEscape reports the non-ASCII runes a terminal must not receive raw:
// C1 controls (U+0080-U+009F, which some terminals treat as escape
// introducers), line and paragraph separators, and the bidirectional
// embedding, override and isolate controls.
func needsEscape(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e || r == 0x200f, r == 0x061c:
		return true
	case r == 0xfeff: // zero-width no-break space, an invisible byte-order mark
		return true
	}
	return false
}

// Truncate shortens an already sanitized single-line string to at most
// max terminal cells, ending with "…" when it cut. It never splits a rune
// or an escape it produced.
func Truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if cellWidth(s) <= max {
		return s
	}
	var b strings.Builder
	w := 0
	for _, r := range s {
		rw := runeWidth(r)
		if w+rw > max-1 {
			break
		}
		b.WriteRune(r)
		w += rw
	}
	b.WriteString("…")
	return b.String()
}
