package ui

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cachescope/cachescope/monitor"
)

// FuzzRenderValue feeds arbitrary bytes (a string value, or the fields of
// a collection's elements) through the value decoder and the Keys view's
// value renderer: nothing panics, the decoder's kinds keep their promises,
// and every rendered line is inert (valid UTF-8, no control character or
// escape sequence, no line break).
func FuzzRenderValue(f *testing.F) {
	for _, seed := range []struct {
		raw       string
		truncated bool
		kind      byte
	}{
		{"", false, 0}, {"plain text", false, 0}, {`{"a":[1,2,{"b":null}]}`, false, 0}, {"[1,2", true, 0},
		{"\xcc\x01\x00" + `{"id":42}`, false, 0}, {"\xcc\x01\x01", false, 0},
		{"\xcc\x01\x02\x00\x00\x01\x8f\x00\x00\x00\x00\x00\x00\x03\xe8payload", false, 0},
		{"\xcc\x01\x02\x00", false, 0}, {"\x00\x01\x02\xff\xfe", false, 0}, {"caf\xc3", true, 0},
		{"\x1b[2J\x1b]0;title\x07", false, 0}, {"\"\\u001b[31m\"", false, 0}, {`["\u001b[31mred"]`, false, 0},
		{"field\x1bvalue", false, 1}, {"\u202eevil", false, 2}, {"a\nb", false, 3}, {"m", false, 4}, {"1-0", false, 5},
	} {
		f.Add(seed.raw, seed.truncated, seed.kind)
	}
	types := []string{monitor.TypeString, monitor.TypeHash, monitor.TypeList, monitor.TypeSet, monitor.TypeZSet, monitor.TypeStream}
	f.Fuzz(func(t *testing.T, raw string, truncated bool, kind byte) {
		d := monitor.DecodeValue(raw, truncated)
		switch d.Kind {
		case monitor.KindEmpty:
			if raw != "" {
				t.Fatalf("%q decoded as empty", raw)
			}
		case monitor.KindText:
			if d.Text != raw {
				t.Fatalf("text %q rendered as %q", raw, d.Text)
			}
		case monitor.KindJSON:
			if !json.Valid([]byte(d.Text)) {
				t.Fatalf("JSON rendering of %q is not JSON: %q", raw, d.Text)
			}
		case monitor.KindBinary:
			for i := 0; i < len(d.Text); i++ {
				if c := d.Text[i]; c >= 0x7f || (c < 0x20 && c != '\n') {
					t.Fatalf("hex dump of %q holds byte %#x", raw, c)
				}
			}
		case monitor.KindEnvelope:
			if d.Envelope == nil || d.PayloadKind == "" {
				t.Fatalf("envelope %q without its header or payload kind: %+v", raw, d)
			}
		default:
			t.Fatalf("%q decoded as kind %q", raw, d.Kind)
		}

		page := monitor.ValuePage{Type: types[int(kind)%len(types)], Data: raw, Length: int64(len(raw))}
		if truncated {
			page.Length++
		}
		if page.Type != monitor.TypeString {
			half := len(raw) / 2
			page.Elements = []monitor.Element{{Field: raw[:half], Value: raw[half:], Index: int64(kind), Score: float64(len(raw)),
				Pairs: []string{raw, raw[half:], raw[:half]}}}
		}
		for _, line := range renderValue(page) {
			if !utf8.ValidString(line) {
				t.Fatalf("rendering of %q: invalid UTF-8 line %q", raw, line)
			}
			for _, r := range line {
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
					t.Fatalf("rendering of %q (%s): line %q holds %U", raw, page.Type, line, r)
				}
			}
			if strings.ContainsRune(line, 0x1b) {
				t.Fatalf("ESC survived in %q", line)
			}
		}
	})
}
