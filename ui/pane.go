package ui

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/cachescope/cachescope/monitor"
)

// Pane is one view of the dashboard. Only the root model returns a
// tea.View; panes render plain strings into the size they were given.
type Pane interface {
	// Title names the view in the tab bar and the command line.
	Title() string
	Init() tea.Cmd
	Update(msg tea.Msg) (Pane, tea.Cmd)
	View() string
	SetSize(width, height int)
	// Help lists the view's own bindings for the help overlay.
	Help() []key.Binding
	// Capturing is true while the view takes text input; global keys such
	// as q then go to the view.
	Capturing() bool
}

// Context is what every pane shares with the root: bindings, styles and
// the connection. The root changes it (styles on a background change) only
// from Update, so panes may read it from Update and View.
type Context struct {
	Keys   KeyMap
	Styles Styles
	Conn   ConnInfo
	// Now is the clock and Location the time zone times are shown in;
	// tests fix both.
	Now      func() time.Time
	Location *time.Location
}

// ConnInfo describes the connection for the status bar and the write
// guards.
type ConnInfo struct {
	// Display names the target, without secrets.
	Display string
	// Mode is "standalone", "sentinel" or "cluster".
	Mode string
	// Write is true in write mode.
	Write bool
	// Remote is true for a server that is not on this machine: deletions
	// there always ask for a typed confirmation.
	Remote bool
	// ReadOnlyReason explains why writes are off.
	ReadOnlyReason string
	// Embedded is set when the server is the demo's in-process one, which
	// does not report everything a real server does.
	Embedded bool
}

// SnapshotMsg delivers a monitor snapshot to the program.
type SnapshotMsg struct{ Snap *monitor.Snapshot }

// flashMsg shows a short message in the status bar.
type flashMsg struct {
	text  string
	level flashLevel
}

type flashLevel int

const (
	flashInfo flashLevel = iota
	flashWarn
)

// flash returns a command that shows text in the status bar for a while.
func flash(text string) tea.Cmd {
	return func() tea.Msg { return flashMsg{text: text} }
}

// warn is flash for something the user should not miss (a refused write).
func warn(text string) tea.Cmd {
	return func() tea.Msg { return flashMsg{text: text, level: flashWarn} }
}

// switchViewMsg asks the root to show the pane with this title.
type switchViewMsg struct{ title string }
