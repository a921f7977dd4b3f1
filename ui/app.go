// Package ui is the cachescope dashboard: a Bubble Tea program with one
// pane per view (Overview, Slowlog, ...), a tab bar, a status bar, a help
// overlay and a command line. It renders what package monitor produces and
// never talks to Redis from Update: every Redis call runs in a tea.Cmd or a
// background goroutine whose result comes back as a message.
package ui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/monitor"
)

// Options configure the dashboard.
type Options struct {
	// Keys are the bindings (see keymap.go at the module root).
	Keys KeyMap
	// Conn describes the connection.
	Conn ConnInfo
	// Snapshots delivers the monitor's snapshots; the dashboard reads it
	// until it is closed.
	Snapshots <-chan *monitor.Snapshot
	// Keys browses the keyspace and Actions writes to it (both optional:
	// without Keys there is no Keys view; without Actions every write is
	// refused).
	Keyspace *monitor.Keys
	Actions  *monitor.Actions
	// Redis is the client the Pub/Sub and App views read with (their
	// pollers and the tap). nil leaves those views out.
	Redis redis.UniversalClient
	// Tap starts the live pub/sub tap at once with these patterns.
	Tap []string
	// Now replaces time.Now and Location time.Local in tests.
	Now      func() time.Time
	Location *time.Location
}

// App is the root model.
type App struct {
	ctx    *Context
	panes  []Pane
	active int
	width  int
	height int

	snaps   <-chan *monitor.Snapshot
	latest  *monitor.Snapshot
	ageTag  int
	help    bool
	cmdline cmdline

	flashText  string
	flashLevel flashLevel
	flashUntil time.Time
}

// New builds the dashboard.
func New(opts Options) *App {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	ctx := &Context{Keys: opts.Keys, Styles: NewStyles(true), Conn: opts.Conn, Now: opts.Now, Location: opts.Location}
	a := &App{ctx: ctx, snaps: opts.Snapshots}
	a.panes = []Pane{newOverview(ctx)}
	if opts.Keyspace != nil {
		a.panes = append(a.panes, newKeysView(ctx, opts.Keyspace, opts.Actions))
	}
	if opts.Redis != nil {
		a.panes = append(a.panes, newPubSubView(ctx, opts.Redis, opts.Actions, opts.Tap),
			newAppView(ctx, monitor.NewAppPoller(opts.Redis, monitor.AppOptions{})))
	}
	a.panes = append(a.panes, newNodesView(ctx), newSlowlog(ctx))
	a.cmdline = newCmdline(ctx, a.commandNames())
	return a
}

// ageTickMsg re-renders the "updated Xs ago" age once a second. The tag
// makes a stale tick (from before a re-arm) die out instead of doubling the
// loop.
type ageTickMsg struct{ tag int }

func (a *App) ageTick() tea.Cmd {
	tag := a.ageTag
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return ageTickMsg{tag: tag} })
}

// Init starts reading snapshots, the age ticker and asks the terminal for
// its background color (to pick light or dark styles).
func (a *App) Init() tea.Cmd {
	cmds := []tea.Cmd{waitSnapshot(a.snaps), a.ageTick(), tea.RequestBackgroundColor}
	for _, p := range a.panes {
		cmds = append(cmds, p.Init())
	}
	return tea.Batch(cmds...)
}

// failoverFlash says so in the status bar when a failover happened
// between two snapshots (Sentinel switched masters, or a cluster replica
// took over).
func failoverFlash(prev, cur *monitor.Snapshot) tea.Cmd {
	if prev == nil || cur == nil {
		return nil
	}
	var since time.Time
	if n := len(prev.Events); n > 0 {
		since = prev.Events[n-1].Time
	}
	for i := len(cur.Events) - 1; i >= 0; i-- {
		e := cur.Events[i]
		if !e.Time.After(since) {
			break
		}
		if e.Kind == monitor.TopologyFailover {
			return warn(e.Message)
		}
	}
	return nil
}

// waitSnapshot is a command that blocks on the channel for one snapshot;
// the root re-arms it after each.
func waitSnapshot(ch <-chan *monitor.Snapshot) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		s, ok := <-ch
		if !ok {
			return nil
		}
		return SnapshotMsg{Snap: s}
	}
}

// Update routes messages: global keys here, everything else to the panes.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		a.resize()
		return a, nil
	case tea.BackgroundColorMsg:
		a.ctx.Styles = NewStyles(msg.IsDark())
		return a, nil
	case ageTickMsg:
		if msg.tag != a.ageTag {
			return a, nil
		}
		return a, a.ageTick()
	case SnapshotMsg:
		prev := a.latest
		a.latest = msg.Snap
		return a, tea.Batch(a.broadcast(msg), waitSnapshot(a.snaps), failoverFlash(prev, msg.Snap))
	case flashMsg:
		a.flashText, a.flashLevel = msg.text, msg.level
		a.flashUntil = a.ctx.Now().Add(4 * time.Second)
		return a, nil
	case switchViewMsg:
		return a, a.show(msg.title)
	case runCommandMsg:
		return a, a.runCommand(msg.line)
	case tea.KeyPressMsg:
		return a, a.handleKey(msg)
	}
	// Anything else is a result some pane asked for (a page of keys, a
	// value, a cursor blink), possibly while another pane was shown: every
	// pane gets it, and each keeps only what is addressed to it.
	return a, a.broadcast(msg)
}

func (a *App) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := a.ctx.Keys
	if msg.String() == "ctrl+c" {
		return tea.Quit
	}
	if a.cmdline.input.active {
		var cmd tea.Cmd
		a.cmdline, cmd = a.cmdline.Update(msg)
		return cmd
	}
	if a.help {
		if key.Matches(msg, k.Help, k.Back, k.Quit) {
			a.help = false
		}
		return nil
	}
	if a.activePane().Capturing() {
		return a.updateActive(msg)
	}
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		a.help = true
		return nil
	case key.Matches(msg, k.Command):
		return a.cmdline.open()
	case key.Matches(msg, k.NextView):
		return a.activate((a.active + 1) % len(a.panes))
	case key.Matches(msg, k.PrevView):
		return a.activate((a.active + len(a.panes) - 1) % len(a.panes))
	case key.Matches(msg, k.GotoView):
		if n := int(msg.Code - '1'); n >= 0 && n < len(a.panes) {
			return a.activate(n)
		}
		return nil
	}
	return a.updateActive(msg)
}

// broadcast sends a message every pane needs (snapshots) to all of them.
func (a *App) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(a.panes))
	for i, p := range a.panes {
		var cmd tea.Cmd
		a.panes[i], cmd = p.Update(msg)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (a *App) updateActive(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	a.panes[a.active], cmd = a.activePane().Update(msg)
	return cmd
}

func (a *App) activePane() Pane { return a.panes[a.active] }

// shower is a pane that does work only while it is shown (a scan, a
// subscription): the root tells it when it appears and disappears.
type shower interface {
	shown() tea.Cmd
	hidden()
}

// activate shows pane i.
func (a *App) activate(i int) tea.Cmd {
	if i == a.active {
		return nil
	}
	if p, ok := a.activePane().(shower); ok {
		p.hidden()
	}
	a.active = i
	if p, ok := a.activePane().(shower); ok {
		return p.shown()
	}
	return nil
}

// show shows the pane with this title.
func (a *App) show(title string) tea.Cmd {
	for i, p := range a.panes {
		if strings.EqualFold(p.Title(), title) {
			return a.activate(i)
		}
	}
	return nil
}

// bodyHeight is the height left for the active pane under the tab bar and
// above the status bar.
func (a *App) bodyHeight() int { return max(0, a.height-2) }

func (a *App) resize() {
	for _, p := range a.panes {
		p.SetSize(a.width, a.bodyHeight())
	}
	a.cmdline.setWidth(a.width)
}

// Close stops what the views run in the background (the pub/sub tap, key
// event subscriptions). Call it after the program ends.
func (a *App) Close() {
	for _, p := range a.panes {
		if s, ok := p.(interface{ stop() }); ok {
			s.stop()
		}
	}
}

// View draws the tab bar, the active pane (or the help overlay) and the
// status bar (or the command line).
func (a *App) View() tea.View {
	var v tea.View
	v.AltScreen = true
	v.WindowTitle = "cachescope " + a.ctx.Conn.Display
	if a.width == 0 || a.height == 0 {
		v.SetContent("")
		return v
	}
	body := ""
	if a.help {
		body = a.helpView()
	} else {
		body = a.activePane().View()
	}
	body = fitBlock(body, a.width, a.bodyHeight())
	bottom := a.statusBar()
	if a.cmdline.input.active {
		bottom = a.cmdline.View()
	}
	v.SetContent(a.tabBar() + "\n" + body + "\n" + bottom)
	return v
}

func (a *App) tabBar() string {
	st := a.ctx.Styles
	parts := []string{st.Title.Render("cachescope")}
	for i, p := range a.panes {
		label := string(rune('1'+i)) + " " + p.Title()
		if i == a.active {
			parts = append(parts, st.TabActive.Render(label))
		} else {
			parts = append(parts, st.Tab.Render(label))
		}
	}
	return fitCells(strings.Join(parts, " "), a.width)
}
