package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// helpView is the overlay shown by ?: the global bindings, then the
// active view's own, in columns, and the safety notes.
func (a *App) helpView() string {
	st := a.ctx.Styles
	k := a.ctx.Keys
	cols := append(k.FullHelp(), a.activePane().Help())
	titles := []string{"global", "move", a.activePane().Title()}
	var rendered []string
	for i, col := range cols {
		if len(col) == 0 {
			continue
		}
		title := ""
		if i < len(titles) {
			title = titles[i]
		}
		rendered = append(rendered, helpColumn(st, title, col))
	}
	body := lipgloss.JoinHorizontal(lipgloss.Top, rendered...)
	notes := []string{
		"",
		st.Bold.Render("Commands") + st.Muted.Render("  (press : then tab to complete)"),
		"  " + strings.Join(a.commandNames(), "  "),
		"",
	}
	if a.ctx.Conn.Write {
		notes = append(notes, st.Write.Render("WRITE mode")+st.Muted.Render(": deletions and invalidations ask for confirmation first."))
	} else {
		notes = append(notes, st.ReadOnly.Render("READ-ONLY")+st.Muted.Render(": "+a.ctx.Conn.ReadOnlyReason))
	}
	notes = append(notes, "", st.Muted.Render("press ? or esc to close"))
	return lipgloss.NewStyle().Padding(1, 2).Render(body + "\n" + strings.Join(notes, "\n"))
}

func helpColumn(st Styles, title string, bindings []key.Binding) string {
	lines := []string{st.Bold.Render(title)}
	for _, b := range bindings {
		if !b.Enabled() {
			continue
		}
		h := b.Help()
		lines = append(lines, st.HelpKey.Render(padRight(h.Key, 10))+st.HelpDesc.Render(h.Desc))
	}
	return lipgloss.NewStyle().PaddingRight(4).Render(strings.Join(lines, "\n"))
}

func padRight(s string, w int) string {
	if n := lipgloss.Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}
