package ui

import (
	"sort"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// cmdline is the ":" command line, with tab completion of command names.
type cmdline struct {
	ctx   *Context
	input lineInput
	names []string
	width int
}

// runCommandMsg carries an entered command line to the root.
type runCommandMsg struct{ line string }

func newCmdline(ctx *Context, names []string) cmdline {
	in := newLineInput(":", "")
	in.ShowSuggestions = true
	in.SetSuggestions(names)
	return cmdline{ctx: ctx, input: in, names: names}
}

func (c *cmdline) setWidth(w int) {
	c.width = w
	c.input.SetWidth(max(10, w/2))
}

func (c *cmdline) open() tea.Cmd { return c.input.open("") }

func (c cmdline) Update(msg tea.KeyPressMsg) (cmdline, tea.Cmd) {
	value, submitted, cmd := c.input.update(msg)
	line := strings.TrimSpace(value)
	if !submitted || line == "" {
		return c, cmd
	}
	return c, func() tea.Msg { return runCommandMsg{line: line} }
}

// View is the input line followed by the commands that match what was
// typed so far.
func (c cmdline) View() string {
	st := c.ctx.Styles
	line := c.input.View()
	typed := strings.Fields(c.input.Value())
	if len(typed) <= 1 {
		prefix := ""
		if len(typed) == 1 {
			prefix = typed[0]
		}
		var matches []string
		for _, n := range c.names {
			if strings.HasPrefix(n, prefix) && n != prefix {
				matches = append(matches, n)
			}
		}
		if len(matches) > 0 {
			line += "   " + st.Suggestion.Render(strings.Join(matches, "  "))
		}
	}
	return fitCells(line, c.width)
}

// command is one entry of the command line.
type command struct {
	name  string
	usage string
	run   func(a *App, args string) tea.Cmd
}

// commander is a pane with commands of its own.
type commander interface {
	commands() []command
}

// commands lists what the command line understands: a command per view
// (its title in lower case) and the global ones.
func (a *App) commands() []command {
	cmds := []command{
		{name: "quit", usage: "quit", run: func(*App, string) tea.Cmd { return tea.Quit }},
		{name: "help", usage: "show the key bindings", run: func(a *App, _ string) tea.Cmd { a.help = true; return nil }},
	}
	var own []command
	for _, p := range a.panes {
		title := p.Title()
		cmds = append(cmds, command{name: strings.ToLower(title), usage: "show " + title,
			run: func(a *App, _ string) tea.Cmd { return a.show(title) }})
		if p, ok := p.(commander); ok {
			own = append(own, p.commands()...)
		}
	}
	// A pane's own command replaces the plain view switch of the same name.
	for _, c := range own {
		replaced := false
		for i := range cmds {
			if cmds[i].name == c.name {
				cmds[i], replaced = c, true
			}
		}
		if !replaced {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

func (a *App) commandNames() []string {
	var names []string
	for _, c := range a.commands() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	return names
}

// runCommand executes a command line; a unique prefix of a name is
// enough ("ov" for overview).
func (a *App) runCommand(line string) tea.Cmd {
	name, args, _ := strings.Cut(line, " ")
	name = strings.ToLower(name)
	var found []command
	for _, c := range a.commands() {
		if c.name == name {
			found = []command{c}
			break
		}
		if strings.HasPrefix(c.name, name) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return warn("unknown command :" + name + " (press : then tab to see the commands)")
	case 1:
		return found[0].run(a, strings.TrimSpace(args))
	}
	names := make([]string, len(found))
	for i, c := range found {
		names[i] = c.name
	}
	return warn(":" + name + " is ambiguous: " + strings.Join(names, ", "))
}

// padLines pads every line of s to width w (so a pane fills its area).
func padLines(s string, w int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = fitCells(l, w)
	}
	return strings.Join(lines, "\n")
}

// newTextInput returns a text input with a steady cursor: a blinking one
// redraws the screen twice a second for nothing (costly over slow links)
// and makes tests wait on timers.
func newTextInput() textinput.Model {
	in := textinput.New()
	st := in.Styles()
	st.Cursor.Blink = false
	in.SetStyles(st)
	return in
}
