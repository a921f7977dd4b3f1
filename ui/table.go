package ui

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// column of a table: a header, a width (0 = take the remaining space, up
// to max when max > 0) and whether values are right-aligned (numbers).
type column struct {
	title string
	width int
	right bool
	max   int
}

// table is a scrollable list of rows with a cursor. Cells must already be
// sanitized; the table only fits them to their columns.
type table struct {
	cols   []column
	rows   [][]string
	cursor int
	offset int
	height int // rows visible, header excluded
	width  int
	focus  bool
}

func (t *table) setRows(rows [][]string) {
	t.rows = rows
	t.clamp()
}

func (t *table) move(delta int) {
	t.cursor += delta
	t.clamp()
}

func (t *table) top()    { t.cursor = 0; t.clamp() }
func (t *table) bottom() { t.cursor = len(t.rows) - 1; t.clamp() }

func (t *table) clamp() {
	t.cursor = max(0, min(t.cursor, len(t.rows)-1))
	if t.height <= 0 {
		return
	}
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+t.height {
		t.offset = t.cursor - t.height + 1
	}
	t.offset = max(0, min(t.offset, max(0, len(t.rows)-t.height)))
}

// widths resolves the column widths for the table's width; the first
// column of width 0 takes the space left.
func (t *table) widths() []int {
	w := make([]int, len(t.cols))
	used, flex := 0, -1
	for i, c := range t.cols {
		w[i] = c.width
		if c.width == 0 && flex < 0 {
			flex = i
		}
		used += w[i] + 1
	}
	if flex >= 0 {
		w[flex] = max(4, t.width-used)
		if m := t.cols[flex].max; m > 0 {
			w[flex] = min(w[flex], m)
		}
	}
	return w
}

func (t *table) view(st Styles) string {
	widths := t.widths()
	cells := func(vals []string) string {
		parts := make([]string, len(t.cols))
		for i, c := range t.cols {
			v := ""
			if i < len(vals) {
				v = vals[i]
			}
			v = truncateCells(v, widths[i])
			pad := strings.Repeat(" ", max(0, widths[i]-lipgloss.Width(v)))
			if c.right {
				parts[i] = pad + v
			} else {
				parts[i] = v + pad
			}
		}
		return strings.Join(parts, " ")
	}
	header := make([]string, len(t.cols))
	for i, c := range t.cols {
		header[i] = c.title
	}
	out := []string{st.Header.Render(fitCells(cells(header), t.width))}
	end := min(len(t.rows), t.offset+t.height)
	for i := t.offset; i < end; i++ {
		line := fitCells(cells(t.rows[i]), t.width)
		if t.focus && i == t.cursor {
			line = st.Selected.Render(stripANSI(line))
		}
		out = append(out, line)
	}
	for len(out) < t.height+1 {
		out = append(out, "")
	}
	return strings.Join(out, "\n")
}
