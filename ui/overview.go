package ui

import (
	"fmt"
	"math"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// overview is the first view: health, charts of ops/s, hit rate, memory,
// evictions and expirations (and network and clients when there is room),
// keys per database and the active alerts.
type overview struct {
	ctx    *Context
	snap   *monitor.Snapshot
	width  int
	height int
}

func newOverview(ctx *Context) *overview { return &overview{ctx: ctx} }

func (o *overview) Title() string             { return "Overview" }
func (o *overview) Init() tea.Cmd             { return nil }
func (o *overview) Help() []key.Binding       { return nil }
func (o *overview) Capturing() bool           { return false }
func (o *overview) SetSize(width, height int) { o.width, o.height = width, height }

func (o *overview) Update(msg tea.Msg) (Pane, tea.Cmd) {
	if m, ok := msg.(SnapshotMsg); ok {
		o.snap = m.Snap
	}
	return o, nil
}

func (o *overview) View() string {
	st := o.ctx.Styles
	s := o.snap
	if s == nil {
		return st.Muted.Render("\n  Connecting to " + o.ctx.Conn.Display + " …")
	}
	var top []string
	if !s.Health.Up {
		top = append(top, o.downBanner(s)...)
	} else {
		top = append(top, o.healthLine(s))
	}
	bottom := []string{o.keyspaceLine(s)}
	bottom = append(bottom, o.alertLines(s, max(2, o.height/5))...)

	chartsHeight := o.height - len(top) - len(bottom)
	charts := o.charts(s, chartsHeight)
	return strings.Join(top, "\n") + "\n" + charts + "\n" + strings.Join(bottom, "\n")
}

func (o *overview) healthLine(s *monitor.Snapshot) string {
	st := o.ctx.Styles
	h := s.Health
	parts := []string{
		st.Up.Render("● UP"),
		label(st, "rtt", fmtDuration(h.RTT)) + st.Muted.Render(fmt.Sprintf(" (min %s avg %s max %s)",
			fmtDuration(h.RTTMin), fmtDuration(h.RTTAvg), fmtDuration(h.RTTMax))),
	}
	if o.reported(s, "uptime_in_seconds") {
		parts = append(parts, label(st, "uptime", fmtDuration(s.Server.Uptime)))
	}
	parts = append(parts, label(st, "clients", fmtCount(float64(s.Clients.Connected)))+blocked(st, s.Clients.Blocked))
	if s.Rates.Valid && o.reported(s, "used_cpu_sys") {
		parts = append(parts, label(st, "cpu", fmt.Sprintf("%.1f%%", s.Rates.CPUPercent)))
	}
	if s.Replication.Role != "" {
		parts = append(parts, label(st, "role", sanitize.Line(s.Replication.Role)))
	}
	return fitCells(" "+strings.Join(parts, "   "), o.width)
}

func blocked(st Styles, n int64) string {
	if n == 0 {
		return ""
	}
	return st.Warn.Render(fmt.Sprintf(" (%d blocked)", n))
}

func label(st Styles, name, value string) string {
	return st.Label.Render(name+" ") + st.Value.Render(value)
}

// downBanner says the server is down, why (as the server or the network
// said it), and what to do.
func (o *overview) downBanner(s *monitor.Snapshot) []string {
	st := o.ctx.Styles
	h := s.Health
	since := ""
	if !h.Since.IsZero() {
		since = " for " + fmtDuration(o.ctx.Now().Sub(h.Since).Truncate(1e9))
	}
	lines := []string{
		" " + st.Down.Render("● DOWN") + since + "  " + sanitize.Line(h.Error),
		st.Muted.Render("   Retrying every tick: the dashboard recovers by itself when the server answers."),
		st.Muted.Render("   No server to try? Run: cachescope demo"),
	}
	for i, l := range lines {
		lines[i] = fitCells(l, o.width)
	}
	return lines
}

func (o *overview) keyspaceLine(s *monitor.Snapshot) string {
	st := o.ctx.Styles
	parts := []string{label(st, "keys", groupThousands(s.Keys))}
	for _, db := range s.Keyspace {
		parts = append(parts, fmt.Sprintf("db%d %s %s", db.DB, groupThousands(db.Keys),
			st.Muted.Render("("+groupThousands(db.Expires)+" with ttl)")))
	}
	switch {
	case len(s.Info.Fields) > 0 && !s.Info.Has("keyspace"):
		return fitCells(" "+st.Muted.Render("keys per database not reported by this server"), o.width)
	case len(s.Keyspace) == 0:
		parts = append(parts, st.Muted.Render("no keys"))
	}
	return fitCells(" "+strings.Join(parts, "   "), o.width)
}

// alertLines lists the active alerts, critical first, at most limit lines.
func (o *overview) alertLines(s *monitor.Snapshot, limit int) []string {
	st := o.ctx.Styles
	if len(s.Alerts) == 0 {
		return []string{" " + st.Up.Render("✓") + st.Muted.Render(" no alerts")}
	}
	out := []string{" " + st.Bold.Render(fmt.Sprintf("Alerts (%d)", len(s.Alerts)))}
	for i, a := range s.Alerts {
		if i == limit-1 && len(s.Alerts) > limit {
			out = append(out, st.Muted.Render(fmt.Sprintf("   … and %d more", len(s.Alerts)-i)))
			break
		}
		level := st.Warn.Render("WARN")
		if a.Level == monitor.Critical {
			level = st.Critical.Render("CRIT")
		}
		out = append(out, fitCells("   "+level+" "+sanitize.Line(a.Message), o.width))
	}
	return out
}

// charts lays the chart boxes out in two columns, in as many rows as fit.
func (o *overview) charts(s *monitor.Snapshot, height int) string {
	boxes := o.chartBoxes(s)
	rows := 2
	if height >= 3*8 {
		rows = 3
	}
	if height < 2*4 {
		rows = 1
	}
	rows = min(rows, (len(boxes)+1)/2)
	boxH := max(3, height/max(1, rows))
	leftW := o.width / 2
	widths := [2]int{leftW, o.width - leftW}
	var out []string
	for r := 0; r < rows; r++ {
		h := boxH
		if r == rows-1 {
			h = height - boxH*(rows-1) // the last row takes the remainder
		}
		var cells []string
		for c := 0; c < 2; c++ {
			i := r*2 + c
			if i >= len(boxes) {
				cells = append(cells, strings.Repeat(" ", widths[c]))
				continue
			}
			cells = append(cells, boxes[i](widths[c], h))
		}
		out = append(out, lipgloss.JoinHorizontal(lipgloss.Top, cells...))
	}
	return strings.Join(out, "\n")
}

// chartBox renders one box of the given size.
type chartBox func(width, height int) string

func (o *overview) chartBoxes(s *monitor.Snapshot) []chartBox {
	st := o.ctx.Styles
	h := s.History
	r := s.Rates
	window := o.windowLabel(s)

	ops := func(w, ht int) string {
		title := "ops/s " + o.rate(r.OpsPerSec, r.Valid) + window
		return st.box(title, plot(st, h.OpsPerSec, w-2, ht-2, st.Ops, fmtCount, autoScale), w, ht)
	}
	hit := func(w, ht int) string {
		rate := "-"
		if r.Valid && r.HitRateValid {
			rate = fmtPercent(r.HitRate)
		}
		title := "hit rate " + rate
		if r.Valid {
			title += fmt.Sprintf(" · %s hits/s %s misses/s", fmtCount(r.HitsPerSec), fmtCount(r.MissesPerSec))
		}
		return st.box(title, plot(st, h.HitRate, w-2, ht-2, st.HitRate, fmtPercent, hitRateScale), w, ht)
	}
	mem := func(w, ht int) string {
		m := s.Memory
		title := "memory " + fmtBytes(float64(m.Used))
		memScale := autoScale
		if m.Max > 0 {
			title += fmt.Sprintf(" / %s (%s)", fmtBytes(float64(m.Max)), fmtPercent(float64(m.Used)/float64(m.Max)))
			memScale = func([]float64, int) (float64, float64) { return 0, float64(m.Max) }
		} else {
			title += " (no maxmemory)"
		}
		if m.Policy != "" {
			title += " · " + sanitize.Line(m.Policy)
		}
		if m.FragmentationRatio > 0 {
			title += fmt.Sprintf(" · frag %.2f", m.FragmentationRatio)
		}
		return st.box(title, plot(st, h.UsedMemory, w-2, ht-2, st.Memory, fmtBytes, memScale), w, ht)
	}
	churn := func(w, ht int) string {
		title := "evicted/s " + o.rate(r.EvictedPerSec, r.Valid) + " · expired/s " + o.rate(r.ExpiredPerSec, r.Valid)
		return st.box(title, dualPlot(st, w-2, ht-2,
			series{"evicted", h.EvictedPerSec, st.Evicted, fmtCount},
			series{"expired", h.ExpiredPerSec, st.Expired, fmtCount}), w, ht)
	}
	net := func(w, ht int) string {
		title := "network in " + o.bytesRate(r.NetInPerSec, r.Valid) + " · out " + o.bytesRate(r.NetOutPerSec, r.Valid)
		return st.box(title, dualPlot(st, w-2, ht-2,
			series{"in", h.NetInPerSec, st.Network, fmtBytes},
			series{"out", h.NetOutPerSec, st.Ops, fmtBytes}), w, ht)
	}
	clients := func(w, ht int) string {
		title := fmt.Sprintf("clients %s · blocked %d", fmtCount(float64(s.Clients.Connected)), s.Clients.Blocked)
		return st.box(title, dualPlot(st, w-2, ht-2,
			series{"connected", h.Clients, st.Ops, fmtCount},
			series{"blocked", h.BlockedClients, st.Evicted, fmtCount}), w, ht)
	}
	boxes := []chartBox{ops, hit, mem, churn, net, clients}
	// Each box needs one INFO field; a server that does not report it (the
	// embedded demo server, some proxies) gets a note instead of a flat line.
	needs := []string{"total_commands_processed", "keyspace_hits", "used_memory", "evicted_keys",
		"total_net_input_bytes", "connected_clients"}
	titles := []string{"ops/s", "hit rate", "memory", "evicted/s · expired/s", "network", "clients"}
	for i := range boxes {
		if o.reported(s, needs[i]) {
			continue
		}
		title := titles[i]
		boxes[i] = func(w, ht int) string { return st.box(title, o.notReported(w-2), w, ht) }
	}
	return boxes
}

// reported tells whether the server's INFO has field. Before the first
// INFO everything counts as reported (the charts say "no data yet").
func (o *overview) reported(s *monitor.Snapshot, field string) bool {
	if len(s.Info.Fields) == 0 {
		return true
	}
	_, ok := s.Info.Get(field)
	return ok
}

func (o *overview) notReported(width int) string {
	msg := "not reported by this server"
	if o.ctx.Conn.Embedded {
		msg = "not reported by the embedded server\n(install redis-server for the full demo)"
	}
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		lines[i] = o.ctx.Styles.Muted.Render(fitCells("  "+l, width))
	}
	return "\n" + strings.Join(lines, "\n")
}

func (o *overview) rate(v float64, valid bool) string {
	if !valid {
		return "-"
	}
	return fmtCount(v)
}

func (o *overview) bytesRate(v float64, valid bool) string {
	if !valid {
		return "-"
	}
	return fmtBytes(v) + "/s"
}

// windowLabel says how much time the charts span.
func (o *overview) windowLabel(s *monitor.Snapshot) string {
	n := s.History.Len()
	if n < 2 {
		return ""
	}
	return o.ctx.Styles.Muted.Render(" · last " + fmtDuration(s.History.Times[n-1].Sub(s.History.Times[0]).Round(1e9)))
}

// scaleFunc picks the plotted range of the last n values.
type scaleFunc func(values []float64, n int) (lo, hi float64)

func autoScale(values []float64, n int) (float64, float64) { return scale(values, n) }

// hitRateScale zooms in on the part of 0..100% the data occupies, since
// the difference between 93% and 97% is what matters.
func hitRateScale(values []float64, n int) (float64, float64) {
	if len(values) > n {
		values = values[len(values)-n:]
	}
	lo := 1.0
	for _, v := range values {
		if !math.IsNaN(v) && v < lo {
			lo = v
		}
	}
	return math.Max(0, math.Floor(lo*10-0.5)/10), 1
}

// plot draws one series as a braille chart with its top and bottom values
// on a left axis.
func plot(st Styles, values []float64, width, height int, color lipgloss.Style, format func(float64) string, sc scaleFunc) string {
	if height <= 0 || width <= 8 {
		return ""
	}
	const axis = 8
	lo, hi := sc(values, 2*(width-axis-1))
	chart := lineChart(values, width-axis-1, height, lo, hi)
	if allNaN(values) {
		chart[height/2] = fitCells("  no data yet", width-axis-1)
	}
	// The axis and the chart are styled as two blocks (one Render each,
	// not one per line) and joined: rendering is most of a frame's cost.
	labels := make([]string, height)
	for i := range labels {
		lab := ""
		switch i {
		case 0:
			lab = format(hi)
		case height - 1:
			lab = format(lo)
		}
		labels[i] = fmt.Sprintf("%*s ", axis, truncateCells(lab, axis))
	}
	left := strings.Split(st.Muted.Render(strings.Join(labels, "\n")), "\n")
	right := strings.Split(color.Render(strings.Join(chart, "\n")), "\n")
	for i := range left {
		left[i] += right[i]
	}
	return strings.Join(left, "\n")
}

type series struct {
	name   string
	values []float64
	color  lipgloss.Style
	format func(float64) string
}

// dualPlot stacks two series, each with a label line and a chart of half
// the height (a sparkline when there is only room for one line each).
func dualPlot(st Styles, width, height int, a, b series) string {
	var out []string
	half := height / 2
	for i, s := range []series{a, b} {
		h := half
		if i == 1 {
			h = height - half
		}
		if h <= 0 {
			continue
		}
		cur := "-"
		if v, ok := lastValue(s.values); ok {
			cur = s.format(v)
		}
		if h == 1 {
			lab := fmt.Sprintf("%-9s %8s ", s.name, cur)
			room := width - len(lab)
			if room <= 0 {
				out = append(out, st.Muted.Render(truncateCells(lab, width)))
				continue
			}
			lo, hi := scale(s.values, room)
			out = append(out, st.Muted.Render(lab)+s.color.Render(sparkline(s.values, room, lo, hi)))
			continue
		}
		out = append(out, st.Muted.Render(s.name+" ")+cur)
		out = append(out, plot(st, s.values, width, h-1, s.color, s.format, autoScale))
	}
	return strings.Join(out, "\n")
}

func allNaN(values []float64) bool {
	for _, v := range values {
		if !math.IsNaN(v) {
			return false
		}
	}
	return true
}
