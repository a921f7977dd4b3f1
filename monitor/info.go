package monitor

import (
	"math"
	"strconv"
	"strings"
)

// Info is a parsed INFO reply. Parsing keeps every field as the server sent
// it, so fields this package does not interpret are still available.
//
// An Info is never modified after [ParseInfo] returns it, so it may be shared
// between goroutines.
type Info struct {
	// Sections maps a lower-cased section name ("server", "commandstats")
	// to that section's fields. Fields before any section header are in
	// section "".
	Sections map[string]map[string]string
	// Fields holds every field of every section; when a key repeats, the
	// last one wins.
	Fields map[string]string
}

// ParseInfo parses the text of an INFO reply: "# Section" headers and
// "key:value" lines, separated by CRLF or LF. Lines that are neither are
// ignored. It never panics, whatever the input.
func ParseInfo(text string) Info {
	info := Info{
		Sections: map[string]map[string]string{},
		Fields:   map[string]string{},
	}
	section := ""
	for len(text) > 0 {
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if line[0] == '#' {
			section = strings.ToLower(strings.TrimSpace(line[1:]))
			if info.Sections[section] == nil {
				info.Sections[section] = map[string]string{}
			}
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok || key == "" {
			continue
		}
		fields := info.Sections[section]
		if fields == nil {
			fields = map[string]string{}
			info.Sections[section] = fields
		}
		fields[key] = value
		info.Fields[key] = value
	}
	return info
}

// Has reports whether the reply had the named section (lower case), even
// an empty one.
func (i Info) Has(section string) bool {
	_, ok := i.Sections[section]
	return ok
}

// Get returns a field's raw value, from whichever section holds it.
func (i Info) Get(key string) (string, bool) {
	v, ok := i.Fields[key]
	return v, ok
}

// String returns a field's value, or "" when absent.
func (i Info) String(key string) string { return i.Fields[key] }

// Int returns a field as an integer; ok is false when it is absent or not an
// integer.
func (i Info) Int(key string) (int64, bool) {
	v, ok := i.Fields[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n, err == nil
}

// Float returns a field as a finite floating-point number; ok is false when
// it is absent, not a number, NaN or infinite.
func (i Info) Float(key string) (float64, bool) {
	v, ok := i.Fields[key]
	if !ok {
		return 0, false
	}
	return parseFinite(v)
}

func parseFinite(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// ParseFields splits a composite INFO value such as
// "keys=1,expires=0,avg_ttl=0" into its parts. Parts without '=' are
// ignored.
func ParseFields(value string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(value, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" {
			continue
		}
		out[k] = v
	}
	return out
}

// fieldInt reads an integer from a ParseFields map; absent or malformed
// values are 0.
func fieldInt(fields map[string]string, key string) int64 {
	n, err := strconv.ParseInt(fields[key], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// fieldFloat reads a finite float from a ParseFields map; absent or
// malformed values are 0.
func fieldFloat(fields map[string]string, key string) float64 {
	f, _ := parseFinite(fields[key])
	return f
}
