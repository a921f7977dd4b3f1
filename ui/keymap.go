package ui

import "charm.land/bubbles/v2/key"

// KeyMap holds every key binding of the dashboard. The default bindings
// live in keymap.go at the root of the module, the one place to change
// them; the views only match against these fields.
type KeyMap struct {
	// Global.
	Quit     key.Binding
	Help     key.Binding
	NextView key.Binding
	PrevView key.Binding
	// GotoView switches to the view of the digit pressed (1-9).
	GotoView key.Binding
	Command  key.Binding
	Back     key.Binding

	// Movement, shared by every list and viewer.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Left     key.Binding
	Right    key.Binding
	Enter    key.Binding

	// The Keys view.
	Filter     key.Binding
	Delete     key.Binding
	SetTTL     key.Binding
	Invalidate key.Binding
	Bump       key.Binding
	Mark       key.Binding
	Tree       key.Binding
	Reload     key.Binding
	NextValue  key.Binding
	PrevValue  key.Binding

	// The Pub/Sub view.
	Tap       key.Binding
	Pause     key.Binding
	Clear     key.Binding
	Publish   key.Binding
	KeyEvents key.Binding
}

// ShortHelp is the one-line help of the status bar.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Help, k.Command, k.Quit}
}

// KeysHelp is the help of the Keys view.
func (k KeyMap) KeysHelp() []key.Binding {
	return []key.Binding{k.Filter, k.Enter, k.Tree, k.Mark, k.Delete, k.SetTTL, k.Invalidate, k.Bump,
		k.NextValue, k.PrevValue, k.Reload}
}

// PubSubHelp is the help of the Pub/Sub view.
func (k KeyMap) PubSubHelp() []key.Binding {
	return []key.Binding{k.Tap, k.Pause, k.Clear, k.Filter, k.Enter, k.Publish, k.KeyEvents}
}

// FullHelp is the help overlay, in columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.NextView, k.PrevView, k.GotoView, k.Command, k.Help, k.Back, k.Quit},
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Left, k.Right, k.Enter},
	}
}
