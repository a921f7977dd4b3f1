package ui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/cachescope/cachescope/cachecore"
	"github.com/cachescope/cachescope/monitor"
)

// treeRow is one visible line of the tree mode.
type treeRow struct {
	node   *monitor.TreeNode
	depth  int
	parent string // the parent namespace's prefix, "" at the top
}

// refreshRows rebuilds the table's rows from the loaded keys (list mode) or
// from the expanded part of the namespace tree (tree mode).
func (v *keysView) refreshRows() {
	if v.treeMode {
		v.nodes = v.nodes[:0]
		var walk func(n *monitor.TreeNode, depth int, parent string)
		walk = func(n *monitor.TreeNode, depth int, parent string) {
			for _, c := range n.Children() {
				v.nodes = append(v.nodes, treeRow{node: c, depth: depth, parent: parent})
				if !c.Key && v.expanded[c.Prefix] {
					walk(c, depth+1, c.Prefix)
				}
			}
		}
		if v.tree != nil {
			walk(v.tree.Root(), 0, "")
		}
		rows := make([][]string, len(v.nodes))
		for i, r := range v.nodes {
			rows[i] = v.treeCells(r)
		}
		v.list.setRows(rows)
		return
	}
	rows := make([][]string, len(v.rows))
	for i, k := range v.rows {
		rows[i] = v.keyCells(k, keyLabel(k))
	}
	v.list.setRows(rows)
}

func (v *keysView) keyCells(k, name string) []string {
	mark := "  "
	if v.marks[k] {
		mark = "● "
	}
	m, ok := v.meta[k]
	switch {
	case !ok:
		return []string{mark + name, "…", "", ""}
	case !m.Exists:
		return []string{mark + name, "gone", "", ""}
	}
	size := "-"
	if m.Memory >= 0 {
		size = fmtBytes(float64(m.Memory))
	}
	return []string{mark + name, m.Type, monitor.FormatTTL(m.TTL, m.HasTTL), size}
}

func (v *keysView) treeCells(r treeRow) []string {
	indent := strings.Repeat("  ", r.depth)
	if r.node.Key {
		return v.keyCells(r.node.Prefix, indent+"  "+keyLabel(r.node.Name))
	}
	sign := "▸ "
	if v.expanded[r.node.Prefix] {
		sign = "▾ "
	}
	count := groupThousands(r.node.Count)
	if r.node.Partial {
		count += "+"
	}
	noun := " keys"
	if r.node.Count == 1 && !r.node.Partial {
		noun = " key"
	}
	return []string{indent + sign + keyLabel(r.node.Prefix), "", "", count + noun}
}

func (v *keysView) visibleCount() int {
	if v.treeMode {
		return len(v.nodes)
	}
	return len(v.rows)
}

// visibleKeys are the keys on screen, whose metadata is worth fetching.
func (v *keysView) visibleKeys() []string {
	end := min(v.visibleCount(), v.list.offset+v.list.height)
	var out []string
	for i := v.list.offset; i < end; i++ {
		if v.treeMode {
			if n := v.nodes[i].node; n.Key {
				out = append(out, n.Prefix)
			}
			continue
		}
		out = append(out, v.rows[i])
	}
	return out
}

func (v *keysView) selectedNode() *treeRow {
	if v.list.cursor < len(v.nodes) {
		return &v.nodes[v.list.cursor]
	}
	return nil
}

// suggestedPattern is what the invalidate dialog starts with: the selected
// namespace, the current filter, or the selected key.
func (v *keysView) suggestedPattern() string {
	if v.treeMode {
		if n := v.selectedNode(); n != nil && !n.node.Key {
			return cachecore.EscapeGlob(n.node.Prefix) + "*"
		}
	}
	if v.query.Pattern != "" && v.query.Pattern != "*" {
		return v.query.Pattern
	}
	return ""
}

// View draws the filter line, the list (and the detail pane beside it on a
// wide terminal), and any dialog over them.
func (v *keysView) View() string {
	st := v.ctx.Styles
	listW, detailW := v.split()
	header := v.header(listW)
	var body string
	switch {
	case v.report != nil:
		body = v.report.view(st, v.width, v.height-1)
	case !v.wide() && v.focusDetail:
		body = v.detail.view(st, v.focusDetail)
	case !v.wide():
		body = v.listView(listW)
	default:
		left := fitBlock(v.listView(listW), listW, v.height-1)
		right := fitBlock(v.detail.view(st, v.focusDetail), detailW, v.height-1)
		sep := strings.TrimSuffix(strings.Repeat(st.Muted.Render("│")+"\n", v.height-1), "\n")
		body = lipgloss.JoinHorizontal(lipgloss.Top, left, sep, right)
	}
	out := header + "\n" + body
	if v.dialog != nil {
		out = overlay(out, v.dialog.view(st, v.width), v.width, v.height)
	}
	return out
}

func (v *keysView) header(width int) string {
	st := v.ctx.Styles
	if v.filter.active {
		v.filter.SetWidth(max(10, v.width-4))
		return fitCells(" "+v.filter.View(), v.width)
	}
	q := queryText(v.query)
	if q == "*" {
		q = "* (every key)"
	}
	parts := []string{st.Label.Render("filter ") + st.Value.Render(keyLabel(q))}
	if v.treeMode {
		parts = append(parts, st.Bold.Render("tree")+st.Muted.Render(" (counts of the keys loaded; :analyze counts all)"))
	}
	if len(v.marks) > 0 {
		parts = append(parts, st.Warn.Render(fmt.Sprintf("%d marked", len(v.marks))))
	}
	parts = append(parts, st.Muted.Render(v.progress()))
	if !v.ctx.Conn.Write {
		parts = append(parts, st.ReadOnly.Render("read-only"))
	}
	return fitCells(" "+strings.Join(parts, "  "), v.width)
}

// progress says how far the scan got: "120 keys · examined 40,000 of
// ~1,000,000 · scanning…".
func (v *keysView) progress() string {
	p := v.page
	s := countNoun(int64(len(v.rows)+v.dropped), "key")
	if v.dropped > 0 {
		s += fmt.Sprintf(" (the first %s dropped to bound memory)", groupThousands(int64(v.dropped)))
	}
	switch {
	case v.scanErr != "":
		return s + " · scan failed: " + keyLabel(v.scanErr) + " (r retries)"
	case p.Exact:
		return "exact lookup"
	case p.Done:
		return s + " · scan complete"
	}
	s += fmt.Sprintf(" · examined %s of ~%s", groupThousands(p.Examined), groupThousands(p.Total))
	if v.loading {
		s += " · scanning…"
	} else {
		s += " · more below"
	}
	return s
}

func (v *keysView) listView(width int) string {
	st := v.ctx.Styles
	v.list.width = width
	if v.visibleCount() == 0 {
		msg := "no keys match"
		switch {
		case v.loading || v.browser == nil:
			msg = "scanning…"
		case v.scanErr != "":
			msg = "the scan failed: " + keyLabel(v.scanErr)
		case !v.page.Done:
			msg = "no match yet in the keys examined; scroll or press r to go on"
		}
		return st.Muted.Render("\n  " + msg)
	}
	return v.list.view(st)
}
