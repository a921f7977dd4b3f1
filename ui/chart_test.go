package ui

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLineChartShape(t *testing.T) {
	// A rising line over 4 cells x 2 rows: the bottom-left dot and the
	// top-right dot are set, and the opposite corners are empty.
	values := []float64{0, 1, 2, 3, 4, 5, 6, 7}
	lines := lineChart(values, 4, 2, 0, 7)
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		if utf8.RuneCountInString(l) != 4 {
			t.Fatalf("line %q is not 4 cells", l)
		}
	}
	bottomLeft := []rune(lines[1])[0]
	topRight := []rune(lines[0])[3]
	if bottomLeft == ' ' || topRight == ' ' {
		t.Fatalf("line endpoints missing:\n%s", strings.Join(lines, "\n"))
	}
	if []rune(lines[0])[0] != ' ' || []rune(lines[1])[3] != ' ' {
		t.Fatalf("rising line drawn in the wrong corners:\n%s", strings.Join(lines, "\n"))
	}
}

func TestLineChartGapsAndAlignment(t *testing.T) {
	nan := math.NaN()
	lines := lineChart([]float64{1, nan, nan, 1}, 4, 1, 0, 2)
	row := []rune(lines[0])
	// 4 values in 8 dot columns: right-aligned, so the first two cells are
	// empty, and the NaN gap leaves the middle dots unset.
	if row[0] != ' ' || row[1] != ' ' {
		t.Fatalf("not right-aligned: %q", lines[0])
	}
	if row[2] == ' ' || row[3] == ' ' {
		t.Fatalf("values missing: %q", lines[0])
	}
	if lineChart(nil, 0, 3, 0, 1) != nil {
		t.Fatal("zero width chart")
	}
	// A flat or empty range must not divide by zero.
	_ = lineChart([]float64{5, 5, 5}, 3, 2, 5, 5)
}

func TestSparklineAndScale(t *testing.T) {
	if got := sparkline([]float64{0, 4, 8}, 5, 0, 8); got != "  ▁▅█" {
		t.Fatalf("sparkline = %q", got)
	}
	if got := sparkline([]float64{1, math.NaN(), 1}, 3, 0, 1); got != "█ █" {
		t.Fatalf("sparkline with gap = %q", got)
	}
	lo, hi := scale([]float64{math.NaN(), 10, 5}, 10)
	if lo != 0 || hi != 11 {
		t.Fatalf("scale = %v..%v", lo, hi)
	}
	if lo, hi := scale(nil, 10); lo != 0 || hi != 1 {
		t.Fatalf("empty scale = %v..%v", lo, hi)
	}
}

func TestFormatters(t *testing.T) {
	cases := []struct{ got, want string }{
		{fmtBytes(512), "512 B"},
		{fmtBytes(1536), "1.5 KiB"},
		{fmtBytes(3 << 30), "3.0 GiB"},
		{fmtBytes(700 << 20), "700 MiB"},
		{fmtCount(999), "999"},
		{fmtCount(1234), "1,234"},
		{fmtCount(12345), "12.3k"},
		{fmtCount(4_500_000), "4.5M"},
		{fmtCount(2.5), "2.5"},
		{fmtPercent(0.9321), "93.2%"},
		{fmtPercent(1), "100%"},
		{fmtDuration(210_000), "210µs"},
		{fmtDuration(4_500_000), "4.5ms"},
		{fmtDuration(200e9), "3m 20s"},
		{fmtDuration(3*86400e9 + 4*3600e9), "3d 4h"},
		{groupThousands(-1234567), "-1,234,567"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
