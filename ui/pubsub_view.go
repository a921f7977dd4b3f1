package ui

import (
	"fmt"
	"strings"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// View draws the gauges, the channels, the tap's stream (or the selected
// message) and the key events.
func (v *pubsubView) View() string {
	st := v.ctx.Styles
	top := []string{v.gaugeLine()}
	// Parts may hold several lines (a table): count real lines, or the
	// bottom would be pushed off the screen.
	top = splitLines(append(top, v.channelLines(max(3, (v.height-6)/3))...))
	bottom := v.keyEventLines()
	room := max(3, v.height-len(top)-len(bottom)-1)
	var middle []string
	switch {
	case v.tap == nil:
		middle = v.tapOffLines()
	case v.detail:
		middle = v.detailLines(room)
	default:
		middle = append(middle, v.tapLine())
		v.messages.height = max(1, room-2)
		v.messages.clamp()
		middle = append(middle, indent(v.messages.view(st)))
	}
	out := append(top, "")
	out = append(out, splitLines(middle)...)
	for len(out) < v.height-len(bottom) {
		out = append(out, "")
	}
	out = append(out, bottom...)
	view := strings.Join(out, "\n")
	if v.dialog != nil {
		view = overlay(view, v.dialog.view(st, v.width), v.width, v.height)
	}
	return view
}

// gaugeLine is what the monitor's INFO gives for free.
func (v *pubsubView) gaugeLine() string {
	st := v.ctx.Styles
	s := v.snap
	if s == nil {
		return fitCells(st.Muted.Render(" waiting for the first snapshot…"), v.width)
	}
	p := s.PubSub
	rate := "-"
	if p.PublishValid {
		rate = fmtCount(p.PublishPerSec + p.SPublishPerSec)
	}
	parts := []string{
		label(st, "publish/s", rate),
		label(st, "channels", groupThousands(p.Channels)),
		label(st, "patterns", groupThousands(p.Patterns)),
	}
	if p.HasShardChannels {
		parts = append(parts, label(st, "shard channels", groupThousands(p.ShardChannels)))
	}
	return fitCells(" "+strings.Join(parts, "   "), v.width)
}

// channelLines lists the channels with subscribers, with the tap's rates
// beside them when it runs.
func (v *pubsubView) channelLines(limit int) []string {
	st := v.ctx.Styles
	head := " " + st.Bold.Render("Channels") + st.Muted.Render("  subscribers listed every 10s while this view is open")
	c := v.chans
	switch {
	case c == nil:
		return []string{fitCells(head, v.width), st.Muted.Render("  listing…")}
	case c.Error != "":
		return []string{fitCells(head, v.width), st.Warn.Render("  cannot list channels: ") + sanitize.Line(c.Error)}
	}
	rates := map[string]monitor.ChannelRate{}
	if v.tapSnap != nil {
		for _, r := range v.tapSnap.Channels {
			rates[r.Channel] = r
		}
	}
	t := table{width: v.width - 2, height: limit,
		cols: []column{{title: "channel", width: 0}, {title: "subs", width: 6, right: true},
			{title: "msgs/s", width: 8, right: true}, {title: "bytes/s", width: 10, right: true}, {title: "last minute", width: 24}}}
	rows := make([][]string, 0, len(c.Channels))
	for _, ch := range c.Channels {
		name := monitor.PayloadPreview(ch.Name, 60)
		if ch.Shard {
			name += " (shard)"
		}
		row := []string{name, groupThousands(ch.Subscribers), "", "", ""}
		if r, ok := rates[ch.Name]; ok {
			lo, hi := scale(r.History, 24)
			row[2], row[3], row[4] = fmtCount(r.MsgsPerSec), fmtBytes(r.BytesPerSec), sparkline(r.History, 24, lo, hi)
		}
		rows = append(rows, row)
	}
	// Channels the tap hears that nobody subscribes to by name (pattern
	// subscribers only, or none at all) are worth seeing too.
	if v.tapSnap != nil {
		listed := map[string]bool{}
		for _, ch := range c.Channels {
			listed[ch.Name] = true
		}
		for _, r := range v.tapSnap.Channels {
			if !listed[r.Channel] {
				lo, hi := scale(r.History, 24)
				rows = append(rows, []string{monitor.PayloadPreview(r.Channel, 60), "0", fmtCount(r.MsgsPerSec),
					fmtBytes(r.BytesPerSec), sparkline(r.History, 24, lo, hi)})
			}
		}
	}
	t.height = max(1, min(len(rows), limit))
	t.setRows(rows)
	note := fmt.Sprintf("  %d channels with subscribers by name (pattern subscribers are not counted per channel)", len(c.Channels))
	if c.Truncated {
		note += fmt.Sprintf(" (%d listed; only the first %d counted)", c.Listed, len(c.Channels))
	}
	if c.ShardUnavailable != "" {
		note += " · shard channels: " + sanitize.Line(c.ShardUnavailable)
	}
	if len(rows) == 0 {
		return []string{fitCells(head, v.width), st.Muted.Render("  no channel has a subscriber by name; press s to see what is published")}
	}
	return []string{fitCells(head, v.width), indent(t.view(st)), fitCells(st.Muted.Render(note), v.width)}
}

func (v *pubsubView) tapOffLines() []string {
	st := v.ctx.Styles
	lines := []string{
		" " + st.Bold.Render("Live tap") + st.Muted.Render("  off"),
		"  Press s to watch messages live (PSUBSCRIBE * on a connection of its own; start with --tap PATTERN too).",
		"  Messages go into a bounded ring (10,000); when the screen cannot keep up the tap drops and counts.",
		st.Muted.Render("  Sharded pub/sub (SPUBLISH) is not seen by patterns: tap shard channels by name with"),
		st.Muted.Render("  cachescope pubsub --shard CHANNEL."),
	}
	if v.tapErr != "" {
		lines = append(lines, st.Warn.Render("  the tap stopped: ")+sanitize.Line(v.tapErr))
	}
	for i, l := range lines {
		lines[i] = fitCells(l, v.width)
	}
	return lines
}

// tapLine is the tap's state and counters.
func (v *pubsubView) tapLine() string {
	st := v.ctx.Styles
	s := v.tapSnap
	if s == nil {
		return fitCells(" "+st.Bold.Render("Live tap")+st.Muted.Render("  subscribing…"), v.width)
	}
	stats := s.Stats
	state := string(stats.State)
	if stats.Paused {
		state = st.Warn.Render("PAUSED") + " (rates go on)"
	}
	parts := []string{st.Bold.Render("Live tap"), st.Muted.Render(sanitize.Line(strings.Join(s.Patterns, " "))), state,
		fmt.Sprintf("%s msgs/s", fmtCount(stats.MsgsPerSec)), fmtBytes(stats.BytesPerSec) + "/s",
		fmt.Sprintf("%s in ring", groupThousands(int64(stats.InRing)))}
	if stats.Dropped > 0 {
		parts = append(parts, st.Warn.Render(fmt.Sprintf("dropped %s", groupThousands(int64(stats.Dropped)))))
	}
	if stats.Disconnects > 0 {
		parts = append(parts, st.Warn.Render(fmt.Sprintf("disconnected %d× (reconnected)", stats.Disconnects)))
	}
	if v.query.Text != "" {
		parts = append(parts, "filter "+st.Value.Render(sanitize.Line(v.query.Text))+fmt.Sprintf(" (%d match)", s.Matched))
	}
	if v.filter.active {
		v.filter.SetWidth(max(10, v.width/3))
		parts = append(parts, v.filter.View())
	}
	if n := len(s.Events); n > 0 && s.Events[n-1].Kind != monitor.EventSubscribed {
		e := s.Events[n-1]
		parts = append(parts, st.Warn.Render(string(e.Kind)+": ")+sanitize.Line(e.Detail))
	}
	return fitCells(" "+strings.Join(parts, "  "), v.width)
}

// detailLines shows the selected message's whole (kept) payload,
// pretty-printed when it is JSON.
func (v *pubsubView) detailLines(room int) []string {
	st := v.ctx.Styles
	m := v.selectedMessage()
	if m == nil {
		return nil
	}
	text, kind := monitor.FormatPayload(m.Payload)
	head := fmt.Sprintf(" %s  %s  %s  %s", st.Bold.Render(monitor.PayloadPreview(m.Channel, 60)),
		m.Time.In(v.ctx.Location).Format("15:04:05.000"), fmtBytes(float64(m.Size)), kind)
	if m.Truncated() {
		head += st.Muted.Render(fmt.Sprintf("  (first %s kept)", fmtBytes(float64(len(m.Payload)))))
	}
	out := []string{fitCells(head, v.width)}
	for i, l := range strings.Split(text, "\n") {
		if i >= room-2 {
			out = append(out, st.Muted.Render("  …"))
			break
		}
		out = append(out, fitCells("  "+l, v.width))
	}
	return append(out, st.Muted.Render("  esc back"))
}

// keyEventLines shows expired, evicted and del events as live rates, or
// how to turn them on.
func (v *pubsubView) keyEventLines() []string {
	st := v.ctx.Styles
	head := " " + st.Bold.Render("Key events") + "  "
	switch {
	case v.kevErr != "":
		return []string{fitCells(head+st.Muted.Render("unavailable: "+sanitize.Line(v.kevErr)), v.width)}
	case v.kevCfg == nil:
		return []string{fitCells(head+st.Muted.Render("checking notify-keyspace-events…"), v.width)}
	case !v.kevCfg.Enabled():
		return []string{fitCells(head+st.Muted.Render(fmt.Sprintf("off (notify-keyspace-events %q). E turns on expired, evicted and del events (write mode, CONFIG SET, asks first).",
			sanitize.Line(v.kevCfg.Flags))), v.width)}
	case v.kevSnap == nil:
		return []string{fitCells(head+st.Muted.Render("subscribing…"), v.width)}
	}
	k := v.kevSnap
	rate := func(r monitor.KeyEventRate, style func(...string) string) string {
		lo, hi := scale(r.History, 20)
		return fmt.Sprintf("%s %s/s %s", r.Event, fmtCount(r.PerSec), style(sparkline(r.History, 20, lo, hi)))
	}
	line := head + rate(k.Expired, st.Expired.Render) + "   " + rate(k.Evicted, st.Evicted.Render) + "   " + rate(k.Del, st.Ops.Render)
	return []string{fitCells(line, v.width)}
}

// splitLines flattens parts that hold several lines into one line each.
func splitLines(parts []string) []string {
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		out = append(out, strings.Split(p, "\n")...)
	}
	return out
}
