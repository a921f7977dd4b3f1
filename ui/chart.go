package ui

import (
	"math"
	"strings"
)

// Charts are drawn with braille characters: each terminal cell holds a
// 2x4 grid of dots, so a 40x5 cell chart has 80 columns and 20 rows of
// resolution. The newest value sits at the right edge; NaN values (the
// server was down, no data yet) leave a gap.

// brailleBits[col][row] is the dot of a braille cell.
var brailleBits = [2][4]rune{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}

// lineChart renders the last 2*width values as a line chart of width x
// height cells, scaled to [lo, hi].
func lineChart(values []float64, width, height int, lo, hi float64) []string {
	if width <= 0 || height <= 0 {
		return nil
	}
	cols, rows := 2*width, 4*height
	if len(values) > cols {
		values = values[len(values)-cols:]
	}
	offset := cols - len(values) // right-align: the newest point at the edge
	grid := make([][]rune, height)
	for i := range grid {
		grid[i] = make([]rune, width)
	}
	span := hi - lo
	if span <= 0 || math.IsNaN(span) || math.IsInf(span, 0) {
		span = 1
	}
	dotRow := func(v float64) int {
		r := int(math.Round((hi - v) / span * float64(rows-1)))
		return max(0, min(rows-1, r))
	}
	prev := -1
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			prev = -1
			continue
		}
		x, y := offset+i, dotRow(v)
		from, to := y, y
		if prev >= 0 { // join to the previous point so steep changes stay a line
			from, to = min(prev, y), max(prev, y)
		}
		for row := from; row <= to; row++ {
			grid[row/4][x/2] |= brailleBits[x%2][row%4]
		}
		prev = y
	}
	lines := make([]string, height)
	for i, row := range grid {
		var b strings.Builder
		for _, bits := range row {
			if bits == 0 {
				b.WriteByte(' ')
			} else {
				b.WriteRune(0x2800 + bits)
			}
		}
		lines[i] = b.String()
	}
	return lines
}

var sparkLevels = []rune("▁▂▃▄▅▆▇█")

// sparkline renders the last width values as one line of block
// characters scaled to [lo, hi]; NaN is a space.
func sparkline(values []float64, width int, lo, hi float64) string {
	if width <= 0 {
		return ""
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	var b strings.Builder
	b.WriteString(strings.Repeat(" ", width-len(values)))
	span := hi - lo
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b.WriteByte(' ')
			continue
		}
		i := 0
		if span > 0 {
			i = int(math.Round((v - lo) / span * float64(len(sparkLevels)-1)))
		}
		b.WriteRune(sparkLevels[max(0, min(len(sparkLevels)-1, i))])
	}
	return b.String()
}

// scale returns the range to plot the last n values on: from 0 (rates and
// sizes are never negative) to a little above the largest value, so the
// line does not ride the top edge. A flat series gets a range of 1.
func scale(values []float64, n int) (lo, hi float64) {
	if n < 0 {
		n = 0
	}
	if len(values) > n {
		values = values[len(values)-n:]
	}
	hi = math.Inf(-1)
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) && v > hi {
			hi = v
		}
	}
	if math.IsInf(hi, -1) || hi <= 0 {
		return 0, 1
	}
	return 0, hi * 1.1
}

// lastValue returns the newest value that is not NaN.
func lastValue(values []float64) (float64, bool) {
	for i := len(values) - 1; i >= 0; i-- {
		if !math.IsNaN(values[i]) {
			return values[i], true
		}
	}
	return 0, false
}
