package ui

import (
	"image/color"

	"charm.land/lipgloss/v2"
)

// Styles are every style the views use, built in one place from the
// palette. They are rebuilt when the terminal reports whether its
// background is light or dark; NO_COLOR is honoured by the renderer, which
// then drops every color, so no information is carried by color alone
// (levels also have words: UP, DOWN, WARN, CRIT).
type Styles struct {
	isDark bool

	App        lipgloss.Style
	Title      lipgloss.Style
	TabActive  lipgloss.Style
	Tab        lipgloss.Style
	Muted      lipgloss.Style
	Bold       lipgloss.Style
	Label      lipgloss.Style
	Value      lipgloss.Style
	Up         lipgloss.Style
	Down       lipgloss.Style
	Warn       lipgloss.Style
	Critical   lipgloss.Style
	ReadOnly   lipgloss.Style
	Write      lipgloss.Style
	StatusBar  lipgloss.Style
	Box        lipgloss.Style
	BoxTitle   lipgloss.Style
	Header     lipgloss.Style
	Selected   lipgloss.Style
	Flash      lipgloss.Style
	HelpKey    lipgloss.Style
	HelpDesc   lipgloss.Style
	CmdPrompt  lipgloss.Style
	Suggestion lipgloss.Style

	// Chart series, one color each.
	Ops, HitRate, Memory, Evicted, Expired, Network lipgloss.Style
}

// NewStyles builds the styles for a dark or a light background.
func NewStyles(isDark bool) Styles {
	ld := lipgloss.LightDark(isDark)
	var (
		fg      = ld(lipgloss.Color("#1f2328"), lipgloss.Color("#e6edf3"))
		muted   = ld(lipgloss.Color("#6e7781"), lipgloss.Color("#8b949e"))
		accent  = ld(lipgloss.Color("#0550ae"), lipgloss.Color("#79c0ff"))
		green   = ld(lipgloss.Color("#1a7f37"), lipgloss.Color("#3fb950"))
		red     = ld(lipgloss.Color("#cf222e"), lipgloss.Color("#ff7b72"))
		yellow  = ld(lipgloss.Color("#9a6700"), lipgloss.Color("#d29922"))
		purple  = ld(lipgloss.Color("#8250df"), lipgloss.Color("#d2a8ff"))
		orange  = ld(lipgloss.Color("#bc4c00"), lipgloss.Color("#ffa657"))
		barBg   = ld(lipgloss.Color("#eaeef2"), lipgloss.Color("#21262d"))
		selBg   = ld(lipgloss.Color("#ddf4ff"), lipgloss.Color("#1f3a5f"))
		borderC = ld(lipgloss.Color("#d0d7de"), lipgloss.Color("#30363d"))
	)
	s := Styles{isDark: isDark}
	s.App = lipgloss.NewStyle().Foreground(fg)
	s.Title = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.TabActive = lipgloss.NewStyle().Bold(true).Foreground(accent).Underline(true).Padding(0, 1)
	s.Tab = lipgloss.NewStyle().Foreground(muted).Padding(0, 1)
	s.Muted = lipgloss.NewStyle().Foreground(muted)
	s.Bold = lipgloss.NewStyle().Bold(true)
	s.Label = lipgloss.NewStyle().Foreground(muted)
	s.Value = lipgloss.NewStyle().Foreground(fg).Bold(true)
	s.Up = lipgloss.NewStyle().Foreground(green).Bold(true)
	s.Down = lipgloss.NewStyle().Foreground(red).Bold(true)
	s.Warn = lipgloss.NewStyle().Foreground(yellow).Bold(true)
	s.Critical = lipgloss.NewStyle().Foreground(red).Bold(true)
	s.ReadOnly = lipgloss.NewStyle().Foreground(yellow).Bold(true)
	s.Write = lipgloss.NewStyle().Foreground(orange).Bold(true)
	s.StatusBar = lipgloss.NewStyle().Background(barBg).Foreground(fg)
	s.Box = lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(borderC)
	s.BoxTitle = lipgloss.NewStyle().Bold(true).Foreground(accent)
	s.Header = lipgloss.NewStyle().Bold(true).Foreground(muted)
	s.Selected = lipgloss.NewStyle().Background(selBg).Bold(true)
	s.Flash = lipgloss.NewStyle().Foreground(yellow)
	s.HelpKey = lipgloss.NewStyle().Foreground(accent).Bold(true)
	s.HelpDesc = lipgloss.NewStyle().Foreground(muted)
	s.CmdPrompt = lipgloss.NewStyle().Foreground(accent).Bold(true)
	s.Suggestion = lipgloss.NewStyle().Foreground(muted)
	line := func(c color.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }
	s.Ops, s.HitRate, s.Memory = line(accent), line(green), line(purple)
	s.Evicted, s.Expired, s.Network = line(red), line(yellow), line(orange)
	return s
}
