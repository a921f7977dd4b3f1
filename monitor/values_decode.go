package monitor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cachescope/cachescope/cachecore"
)

// ValueKind says how DecodeValue rendered a value.
type ValueKind string

// Kinds of decoded values.
const (
	KindEmpty    ValueKind = "empty"    // zero bytes
	KindText     ValueKind = "text"     // valid UTF-8, shown as it is
	KindJSON     ValueKind = "json"     // a JSON object or array, pretty-printed
	KindEnvelope ValueKind = "envelope" // a cachecore entry: header, then the payload
	KindBinary   ValueKind = "binary"   // anything else, as a hex dump
)

// Decoded is a value rendered for display.
//
// Text is display-ready but NOT sanitized: it is the server's text (a JSON
// string may hold escape sequences, a text value control characters), so a
// terminal UI passes it through sanitize.Text before showing it. Hex dumps
// and envelope headers are plain ASCII.
type Decoded struct {
	// Kind is how the value was rendered.
	Kind ValueKind
	// Text is the rendering, possibly several lines.
	Text string
	// Envelope is the cachecore header of a KindEnvelope value.
	Envelope *EnvelopeInfo
	// PayloadKind is how an envelope's payload was rendered (KindJSON,
	// KindText, KindBinary or KindEmpty); for other kinds it is Kind.
	PayloadKind ValueKind
	// Truncated repeats DecodeValue's argument: the bytes were a prefix of
	// the value, so JSON that does not parse may be cut, not invalid.
	Truncated bool
}

// EnvelopeInfo is the header of a value written by cachecore.
type EnvelopeInfo struct {
	// Version is the envelope format version.
	Version int
	// Negative marks a negative-cache entry: the loader said "not found".
	Negative bool
	// ExpiresAt and LoadDuration are the early-refresh metadata, zero when
	// the entry was written without it.
	ExpiresAt    time.Time
	LoadDuration time.Duration
}

// DecodeValue renders raw (a string's bytes, or a prefix of them when
// truncated) for display: a cachecore envelope as its header then its
// payload, a JSON object or array pretty-printed, valid UTF-8 text as it
// is, anything else as a hex dump (see HexDump).
func DecodeValue(raw string, truncated bool) Decoded {
	if cachecore.IsEnvelope([]byte(raw[:min(len(raw), 3)])) {
		if env, err := cachecore.DecodeEnvelope([]byte(raw)); err == nil {
			payload := decodePlain(string(env.Payload), truncated)
			info := &EnvelopeInfo{Version: env.Version, Negative: env.Negative, ExpiresAt: env.ExpiresAt, LoadDuration: env.LoadDuration}
			return Decoded{
				Kind: KindEnvelope, Envelope: info, PayloadKind: payload.Kind, Truncated: truncated,
				Text: envelopeHeader(info) + "\n" + payload.Text,
			}
		}
	}
	d := decodePlain(raw, truncated)
	d.PayloadKind = d.Kind
	return d
}

func decodePlain(raw string, truncated bool) Decoded {
	d := Decoded{Truncated: truncated}
	switch {
	case raw == "":
		d.Kind, d.Text = KindEmpty, ""
	case isJSONDocument(raw):
		var b bytes.Buffer
		if json.Indent(&b, []byte(strings.TrimSpace(raw)), "", "  ") == nil {
			d.Kind, d.Text = KindJSON, b.String()
			break
		}
		fallthrough
	case isText(raw, truncated):
		d.Kind, d.Text = KindText, raw
	default:
		d.Kind, d.Text = KindBinary, HexDump(raw, 0)
	}
	return d
}

// isJSONDocument reports whether s is a whole JSON object or array.
func isJSONDocument(s string) bool {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return false
	}
	return json.Valid([]byte(t))
}

// isText reports whether s reads as text: valid UTF-8 (a rune cut by the
// end of a truncated read is forgiven), no NUL, and few control
// characters other than tab and line ends.
func isText(s string, truncated bool) bool {
	if truncated {
		// Drop a rune cut in half by the window's end.
		for i := 1; i <= utf8.UTFMax && i <= len(s); i++ {
			if utf8.RuneStart(s[len(s)-i]) {
				if !utf8.FullRuneInString(s[len(s)-i:]) {
					s = s[:len(s)-i]
				}
				break
			}
		}
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return false
	}
	controls := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			controls++
		}
	}
	return controls*4 <= len(s) // a few escape sequences in text are still text, shown escaped
}

// envelopeHeader renders an envelope's header as a few lines of ASCII.
func envelopeHeader(e *EnvelopeInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cachecore entry (format v%d)\n", e.Version)
	if e.Negative {
		b.WriteString("negative: the loader reported not found\n")
	}
	if !e.ExpiresAt.IsZero() {
		fmt.Fprintf(&b, "expires: %s\n", e.ExpiresAt.UTC().Format("2006-01-02 15:04:05.000Z"))
		fmt.Fprintf(&b, "load took: %s\n", e.LoadDuration)
	}
	return b.String()
}

// HexDump renders b like `hexdump -C`: per 16 bytes, the offset (starting
// at base), the bytes in hex and their printable ASCII ('.' otherwise).
// The result is plain ASCII.
func HexDump(b string, base int64) string {
	const hexDigits = "0123456789abcdef"
	var out strings.Builder
	out.Grow((len(b)/16 + 1) * 78)
	for off := 0; off < len(b); off += 16 {
		line := b[off:min(off+16, len(b))]
		fmt.Fprintf(&out, "%08x  ", base+int64(off))
		for i := 0; i < 16; i++ {
			if i < len(line) {
				out.WriteByte(hexDigits[line[i]>>4])
				out.WriteByte(hexDigits[line[i]&0xf])
				out.WriteByte(' ')
			} else {
				out.WriteString("   ")
			}
			if i == 7 {
				out.WriteByte(' ')
			}
		}
		out.WriteString(" |")
		for i := 0; i < len(line); i++ {
			if c := line[i]; c >= 0x20 && c < 0x7f {
				out.WriteByte(c)
			} else {
				out.WriteByte('.')
			}
		}
		out.WriteString("|\n")
	}
	return out.String()
}
