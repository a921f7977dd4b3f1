package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/cachescope/cachescope/internal/sanitize"
)

// statusBar shows health, target, version, mode, the write badge and the
// age of the data on the left, and a flash message or key hints on the
// right. When the terminal is narrow, the least useful parts go first.
func (a *App) statusBar() string {
	st := a.ctx.Styles
	var health string
	switch s := a.latest; {
	case s == nil:
		health = st.Muted.Render("○ connecting")
	case s.Health.Up:
		health = st.Up.Render("● UP")
	default:
		reason := s.Health.Reason
		if reason == "" {
			reason = s.Health.Error
		}
		health = st.Down.Render("● DOWN") + " " + sanitize.Line(reason)
	}
	badge := st.ReadOnly.Render("READ-ONLY")
	if a.ctx.Conn.Write {
		badge = st.Write.Render("WRITE")
	}
	// parts in display order, each with a priority: lower drops first.
	type part struct {
		text     string
		priority int
	}
	parts := []part{{health, 9}, {st.Value.Render(sanitize.Line(a.ctx.Conn.Display)), 8}}
	if s := a.latest; s != nil {
		switch {
		case s.Sentinel != nil && s.Sentinel.MasterAddr != "":
			parts = append(parts, part{"master " + sanitize.Line(s.Sentinel.MasterAddr), 6})
		case s.Cluster != nil:
			nodes := fmt.Sprintf("%d nodes", len(s.Nodes))
			if s.Cluster.NodesDown > 0 {
				nodes += st.Down.Render(fmt.Sprintf(" (%d down)", s.Cluster.NodesDown))
			}
			parts = append(parts, part{nodes, 6})
		}
	}
	if s := a.latest; s != nil && s.Server.Version != "" {
		parts = append(parts, part{"redis " + sanitize.Line(s.Server.Version), 2})
	}
	if a.ctx.Conn.Mode != "" {
		parts = append(parts, part{a.ctx.Conn.Mode, 3})
	}
	parts = append(parts, part{badge, 7})
	if s := a.latest; s != nil && !s.Health.LastUp.IsZero() {
		parts = append(parts, part{st.Muted.Render("updated " + fmtAge(a.ctx.Now().Sub(s.Health.LastUp)) + " ago"), 4})
	}

	right := st.Muted.Render(shortHelp(a.ctx.Keys.ShortHelp()))
	rightPriority := 5
	if a.flashText != "" && a.ctx.Now().Before(a.flashUntil) {
		style := st.Flash
		if a.flashLevel == flashWarn {
			style = st.Warn
		}
		right, rightPriority = style.Render(sanitize.Line(a.flashText)), 10
	}
	sep := st.Muted.Render(" · ")
	render := func(minPriority int) string {
		var keep []string
		for _, p := range parts {
			if p.priority >= minPriority {
				keep = append(keep, p.text)
			}
		}
		left := " " + strings.Join(keep, sep)
		if rightPriority < minPriority {
			return left
		}
		gap := a.width - lipgloss.Width(left) - lipgloss.Width(right) - 1
		if gap < 1 {
			return ""
		}
		return left + strings.Repeat(" ", gap) + right + " "
	}
	for min := 0; min <= 10; min++ {
		if line := render(min); line != "" && lipgloss.Width(line) <= a.width {
			return st.StatusBar.Render(fitCells(line, a.width))
		}
	}
	return st.StatusBar.Render(fitCells(" "+right, a.width))
}

// shortHelp renders bindings as "tab views · : command · ? help".
func shortHelp(bindings []key.Binding) string {
	parts := make([]string, 0, len(bindings))
	for _, b := range bindings {
		if !b.Enabled() {
			continue
		}
		h := b.Help()
		parts = append(parts, h.Key+" "+h.Desc)
	}
	return strings.Join(parts, " · ")
}
