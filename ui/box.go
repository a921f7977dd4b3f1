package ui

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// box draws content in a rounded border of exactly width x height cells,
// with title set into the top border: ╭─ title ─────╮. Content is cut or
// padded to fit.
func (s Styles) box(title, content string, width, height int) string {
	if width < 4 || height < 2 {
		return ""
	}
	inner := width - 2
	b := lipgloss.RoundedBorder()
	border := s.Muted
	title = truncateCells(title, inner-3)
	top := border.Render(b.TopLeft+b.Top) + " " + s.BoxTitle.Render(title) + " "
	fill := inner - 3 - lipgloss.Width(title)
	top += border.Render(strings.Repeat(b.Top, max(0, fill)) + b.TopRight)

	lines := strings.Split(content, "\n")
	out := make([]string, 0, height)
	out = append(out, top)
	for i := 0; i < height-2; i++ {
		line := ""
		if i < len(lines) {
			line = lines[i]
		}
		out = append(out, border.Render(b.Left)+fitCells(line, inner)+border.Render(b.Right))
	}
	out = append(out, border.Render(b.BottomLeft+strings.Repeat(b.Bottom, inner)+b.BottomRight))
	return strings.Join(out, "\n")
}

// fitCells pads or cuts a (possibly styled) line to exactly w cells.
func fitCells(line string, w int) string {
	lw := lipgloss.Width(line)
	switch {
	case lw == w:
		return line
	case lw < w:
		return line + strings.Repeat(" ", w-lw)
	}
	return truncateCells(line, w)
}

// truncateCells cuts a possibly styled string to w cells, adding "…".
func truncateCells(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) <= w {
		return s
	}
	return ansiTruncate(s, w-1) + "…"
}

// fitBlock makes s exactly width x height cells: lines cut or padded,
// missing lines added, extra lines dropped.
func fitBlock(s string, width, height int) string {
	lines := strings.SplitN(s, "\n", height+1)
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		lines[i] = fitCells(l, width)
	}
	blank := strings.Repeat(" ", width)
	for len(lines) < height {
		lines = append(lines, blank)
	}
	return strings.Join(lines, "\n")
}
