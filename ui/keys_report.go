package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/cachescope/cachescope/monitor"
)

// analysisReport shows the result of :analyze over the Keys view.
type analysisReport struct {
	a       monitor.Analysis
	partial bool
}

// startAnalyze runs a paced analysis of up to 100k keys (of the pattern,
// if given) with a progress bar; esc stops it and shows what it found so
// far. It only reads, so it is allowed in read-only mode.
func (v *keysView) startAnalyze(pattern string) tea.Cmd {
	q, err := parseQuery(pattern)
	if err != nil {
		return warn(err.Error())
	}
	keys := v.keys
	return v.runWithProgress("analyzing", func(ctx context.Context, progress func(float64, string)) tea.Msg {
		a, err := keys.Analyze(ctx, monitor.AnalyzeOptions{Query: q, Progress: func(a monitor.Analysis) {
			progress(ratio(a.Keys, int64(monitor.DefaultAnalyzeKeys)), fmt.Sprintf("%s keys analyzed · examined %s of ~%s",
				groupThousands(a.Keys), groupThousands(a.Examined), groupThousands(a.Total)))
		}})
		if ctx.Err() != nil {
			err = nil // stopped by the user: show the partial result
		}
		return actionMsg{view: "keys", kind: "analyze", report: &analysisReport{a: a, partial: ctx.Err() != nil}, err: err}
	})
}

func (r *analysisReport) view(st Styles, width, height int) string {
	a := r.a
	scope := "every key"
	if a.Query.Pattern != "" && a.Query.Pattern != "*" {
		scope = keyLabel(queryText(a.Query))
	}
	status := "complete"
	switch {
	case r.partial:
		status = "stopped early"
	case !a.Complete:
		status = fmt.Sprintf("a sample: the first %s keys", groupThousands(a.Keys))
	}
	out := []string{
		" " + st.Bold.Render("Analysis of "+scope) + st.Muted.Render(fmt.Sprintf("  %s · %s keys · %s · %s",
			status, groupThousands(a.Keys), fmtBytes(float64(a.Memory)), fmtDuration(a.Duration.Round(time.Millisecond)))),
		"",
		" " + st.Bold.Render("TTL") + "  " + ttlLine(st, a),
		"",
		" " + st.Bold.Render("Namespaces") + st.Muted.Render("  by memory"),
	}
	t := table{width: width - 2, height: max(3, height/2-6),
		cols: []column{{title: "prefix", width: 0}, {title: "keys", width: 10, right: true},
			{title: "memory", width: 10, right: true}, {title: "share", width: 7, right: true}, {title: "no ttl", width: 10, right: true}}}
	rows := make([][]string, 0, len(a.Namespaces))
	for _, n := range a.Namespaces {
		name := keyLabel(n.Prefix)
		switch {
		case n.Other:
			name = "(other prefixes)"
		case n.Prefix == "":
			name = "(no separator)"
		}
		rows = append(rows, []string{name, groupThousands(n.Keys), fmtBytes(float64(n.Memory)),
			fmtPercent(ratioF(n.Memory, a.Memory)), groupThousands(n.NoTTL)})
	}
	t.setRows(rows)
	out = append(out, indent(t.view(st)), "", " "+st.Bold.Render("Biggest keys"))
	big := table{width: width - 2, height: max(3, height-len(out)-4),
		cols: []column{{title: "key", width: 0}, {title: "type", width: 6}, {title: "ttl", width: 8, right: true},
			{title: "memory", width: 10, right: true}}}
	rows = rows[:0]
	for _, k := range a.Biggest {
		rows = append(rows, []string{keyLabel(k.Key), k.Type, monitor.FormatTTL(k.TTL, k.HasTTL), fmtBytes(float64(k.Memory))})
	}
	big.setRows(rows)
	out = append(out, indent(big.view(st)), st.Muted.Render(" esc closes"))
	return strings.Join(out, "\n")
}

// ttlLine is the TTL distribution, with keys without a TTL flagged: in a
// cache they live until evicted.
func ttlLine(st Styles, a monitor.Analysis) string {
	b := a.TTL
	none := fmt.Sprintf("no TTL %s (%s)", groupThousands(b.None), fmtPercent(ratioF(b.None, a.Keys)))
	if b.None > 0 {
		none = st.Warn.Render(none)
	}
	return none + st.Muted.Render(fmt.Sprintf(" · <1m %s · <1h %s · <1d %s · ≥1d %s",
		groupThousands(b.UnderMin), groupThousands(b.UnderHour), groupThousands(b.UnderDay), groupThousands(b.DayOrLonger)))
}

func ratioF(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
