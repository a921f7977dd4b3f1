package ui

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// appView shows what the application's cachecore caches report about
// themselves (their telemetry in Redis): hit rate per namespace, misses,
// load times, errors, breaker state and rate-limit decisions, per instance
// and summed. It reads the telemetry every two seconds, two round trips
// each, only while it is shown.
type appView struct {
	ctx    *Context
	poller *monitor.AppPoller
	width  int
	height int
	snap   *monitor.AppSnapshot
	tag    int
}

func newAppView(ctx *Context, poller *monitor.AppPoller) *appView {
	return &appView{ctx: ctx, poller: poller}
}

func (v *appView) Title() string             { return "App" }
func (v *appView) Init() tea.Cmd             { return nil }
func (v *appView) Help() []key.Binding       { return nil }
func (v *appView) Capturing() bool           { return false }
func (v *appView) SetSize(width, height int) { v.width, v.height = width, height }

type (
	appSnapMsg struct {
		tag  int
		snap *monitor.AppSnapshot
	}
	appTickMsg struct{ tag int }
)

func (v *appView) shown() tea.Cmd {
	v.tag++
	return v.read(v.tag)
}

func (v *appView) hidden() { v.tag++ }

func (v *appView) read(tag int) tea.Cmd {
	p := v.poller
	return func() tea.Msg { return appSnapMsg{tag: tag, snap: p.Poll(context.Background())} }
}

func (v *appView) Update(msg tea.Msg) (Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case appSnapMsg:
		if msg.tag == v.tag {
			v.snap = msg.snap
			tag := v.tag
			return v, tea.Tick(v.poller.Options().Interval, func(time.Time) tea.Msg { return appTickMsg{tag} })
		}
	case appTickMsg:
		if msg.tag == v.tag {
			return v, v.read(msg.tag)
		}
	}
	return v, nil
}

func (v *appView) View() string {
	st := v.ctx.Styles
	s := v.snap
	switch {
	case s == nil:
		return st.Muted.Render("\n  reading the application's telemetry…")
	case s.NoInstances:
		return v.howTo(s)
	}
	out := []string{v.summary(s), ""}
	nsRows := max(3, (v.height-8)/2)
	out = append(out, " "+st.Bold.Render("Namespaces")+st.Muted.Render("  summed over the live instances; rates over the last 10s"))
	out = append(out, indent(v.namespaceTable(s, nsRows).view(st)))
	if len(s.Limiters) > 0 {
		out = append(out, "", " "+st.Bold.Render("Rate limits"))
		out = append(out, indent(v.limiterTable(s, max(2, min(len(s.Limiters), 6))).view(st)))
	}
	out = append(out, "", " "+st.Bold.Render("Instances"))
	room := max(2, v.height-len(out)-1)
	out = append(out, indent(v.instanceTable(s, room).view(st)))
	return strings.Join(out, "\n")
}

func (v *appView) summary(s *monitor.AppSnapshot) string {
	st := v.ctx.Styles
	t := s.Total
	hit := "-"
	if t.HitRateValid {
		hit = fmtPercent(t.HitRate)
	}
	parts := []string{
		label(st, "instances", fmt.Sprintf("%d live of %d", s.Live, len(s.Instances))),
		label(st, "hit rate", hit),
		label(st, "hits/s", fmtCount(t.HitsPerSec)),
		label(st, "misses/s", fmtCount(t.MissesPerSec)),
		label(st, "loads/s", fmtCount(t.LoadsPerSec)),
	}
	if t.MeanLoadValid {
		parts = append(parts, label(st, "load time", fmtDuration(t.MeanLoadTime)))
	}
	if t.ErrorsPerSec > 0 {
		parts = append(parts, st.Warn.Render(fmt.Sprintf("errors/s %s", fmtCount(t.ErrorsPerSec))))
	}
	if s.Error != "" {
		parts = append(parts, st.Warn.Render("read failed: ")+sanitize.Line(s.Error))
	}
	return fitCells(" "+strings.Join(parts, "   "), v.width)
}

func (v *appView) namespaceTable(s *monitor.AppSnapshot, height int) *table {
	t := &table{width: v.width - 2, height: height, cols: []column{
		{title: "namespace", width: 0}, {title: "hit rate", width: 9, right: true}, {title: "trend", width: 20},
		{title: "hits/s", width: 9, right: true}, {title: "misses/s", width: 9, right: true},
		{title: "loads/s", width: 8, right: true}, {title: "load time", width: 10, right: true},
		{title: "errors/s", width: 9, right: true}}}
	rows := make([][]string, 0, len(s.Namespaces))
	for _, n := range s.Namespaces {
		hit, load := "-", "-"
		if n.HitRateValid {
			hit = fmtPercent(n.HitRate)
		}
		if n.MeanLoadValid {
			load = fmtDuration(n.MeanLoadTime)
		}
		rows = append(rows, []string{sanitize.Line(n.Name), hit, rateTrend(n.History.HitRate, 20),
			fmtCount(n.HitsPerSec), fmtCount(n.MissesPerSec), fmtCount(n.LoadsPerSec), load, fmtCount(n.ErrorsPerSec)})
	}
	t.height = max(1, min(len(rows), height))
	t.setRows(rows)
	return t
}

func (v *appView) limiterTable(s *monitor.AppSnapshot, height int) *table {
	t := &table{width: v.width - 2, height: height, cols: []column{
		{title: "limiter", width: 0}, {title: "allowed/s", width: 10, right: true}, {title: "denied/s", width: 10, right: true},
		{title: "denied", width: 8, right: true}, {title: "trend (denied)", width: 20}}}
	rows := make([][]string, 0, len(s.Limiters))
	for _, l := range s.Limiters {
		deny := "-"
		if l.DenyRatioValid {
			deny = fmtPercent(l.DenyRatio)
		}
		lo, hi := scale(l.History.DenyRatio, 20)
		rows = append(rows, []string{sanitize.Line(l.Name), fmtCount(l.AllowedPerSec), fmtCount(l.DeniedPerSec), deny,
			sparkline(l.History.DenyRatio, 20, lo, math.Max(hi, 0.1))})
	}
	t.height = max(1, min(len(rows), height))
	t.setRows(rows)
	return t
}

func (v *appView) instanceTable(s *monitor.AppSnapshot, height int) *table {
	st := v.ctx.Styles
	t := &table{width: v.width - 2, height: height, cols: []column{
		{title: "instance", width: 0}, {title: "host", width: 16}, {title: "pid", width: 7, right: true},
		{title: "breaker", width: 10}, {title: "hit rate", width: 9, right: true}, {title: "errors/s", width: 9, right: true},
		{title: "reported", width: 10, right: true}}}
	rows := make([][]string, 0, len(s.Instances))
	for _, in := range s.Instances {
		hit := "-"
		if in.RatesValid && in.Total.HitRateValid {
			hit = fmtPercent(in.Total.HitRate)
		}
		breaker := sanitize.Line(in.Breaker)
		if in.Breaker != "closed" {
			breaker = st.Critical.Render(breaker)
		}
		id := sanitize.Line(in.ID)
		if in.Stale {
			id = st.Muted.Render(id + " (stale)")
		}
		rows = append(rows, []string{id, sanitize.Line(in.Host), fmt.Sprint(in.PID), breaker, hit,
			fmtCount(in.Total.ErrorsPerSec), fmtAge(v.ctx.Now().Sub(in.Reported)) + " ago"})
	}
	t.height = max(1, min(len(rows), height))
	t.setRows(rows)
	return t
}

// rateTrend is a sparkline of a ratio series on a scale that starts just
// below its lowest value, as the Overview's hit-rate chart does.
func rateTrend(values []float64, width int) string {
	lo, hi := hitRateScale(values, width)
	return sparkline(values, width, lo, hi)
}

// howTo says how to make the application report, when nothing does.
func (v *appView) howTo(s *monitor.AppSnapshot) string {
	st := v.ctx.Styles
	lines := []string{
		"",
		"  " + st.Bold.Render("No application reports telemetry to this server yet."),
		"",
		"  cachecore writes its counters into Redis when telemetry is on, and",
		"  this view shows them: hit rate per namespace, load times, errors,",
		"  breaker state and rate-limit decisions. In the service:",
		"",
		st.Value.Render(`    cache, _ := cachecore.New(cachecore.Options{`),
		st.Value.Render(`        Redis: rdb, Telemetry: 5 * time.Second})`),
		st.Value.Render(`    cache.ReportLimiter(limiter) // rate limits too`),
		"",
		st.Muted.Render("  It costs one pipeline per interval; the keys live under"),
		st.Muted.Render("  {cachescope-telemetry}: with a TTL. Try it: cachescope demo"),
	}
	if s.Error != "" {
		lines = append(lines, "", st.Warn.Render("  reading the telemetry failed: ")+sanitize.Line(s.Error))
	}
	for i, l := range lines {
		lines[i] = fitCells(l, v.width)
	}
	return strings.Join(lines, "\n")
}
