package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// nodesView shows every server of the deployment: one row per node of a
// cluster (each master followed by its replicas) with its role, slots,
// ops/s, hit rate, memory, clients, replication lag and state, the
// hottest shard marked; the cluster's own state and failing slots; and
// the recent topology events (failovers, nodes down or back). For a
// single server or a Sentinel-managed master it shows that server and
// where its replicas stand.
type nodesView struct {
	ctx    *Context
	snap   *monitor.Snapshot
	width  int
	height int
	list   table
}

func newNodesView(ctx *Context) *nodesView {
	v := &nodesView{ctx: ctx}
	v.list.focus = true
	return v
}

// Columns of the node table: all of them from 110 columns up, the
// essential ones below.
var (
	nodeColumns = []column{{title: "node", width: 0, max: 64}, {title: "role", width: 8}, {title: "slots", width: 13},
		{title: "ops/s", width: 8, right: true}, {title: "hit", width: 6, right: true},
		{title: "memory", width: 18, right: true}, {title: "clients", width: 7, right: true},
		{title: "lag", width: 12, right: true}, {title: "state", width: 14}}
	compactNodeColumns = []int{0, 1, 3, 4, 8} // node, role, ops/s, hit, state
)

func (v *nodesView) compact() bool { return v.width < 110 }

func (v *nodesView) Title() string   { return "Nodes" }
func (v *nodesView) Init() tea.Cmd   { return nil }
func (v *nodesView) Capturing() bool { return false }
func (v *nodesView) SetSize(width, height int) {
	v.width, v.height = width, height
	if v.snap != nil {
		v.refresh()
	}
}

// refresh rebuilds the table for the snapshot and the width.
func (v *nodesView) refresh() {
	rows := v.rows()
	if !v.compact() {
		v.list.cols = nodeColumns
		v.list.setRows(rows)
		return
	}
	v.list.cols = make([]column, len(compactNodeColumns))
	for i, c := range compactNodeColumns {
		v.list.cols[i] = nodeColumns[c]
	}
	for r, row := range rows {
		short := make([]string, len(compactNodeColumns))
		for i, c := range compactNodeColumns {
			short[i] = row[c]
		}
		rows[r] = short
	}
	v.list.setRows(rows)
}

func (v *nodesView) Help() []key.Binding {
	k := v.ctx.Keys
	return []key.Binding{k.Up, k.Down}
}

func (v *nodesView) Update(msg tea.Msg) (Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case SnapshotMsg:
		v.snap = msg.Snap
		v.refresh()
	case tea.KeyPressMsg:
		k := v.ctx.Keys
		switch {
		case key.Matches(msg, k.Up):
			v.list.move(-1)
		case key.Matches(msg, k.Down):
			v.list.move(1)
		}
	}
	return v, nil
}

func (v *nodesView) rows() [][]string {
	st := v.ctx.Styles
	rows := make([][]string, 0, len(v.snap.Nodes))
	for _, n := range v.snap.Nodes {
		name := sanitize.Line(n.Addr)
		if n.Role != "master" && n.Role != "" {
			name = "  └ " + name
		}
		if n.Hottest {
			name += " ★"
		}
		slots := ""
		if n.SlotCount > 0 {
			slots = fmt.Sprintf("%d", n.SlotCount)
			if len(n.Slots) == 1 {
				slots = n.Slots[0].String()
			}
		}
		ops, hit := "-", "-"
		if n.Up && n.RatesValid {
			ops = fmtCount(n.OpsPerSec)
			if n.HitRateValid {
				hit = fmtPercent(n.HitRate)
			}
		}
		mem := fmtBytes(float64(n.UsedMemory))
		if n.MaxMemory > 0 {
			mem += " / " + fmtBytes(float64(n.MaxMemory))
		}
		lag := ""
		if n.LagKnown {
			lag = fmt.Sprintf("%s %ds", fmtBytes(float64(n.LagBytes)), n.LagSeconds)
		}
		rows = append(rows, []string{name, sanitize.Line(n.Role), slots, ops, hit, mem,
			fmtCount(float64(n.Clients)), lag, v.state(st, n)})
	}
	// A single master's replicas are not polled; its INFO says where they
	// stand.
	if v.snap.Cluster == nil {
		for _, r := range v.snap.Replication.Replicas {
			state := st.Up.Render(sanitize.Line(r.State))
			if r.State != "online" {
				state = st.Warn.Render(sanitize.Line(r.State))
			}
			lag := fmt.Sprintf("%s %ds", fmtBytes(float64(max(0, v.snap.Replication.Offset-r.Offset))), r.Lag)
			rows = append(rows, []string{"  └ " + sanitize.Line(r.Addr), "replica", "", "", "", "", "", lag, state})
		}
	}
	return rows
}

// state says how a node is, in words (colors are an extra, never the only
// signal): up, down with the reason, failing as the cluster sees it, or a
// replica whose link to its master is down.
func (v *nodesView) state(st Styles, n monitor.NodeStatus) string {
	switch {
	case !n.Up:
		reason := n.Reason
		if reason == "" {
			reason = n.Error
		}
		return st.Down.Render("DOWN") + " " + sanitize.Line(reason)
	case n.Health == "failed" || n.Health == "pfail":
		return st.Critical.Render(sanitize.Line(n.Health))
	case n.LinkStatus == "down":
		return st.Warn.Render("link down")
	case n.Health != "" && n.Health != "online":
		return st.Warn.Render(sanitize.Line(n.Health))
	}
	return st.Up.Render("up")
}

func (v *nodesView) View() string {
	st := v.ctx.Styles
	s := v.snap
	if s == nil {
		return st.Muted.Render("\n  waiting for the first snapshot…")
	}
	out := []string{v.header(s)}
	for _, a := range s.Alerts {
		if !topologyAlerts[a.ID] {
			continue
		}
		level := st.Warn.Render("WARN")
		if a.Level == monitor.Critical {
			level = st.Critical.Render("CRIT")
		}
		out = append(out, fitCells("   "+level+" "+sanitize.Line(a.Message), v.width))
	}
	out = append(out, "")
	events := v.eventLines(s, max(3, v.height/4))
	v.list.width = v.width - 2
	v.list.height = max(1, min(len(v.list.rows), v.height-len(out)-len(events)-2))
	v.list.clamp()
	out = append(out, indent(v.list.view(st)), "")
	out = append(out, events...)
	return strings.Join(out, "\n")
}

// topologyAlerts are the alerts about the deployment's shape, shown here
// too (the Overview shows them all).
var topologyAlerts = map[string]bool{
	monitor.AlertClusterState: true, monitor.AlertClusterSlots: true, monitor.AlertNodeDown: true,
	monitor.AlertFailover: true, monitor.AlertReplicationLink: true, monitor.AlertDown: true,
}

// header is the deployment in one line.
func (v *nodesView) header(s *monitor.Snapshot) string {
	st := v.ctx.Styles
	var parts []string
	switch {
	case s.Cluster != nil:
		c := s.Cluster
		state := st.Up.Render("ok")
		if c.State != "ok" {
			state = st.Critical.Render(sanitize.Line(c.State))
		}
		parts = append(parts, st.Bold.Render("Cluster")+" state "+state,
			fmt.Sprintf("%d masters, %d replicas", c.Masters, c.Replicas),
			fmt.Sprintf("slots %s/16,384 served", groupThousands(int64(c.SlotsOK))))
		if c.SlotsPFail+c.SlotsFail > 0 {
			parts = append(parts, st.Critical.Render(fmt.Sprintf("%d failing", c.SlotsPFail+c.SlotsFail)))
		}
		if c.NodesDown > 0 {
			parts = append(parts, st.Critical.Render(fmt.Sprintf("%d down", c.NodesDown)))
		}
		parts = append(parts, st.Muted.Render(fmt.Sprintf("epoch %d", c.CurrentEpoch)))
		if c.Error != "" {
			parts = append(parts, st.Warn.Render("topology: ")+sanitize.Line(c.Error))
		}
	case s.Sentinel != nil:
		m := s.Sentinel
		parts = append(parts, st.Bold.Render("Sentinel")+" master "+st.Value.Render(sanitize.Line(m.MasterAddr)))
		if m.Failovers > 0 {
			parts = append(parts, st.Warn.Render(fmt.Sprintf("%d failover(s), the last %s ago (was %s)",
				m.Failovers, fmtAge(v.ctx.Now().Sub(m.FailoverAt)), sanitize.Line(m.PreviousMaster))))
		}
	default:
		parts = append(parts, st.Bold.Render("Single server")+st.Muted.Render(" (not a cluster: its replicas are listed below when it has some)"))
	}
	return fitCells(" "+strings.Join(parts, "  ·  "), v.width)
}

// eventLines lists the newest topology events.
func (v *nodesView) eventLines(s *monitor.Snapshot, limit int) []string {
	st := v.ctx.Styles
	out := []string{" " + st.Bold.Render("Events")}
	if len(s.Events) == 0 {
		return append(out, st.Muted.Render("   no failover, restart or node change seen since start"))
	}
	from := max(0, len(s.Events)-limit)
	for i := len(s.Events) - 1; i >= from; i-- {
		e := s.Events[i]
		out = append(out, fitCells("   "+st.Muted.Render(e.Time.In(v.ctx.Location).Format("15:04:05"))+" "+sanitize.Line(e.Message), v.width))
	}
	return out
}
