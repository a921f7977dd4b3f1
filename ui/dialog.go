package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/progress"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/cachescope/cachescope/internal/sanitize"
)

// dialogKind is what a dialog asks for.
type dialogKind int

const (
	// dialogConfirm: enter or y accepts, esc or n refuses.
	dialogConfirm dialogKind = iota
	// dialogTyped: the user must type expect exactly, then enter. For
	// large or remote deletions, so a reflexive enter cannot destroy data.
	dialogTyped
	// dialogInput: a free value, then enter.
	dialogInput
	// dialogProgress: work under way; esc cancels it.
	dialogProgress
	// dialogMessage: an outcome; any key closes it.
	dialogMessage
)

// dialog is a modal box over a view. Its text is sanitized where it is
// built; the dialog only lays it out.
type dialog struct {
	kind   dialogKind
	title  string
	body   []string
	input  textinput.Model
	expect string
	// accept runs when the dialog is accepted, with the input's value.
	accept func(value string) tea.Cmd
	// cancel runs when a progress dialog is abandoned with esc.
	cancel func()
	bar    progress.Model
	ratio  float64
	status string
	err    string
}

func newDialog(kind dialogKind, title string, body ...string) *dialog {
	d := &dialog{kind: kind, title: title, body: body}
	if kind == dialogTyped || kind == dialogInput {
		d.input = newTextInput()
		d.input.Prompt = "> "
		d.input.CharLimit = 4096
	}
	if kind == dialogProgress {
		d.bar = progress.New(progress.WithoutPercentage())
	}
	return d
}

// focus returns the command that starts the input's cursor.
func (d *dialog) focus() tea.Cmd {
	if d.kind == dialogTyped || d.kind == dialogInput {
		return d.input.Focus()
	}
	return nil
}

// update handles a key; done reports that the dialog closed.
func (d *dialog) update(msg tea.KeyPressMsg) (cmd tea.Cmd, done bool) {
	switch d.kind {
	case dialogMessage:
		return nil, true
	case dialogProgress:
		if msg.String() == "esc" && d.cancel != nil {
			d.cancel()
			d.status = "cancelling…"
		}
		return nil, false
	case dialogConfirm:
		switch msg.String() {
		case "enter", "y", "Y":
			return d.run(""), true
		case "esc", "n", "N", "q":
			return nil, true
		}
		return nil, false
	}
	switch msg.String() {
	case "esc":
		return nil, true
	case "enter":
		value := strings.TrimSpace(d.input.Value())
		if d.kind == dialogTyped && value != d.expect {
			d.err = "that is not it: type " + sanitize.Line(d.expect) + " exactly, or esc to cancel"
			return nil, false
		}
		return d.run(value), true
	}
	d.err = ""
	var c tea.Cmd
	d.input, c = d.input.Update(msg)
	return c, false
}

func (d *dialog) run(value string) tea.Cmd {
	if d.accept == nil {
		return nil
	}
	return d.accept(value)
}

// setProgress moves a progress dialog's bar (0..1) and its status line.
func (d *dialog) setProgress(ratio float64, status string) {
	d.ratio = max(0, min(1, ratio))
	if d.status != "cancelling…" {
		d.status = status
	}
}

// view renders the dialog as a bordered box at most width wide.
func (d *dialog) view(st Styles, width int) string {
	w := min(max(40, width-8), 100)
	inner := w - 4
	var lines []string
	for _, b := range d.body {
		lines = append(lines, wrapCells(b, inner)...)
	}
	switch d.kind {
	case dialogConfirm:
		lines = append(lines, "", st.Muted.Render("enter/y: go ahead   esc/n: cancel"))
	case dialogTyped, dialogInput:
		d.input.SetWidth(inner - 4)
		lines = append(lines, "", d.input.View())
		if d.err != "" {
			lines = append(lines, st.Warn.Render(d.err))
		}
		hint := "enter: go ahead   esc: cancel"
		if d.kind == dialogTyped {
			hint = "type " + sanitize.Line(d.expect) + " then enter   esc: cancel"
		}
		lines = append(lines, st.Muted.Render(hint))
	case dialogProgress:
		d.bar.SetWidth(inner)
		lines = append(lines, "", d.bar.ViewAs(d.ratio), d.status, st.Muted.Render("esc: stop"))
	case dialogMessage:
		lines = append(lines, "", st.Muted.Render("press any key"))
	}
	for i, l := range lines {
		lines[i] = fitCells(l, inner)
	}
	box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(st.Title.GetForeground()).
		Padding(0, 1).Width(w).Render(strings.Join(lines, "\n"))
	title := st.BoxTitle.Render(" " + d.title + " ")
	// Set the title into the top border.
	rows := strings.Split(box, "\n")
	if len(rows) > 0 && lipgloss.Width(rows[0]) > lipgloss.Width(title)+4 {
		rows[0] = ansiTruncate(rows[0], 2) + title + ansiCut(rows[0], 2+lipgloss.Width(title))
	}
	return strings.Join(rows, "\n")
}

// overlay places box centered over the background of width x height.
func overlay(background, box string, width, height int) string {
	bg := strings.Split(fitBlock(background, width, height), "\n")
	fg := strings.Split(box, "\n")
	top := max(0, (height-len(fg))/2)
	for i, line := range fg {
		y := top + i
		if y >= len(bg) {
			break
		}
		lw := lipgloss.Width(line)
		left := max(0, (width-lw)/2)
		bg[y] = ansiTruncate(bg[y], left) + line + ansiCut(bg[y], left+lw)
	}
	return strings.Join(bg, "\n")
}

// wrapCells wraps a plain line at w cells.
func wrapCells(s string, w int) []string {
	if w <= 0 || lipgloss.Width(s) <= w {
		return []string{s}
	}
	var out []string
	for lipgloss.Width(s) > w {
		out = append(out, ansiTruncate(s, w))
		s = ansiCut(s, w)
	}
	return append(out, s)
}

// countNoun renders "1 key" or "3 keys".
func countNoun(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%s %ss", groupThousands(n), noun)
}
