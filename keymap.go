package main

import (
	"charm.land/bubbles/v2/key"

	"github.com/cachescope/cachescope/ui"
)

// defaultKeyMap is every default key binding of the dashboard, in one
// place: change a binding here and the help overlay follows.
func defaultKeyMap() ui.KeyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return ui.KeyMap{
		Quit:     b("q", "quit", "q", "ctrl+c"),
		Help:     b("?", "help", "?"),
		NextView: b("tab", "next view", "tab"),
		PrevView: b("shift+tab", "previous view", "shift+tab"),
		GotoView: b("1-9", "go to view", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
		Command:  b(":", "command", ":"),
		Back:     b("esc", "back", "esc"),

		Up:       b("↑/k", "up", "up", "k"),
		Down:     b("↓/j", "down", "down", "j"),
		PageUp:   b("pgup", "page up", "pgup", "ctrl+u"),
		PageDown: b("pgdn", "page down", "pgdown", "ctrl+d"),
		Top:      b("g/home", "top", "g", "home"),
		Bottom:   b("G/end", "bottom", "G", "end"),
		Left:     b("←/h", "left", "left", "h"),
		Right:    b("→/l", "right", "right", "l"),
		Enter:    b("enter", "open", "enter"),

		Filter:     b("/", "filter: pattern [type]", "/"),
		Delete:     b("d", "delete (marked) keys", "d"),
		SetTTL:     b("t", "set or remove TTL", "t"),
		Invalidate: b("x", "invalidate a pattern", "x"),
		Bump:       b("b", "bump a version", "b"),
		Mark:       b("space", "mark for bulk delete", "space"),
		Tree:       b("T", "tree by namespace", "T"),
		Reload:     b("r", "rescan", "r"),
		NextValue:  b("]", "next value page", "]"),
		PrevValue:  b("[", "previous value page", "["),

		Tap:       b("s", "start/stop the live tap", "s"),
		Pause:     b("space", "pause the message stream", "space"),
		Clear:     b("c", "clear the messages", "c"),
		Publish:   b("p", "publish a message", "p"),
		KeyEvents: b("E", "follow/enable key events", "E"),
	}
}
