package ui

import (
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// lineInput is a one-line text field that a key opens: enter submits its
// value, esc abandons it, other keys edit it. The command line and the
// filters of the Keys and Pub/Sub views are lineInputs.
type lineInput struct {
	textinput.Model
	active bool
}

func newLineInput(prompt, placeholder string) lineInput {
	in := newTextInput()
	in.Prompt = prompt
	in.Placeholder = placeholder
	in.CharLimit = 1024
	return lineInput{Model: in}
}

// open shows the field holding value, cursor at the end.
func (l *lineInput) open(value string) tea.Cmd {
	l.active = true
	l.SetValue(value)
	l.CursorEnd()
	return l.Focus()
}

func (l *lineInput) close() {
	l.active = false
	l.Blur()
}

// update handles a key press: submitted is true (with the value) on
// enter; the field closes on enter and esc.
func (l *lineInput) update(msg tea.KeyPressMsg) (value string, submitted bool, cmd tea.Cmd) {
	switch msg.String() {
	case "esc":
		l.close()
		return "", false, nil
	case "enter":
		l.close()
		return l.Value(), true, nil
	}
	l.Model, cmd = l.Model.Update(msg)
	return "", false, cmd
}

// updateOther passes a message that is not a key press (a paste) to the
// field while it is open.
func (l *lineInput) updateOther(msg tea.Msg) tea.Cmd {
	if !l.active {
		return nil
	}
	var cmd tea.Cmd
	l.Model, cmd = l.Model.Update(msg)
	return cmd
}
