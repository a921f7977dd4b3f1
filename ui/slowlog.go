package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// slowlogView shows the newest SLOWLOG entries and per-command statistics
// (calls/s, mean, p50 and p99 from LATENCY HISTOGRAM deltas). left/right
// move the focus between the two tables.
type slowlogView struct {
	ctx      *Context
	snap     *monitor.Snapshot
	width    int
	height   int
	entries  table
	commands table
	focus    int // 0 entries, 1 commands
}

func newSlowlog(ctx *Context) *slowlogView {
	v := &slowlogView{ctx: ctx}
	v.entries.cols = []column{{title: "time", width: 8}, {title: "duration", width: 9, right: true},
		{title: "client", width: 21}, {title: "command", width: 0}}
	v.commands.cols = []column{{title: "command", width: 0}, {title: "calls/s", width: 9, right: true},
		{title: "mean", width: 8, right: true}, {title: "p50", width: 8, right: true},
		{title: "p99", width: 8, right: true}, {title: "failed/s", width: 9, right: true},
		{title: "calls", width: 12, right: true}}
	v.entries.focus = true
	return v
}

func (v *slowlogView) Title() string   { return "Slowlog" }
func (v *slowlogView) Init() tea.Cmd   { return nil }
func (v *slowlogView) Capturing() bool { return false }

func (v *slowlogView) Help() []key.Binding {
	k := v.ctx.Keys
	return []key.Binding{
		key.NewBinding(key.WithKeys(k.Left.Keys()...), key.WithHelp(k.Left.Help().Key+"/"+k.Right.Help().Key, "switch table")),
		k.Up, k.Down, k.Top, k.Bottom,
	}
}

func (v *slowlogView) SetSize(width, height int) {
	v.width, v.height = width, height
	// The entries table gets the top half, less the detail lines under it.
	entriesH := max(1, (height-6)/2)
	v.entries.width, v.entries.height = width-2, entriesH
	v.commands.width, v.commands.height = width-2, max(1, height-entriesH-6)
	v.entries.clamp()
	v.commands.clamp()
}

func (v *slowlogView) Update(msg tea.Msg) (Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case SnapshotMsg:
		v.snap = msg.Snap
		v.entries.setRows(v.entryRows())
		v.commands.setRows(v.commandRows())
	case tea.KeyPressMsg:
		k := v.ctx.Keys
		t := v.focused()
		switch {
		case key.Matches(msg, k.Left, k.Right):
			v.focus = 1 - v.focus
			v.entries.focus, v.commands.focus = v.focus == 0, v.focus == 1
		case key.Matches(msg, k.Up):
			t.move(-1)
		case key.Matches(msg, k.Down):
			t.move(1)
		case key.Matches(msg, k.PageUp):
			t.move(-t.height)
		case key.Matches(msg, k.PageDown):
			t.move(t.height)
		case key.Matches(msg, k.Top):
			t.top()
		case key.Matches(msg, k.Bottom):
			t.bottom()
		}
	}
	return v, nil
}

func (v *slowlogView) focused() *table {
	if v.focus == 1 {
		return &v.commands
	}
	return &v.entries
}

func (v *slowlogView) entryRows() [][]string {
	rows := make([][]string, 0, len(v.snap.Slowlog))
	for _, e := range v.snap.Slowlog {
		client := sanitize.Line(e.ClientAddr)
		if e.ClientName != "" {
			client = sanitize.Line(e.ClientName) + " " + client
		}
		rows = append(rows, []string{e.Time.In(v.ctx.Location).Format("15:04:05"), fmtDuration(e.Duration), client, commandLine(e.Args, 200)})
	}
	return rows
}

// commandLine joins a command's arguments for display: each sanitized and
// cut, quoted when it has spaces, the whole cut to limit cells.
func commandLine(args []string, limit int) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		s := sanitize.Truncate(sanitize.Line(a), 64)
		if s == "" || strings.ContainsAny(s, " \"") {
			s = `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
		}
		parts = append(parts, s)
	}
	return sanitize.Truncate(strings.Join(parts, " "), limit)
}

func (v *slowlogView) commandRows() [][]string {
	rows := make([][]string, 0, len(v.snap.Commands))
	for _, c := range v.snap.Commands {
		p50, p99 := "-", "-"
		if c.Latency != nil {
			p50, p99 = fmtMicros(c.Latency.P50), fmtMicros(c.Latency.P99)
		}
		rows = append(rows, []string{sanitize.Line(c.Name), fmtCount(c.CallsPerSec), fmtMicros(c.MeanUsec),
			p50, p99, fmtCount(c.FailedPerSec), groupThousands(c.Calls)})
	}
	return rows
}

func (v *slowlogView) View() string {
	st := v.ctx.Styles
	if v.snap == nil {
		return st.Muted.Render("\n  Waiting for the first snapshot …")
	}
	var out []string
	out = append(out, v.sectionTitle("Slowlog", v.slowlogNote()))
	if reason, ok := v.snap.Unavailable[monitor.PanelSlowlog]; ok {
		out = append(out, st.Warn.Render("  not available: ")+sanitize.Line(reason))
		out = append(out, strings.Repeat("\n", v.entries.height))
	} else {
		out = append(out, indent(v.entries.view(st)))
		out = append(out, "  "+v.selectedDetail())
	}
	out = append(out, v.latencyEvents())
	out = append(out, v.sectionTitle("Commands", v.commandsNote()))
	if reason, ok := v.snap.Unavailable[monitor.PanelCommandStats]; ok {
		out = append(out, st.Warn.Render("  not available: ")+sanitize.Line(reason))
	} else {
		out = append(out, indent(v.commands.view(st)))
	}
	return strings.Join(out, "\n")
}

func (v *slowlogView) sectionTitle(name, note string) string {
	st := v.ctx.Styles
	return fitCells(" "+st.Bold.Render(name)+"  "+st.Muted.Render(note), v.width)
}

func (v *slowlogView) slowlogNote() string {
	s := v.snap
	if s.SlowlogAt.IsZero() {
		return "not fetched yet (every 30s)"
	}
	return fmt.Sprintf("%d entries, newest first · fetched %s ago", len(s.Slowlog),
		fmtDuration(v.ctx.Now().Sub(s.SlowlogAt).Truncate(1e9)))
}

func (v *slowlogView) commandsNote() string {
	s := v.snap
	note := "busiest first"
	if s.DetailWindow > 0 {
		note += " · rates over " + fmtDuration(s.DetailWindow.Round(1e8))
	} else {
		note += " · lifetime figures until the next refresh"
	}
	if _, ok := s.Unavailable[monitor.PanelLatencyHistogram]; ok {
		note += " · p50/p99 need LATENCY HISTOGRAM (Redis 7+)"
	}
	return note
}

// selectedDetail shows the selected entry's whole command, which the table
// cuts.
func (v *slowlogView) selectedDetail() string {
	if v.focus != 0 || len(v.snap.Slowlog) == 0 {
		return ""
	}
	e := v.snap.Slowlog[v.entries.cursor]
	return v.ctx.Styles.Muted.Render(fitCells(fmt.Sprintf("#%d ", e.ID)+commandLine(e.Args, 1000), v.width-2))
}

func (v *slowlogView) latencyEvents() string {
	st := v.ctx.Styles
	if reason, ok := v.snap.Unavailable[monitor.PanelLatencyEvents]; ok {
		return fitCells(st.Muted.Render(" latency events not available: "+sanitize.Line(reason)), v.width)
	}
	if len(v.snap.LatencyEvents) == 0 {
		return fitCells(st.Muted.Render(" no latency spikes recorded (LATENCY LATEST; needs latency-monitor-threshold)"), v.width)
	}
	parts := []string{}
	for _, e := range v.snap.LatencyEvents {
		parts = append(parts, fmt.Sprintf("%s %s (max %s) at %s", sanitize.Line(e.Name), fmtDuration(e.Latest),
			fmtDuration(e.Max), e.Time.In(v.ctx.Location).Format("15:04:05")))
	}
	return fitCells(" "+st.Label.Render("latency spikes: ")+strings.Join(parts, " · "), v.width)
}

func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n")
}
