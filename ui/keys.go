package ui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// maxRows caps the keys the view holds. Scrolling past it drops the oldest
// rows, so memory stays bounded however far the user scrolls through a
// keyspace of millions.
const maxRows = 10_000

// keysView browses the keyspace page by page (never the whole of it),
// shows metadata for the rows on screen and the selected key's value, and
// runs the write actions (delete, TTL, invalidate, bump) with backups and
// confirmations. Every Redis call runs in a command whose result comes
// back addressed with a generation, so an answer for an old filter is
// dropped.
type keysView struct {
	ctx     *Context
	keys    *monitor.Keys
	actions *monitor.Actions
	width   int
	height  int

	query   monitor.Query
	browser *monitor.Browser
	gen     int // the browse session; bumped by every new query
	loading bool
	page    monitor.Page // the last page, for its progress figures
	scanErr string

	rows    []string // raw keys, at most maxRows
	dropped int      // rows dropped off the top at the cap
	meta    map[string]monitor.KeyMeta
	metaGen int
	cancel  context.CancelFunc // the metadata request in flight
	marks   map[string]bool
	list    table

	treeMode bool
	tree     *monitor.Tree
	expanded map[string]bool
	nodes    []treeRow

	filter lineInput

	detail      valueViewer
	focusDetail bool

	dialog *dialog
	opGen  int // the running action; its progress and results carry it
	report *analysisReport
}

func newKeysView(ctx *Context, keys *monitor.Keys, actions *monitor.Actions) *keysView {
	v := &keysView{ctx: ctx, keys: keys, actions: actions, meta: map[string]monitor.KeyMeta{},
		marks: map[string]bool{}, expanded: map[string]bool{}}
	v.list.cols = []column{{title: "  key", width: 0}, {title: "type", width: 6},
		{title: "ttl", width: 8, right: true}, {title: "size", width: 9, right: true}}
	v.list.focus = true
	v.filter = newLineInput("/", "pattern [type]   e.g. session:* hash")
	v.detail = newValueViewer(ctx)
	return v
}

func (v *keysView) Title() string { return "Keys" }

func (v *keysView) Help() []key.Binding { return v.ctx.Keys.KeysHelp() }

// Capturing is true while the filter or a dialog takes text.
func (v *keysView) Capturing() bool {
	return v.filter.active || v.dialog != nil || v.report != nil
}

// Init does nothing: the scan starts when the view is first shown, so it
// reflects the keyspace of that moment, and a user who never opens the
// view costs the server nothing.
func (v *keysView) Init() tea.Cmd { return nil }

func (v *keysView) shown() tea.Cmd {
	if v.browser == nil {
		return v.browse(v.query)
	}
	return nil
}

func (v *keysView) hidden() {}

func (v *keysView) SetSize(width, height int) {
	v.width, v.height = width, height
	listW, detailW := v.split()
	v.list.width, v.list.height = listW, max(1, height-3)
	v.detail.setSize(detailW, max(1, height-1))
	v.list.clamp()
}

// split returns the widths of the list and of the detail pane: side by
// side on a wide terminal, one at a time on a narrow one.
func (v *keysView) split() (list, detail int) {
	if v.width >= 100 {
		list = v.width * 11 / 20
		return list, v.width - list - 1
	}
	return v.width, v.width
}

func (v *keysView) wide() bool { return v.width >= 100 }

// Messages, each addressed with the generation that asked.
type (
	keysPageMsg struct {
		gen  int
		page monitor.Page
		err  error
	}
	keysMetaMsg struct {
		gen   int
		metas []monitor.KeyMeta
		err   error
	}
	// keysCommandMsg carries a :keys, :invalidate or :analyze command line
	// to the view.
	keysCommandMsg struct {
		command string
		arg     string
	}
)

func (v *keysView) Update(msg tea.Msg) (Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case keysPageMsg:
		return v, v.onPage(msg)
	case keysMetaMsg:
		if msg.gen == v.metaGen && msg.err == nil {
			for _, m := range msg.metas {
				v.meta[m.Key] = m
			}
			v.refreshRows()
		}
		return v, nil
	case valueMsg:
		return v, v.detail.onValue(msg)
	case keysCommandMsg:
		return v, v.runCommand(msg)
	case actionMsg:
		return v, v.onAction(msg)
	case progressMsg:
		return v, v.onProgress(msg)
	case tea.KeyPressMsg:
		return v, v.onKey(msg)
	}
	if v.filter.active {
		return v, v.filter.updateOther(msg)
	}
	if v.dialog != nil && (v.dialog.kind == dialogTyped || v.dialog.kind == dialogInput) {
		var cmd tea.Cmd
		v.dialog.input, cmd = v.dialog.input.Update(msg)
		return v, cmd
	}
	return v, nil
}

func (v *keysView) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := v.ctx.Keys
	switch {
	case v.dialog != nil:
		cmd, done := v.dialog.update(msg)
		if done {
			v.dialog = nil
		}
		return cmd
	case v.report != nil:
		if key.Matches(msg, k.Back, k.Enter, k.Quit) {
			v.report = nil
		}
		return nil
	case v.filter.active:
		return v.onFilterKey(msg)
	case v.focusDetail && key.Matches(msg, k.Back, k.Left):
		v.focusDetail = false
		return nil
	case v.focusDetail:
		if cmd, ok := v.detail.onKey(msg); ok {
			return cmd
		}
	}
	switch {
	case key.Matches(msg, k.Filter):
		// Start from the current filter so it can be refined; the match-all
		// "*" is not worth keeping.
		q := queryText(v.query)
		if q == "*" {
			q = ""
		}
		return v.filter.open(q)
	case key.Matches(msg, k.Up):
		return v.move(-1)
	case key.Matches(msg, k.Down):
		return v.move(1)
	case key.Matches(msg, k.PageUp):
		return v.move(-v.list.height)
	case key.Matches(msg, k.PageDown):
		return v.move(v.list.height)
	case key.Matches(msg, k.Top):
		return v.move(-len(v.rows) - len(v.nodes))
	case key.Matches(msg, k.Bottom):
		return v.move(len(v.rows) + len(v.nodes))
	case key.Matches(msg, k.Enter, k.Right):
		return v.open()
	case key.Matches(msg, k.Left):
		return v.collapse()
	case key.Matches(msg, k.Tree):
		v.treeMode = !v.treeMode
		v.list.cursor, v.list.offset = 0, 0
		v.refreshRows()
		return v.requestMeta()
	case key.Matches(msg, k.Reload):
		return v.browse(v.query)
	case key.Matches(msg, k.Mark):
		v.toggleMark()
		return nil
	case key.Matches(msg, k.Delete):
		return v.startDelete()
	case key.Matches(msg, k.SetTTL):
		return v.startTTL()
	case key.Matches(msg, k.Invalidate):
		return v.startInvalidate(v.suggestedPattern())
	case key.Matches(msg, k.Bump):
		return v.startBump()
	}
	return nil
}

func (v *keysView) onFilterKey(msg tea.KeyPressMsg) tea.Cmd {
	value, submitted, cmd := v.filter.update(msg)
	if !submitted {
		return cmd
	}
	q, err := parseQuery(value)
	if err != nil {
		return warn(err.Error())
	}
	return v.browse(q)
}

// parseQuery reads "PATTERN [TYPE]".
func parseQuery(s string) (monitor.Query, error) {
	fields := strings.Fields(s)
	q := monitor.Query{}
	switch len(fields) {
	case 0:
	case 1:
		q.Pattern = fields[0]
	case 2:
		q.Pattern, q.Type = fields[0], strings.ToLower(fields[1])
	default:
		return q, errBadFilter
	}
	if q.Type != "" && !validTypes[q.Type] {
		return q, errBadFilter
	}
	return q, nil
}

var validTypes = map[string]bool{"string": true, "list": true, "set": true, "zset": true, "hash": true, "stream": true}

type filterError string

func (e filterError) Error() string { return string(e) }

const errBadFilter = filterError("filter: a glob pattern and an optional type (string, list, set, zset, hash, stream); escape spaces with \\ or use ? for them")

func queryText(q monitor.Query) string {
	s := q.Pattern
	if q.Type != "" {
		s += " " + q.Type
	}
	return s
}

// browse starts a new browse session for q and asks for its first page.
func (v *keysView) browse(q monitor.Query) tea.Cmd {
	b, err := v.keys.Browse(q)
	if err != nil {
		return warn(err.Error())
	}
	v.gen++
	v.query, v.browser = b.Query(), b
	v.rows, v.dropped, v.scanErr = nil, 0, ""
	v.meta = map[string]monitor.KeyMeta{}
	v.detail.key, v.focusDetail = "", false
	v.tree = monitor.NewTree("")
	v.list.cursor, v.list.offset = 0, 0
	v.refreshRows()
	return v.nextPage()
}

// nextPage asks for the next page unless one is on its way or the scan is
// done.
func (v *keysView) nextPage() tea.Cmd {
	if v.loading || v.browser == nil || v.browser.Done() {
		return nil
	}
	v.loading = true
	b, gen := v.browser, v.gen
	return func() tea.Msg {
		p, err := b.Next(context.Background())
		return keysPageMsg{gen: gen, page: p, err: err}
	}
}

func (v *keysView) onPage(msg keysPageMsg) tea.Cmd {
	if msg.gen != v.gen {
		return nil // an answer for a filter the user has left
	}
	v.loading = false
	if msg.err != nil {
		v.scanErr = msg.err.Error()
		return nil
	}
	v.scanErr = ""
	v.page = msg.page
	v.rows = append(v.rows, msg.page.Keys...)
	if over := len(v.rows) - maxRows; over > 0 {
		v.rows = append([]string(nil), v.rows[over:]...)
		v.dropped += over
		v.list.cursor = max(0, v.list.cursor-over)
		// The tree holds a node per key: rebuild it from the rows kept, so
		// it is bounded by the same cap.
		v.tree = monitor.NewTree("")
		v.tree.Add(v.rows...)
	} else {
		v.tree.Add(msg.page.Keys...)
	}
	v.tree.SetComplete(msg.page.Done)
	v.refreshRows()
	cmds := []tea.Cmd{v.requestMeta()}
	// Keep filling the screen: a short page (budget spent) or a screen not
	// yet full asks for more straight away, with its progress shown.
	if !msg.page.Done && v.visibleCount() < v.list.height+10 {
		cmds = append(cmds, v.nextPage())
	}
	if len(v.rows) > 0 && v.detail.key == "" {
		cmds = append(cmds, v.selectionChanged())
	}
	return tea.Batch(cmds...)
}

// move moves the cursor, loads more rows near the end and refreshes the
// metadata of what is now on screen.
func (v *keysView) move(delta int) tea.Cmd {
	before := v.list.cursor
	v.list.move(delta)
	cmds := []tea.Cmd{v.requestMeta()}
	// Load more as the cursor nears the end of the list; in the tree, only
	// at its very last row (a short tree would otherwise scan on every key).
	nearEnd := v.list.cursor >= v.visibleCount()-10
	if v.treeMode {
		nearEnd = delta > 0 && v.list.cursor == v.visibleCount()-1
	}
	if nearEnd {
		cmds = append(cmds, v.nextPage())
	}
	if v.list.cursor != before {
		cmds = append(cmds, v.selectionChanged())
	}
	return tea.Batch(cmds...)
}

// requestMeta fetches the metadata of the visible rows that lack it, in
// one pipeline, cancelling the previous request (the user scrolled away).
func (v *keysView) requestMeta() tea.Cmd {
	var want []string
	for _, k := range v.visibleKeys() {
		if _, ok := v.meta[k]; !ok {
			want = append(want, k)
		}
	}
	if len(want) == 0 {
		return nil
	}
	if v.cancel != nil {
		v.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	v.metaGen++
	gen, keys := v.metaGen, v.keys
	return func() tea.Msg {
		metas, err := keys.Meta(ctx, want)
		return keysMetaMsg{gen: gen, metas: metas, err: err}
	}
}

// selected returns the raw key under the cursor, or "".
func (v *keysView) selected() string {
	if v.treeMode {
		if n := v.selectedNode(); n != nil && n.node.Key {
			return n.node.Prefix
		}
		return ""
	}
	if v.list.cursor < len(v.rows) {
		return v.rows[v.list.cursor]
	}
	return ""
}

// selectionChanged loads the selected key into the detail pane.
func (v *keysView) selectionChanged() tea.Cmd {
	k := v.selected()
	if k == "" {
		return nil
	}
	return v.detail.load(v.keys, k)
}

// open enters the detail pane of a key, or expands a namespace.
func (v *keysView) open() tea.Cmd {
	if v.treeMode {
		if n := v.selectedNode(); n != nil && !n.node.Key {
			v.expanded[n.node.Prefix] = !v.expanded[n.node.Prefix]
			v.refreshRows()
			return v.requestMeta()
		}
	}
	if v.selected() == "" {
		return nil
	}
	v.focusDetail = true
	if v.detail.key != v.selected() {
		return v.selectionChanged()
	}
	return nil
}

func (v *keysView) collapse() tea.Cmd {
	if !v.treeMode {
		return nil
	}
	if n := v.selectedNode(); n != nil {
		if !n.node.Key && v.expanded[n.node.Prefix] {
			v.expanded[n.node.Prefix] = false
		} else if n.parent != "" {
			v.expanded[n.parent] = false
		}
		v.refreshRows()
	}
	return nil
}

func (v *keysView) toggleMark() {
	k := v.selected()
	if k == "" {
		return
	}
	if v.marks[k] {
		delete(v.marks, k)
	} else {
		v.marks[k] = true
	}
	v.move(1)
}

// runCommand handles :keys PATTERN, :invalidate PATTERN and :analyze.
func (v *keysView) runCommand(msg keysCommandMsg) tea.Cmd {
	switch msg.command {
	case "invalidate":
		return v.startInvalidate(msg.arg)
	case "analyze":
		return v.startAnalyze(msg.arg)
	}
	return nil
}

// keyLabel renders a key for the screen: sanitized, never raw.
func keyLabel(raw string) string { return sanitize.Line(raw) }

// commands are the Keys view's entries of the command line; the root's
// :keys entry (switching views) is replaced by one that also filters.
func (v *keysView) commands() []command {
	to := func(name string) func(a *App, args string) tea.Cmd {
		return func(a *App, args string) tea.Cmd {
			if name == "keys" {
				// Filter, then show: the first scan is the command's.
				q, err := parseQuery(args)
				if err != nil {
					return warn(err.Error())
				}
				if a.activePane() == Pane(v) || v.browser != nil {
					return tea.Batch(a.show(v.Title()), v.browse(q))
				}
				v.query = q
				return a.show(v.Title())
			}
			return tea.Batch(a.show(v.Title()), func() tea.Msg { return keysCommandMsg{command: name, arg: args} })
		}
	}
	return []command{
		{name: "invalidate", usage: "invalidate PATTERN: count, confirm, delete with a backup", run: to("invalidate")},
		{name: "analyze", usage: "analyze [PATTERN]: memory and TTLs per namespace, biggest keys", run: to("analyze")},
		{name: "keys", usage: "keys [PATTERN [TYPE]]: browse keys", run: to("keys")},
	}
}
