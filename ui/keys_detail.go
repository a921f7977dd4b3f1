package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/mattn/go-runewidth"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// valueViewer shows one key: its metadata and a window of its value,
// paged with ] and [ (never the whole of a large value).
type valueViewer struct {
	ctx    *Context
	keys   *monitor.Keys
	width  int
	height int

	key     string
	meta    monitor.KeyMeta
	page    monitor.ValuePage
	back    []monitor.ValueAt // pages seen before, for [ on hashes and sets
	gen     int
	loading bool
	err     string
	lines   []string // the value, one entry per line of text or element
	wrapped []string // lines wrapped at the width, rebuilt when either changes
	wrapW   int
	offset  int
}

type valueMsg struct {
	gen  int
	meta monitor.KeyMeta
	page monitor.ValuePage
	err  error
}

func newValueViewer(ctx *Context) valueViewer { return valueViewer{ctx: ctx} }

func (d *valueViewer) setSize(w, h int) { d.width, d.height = w, h }

// load shows key from the start of its value.
func (d *valueViewer) load(keys *monitor.Keys, k string) tea.Cmd {
	d.keys, d.key, d.back = keys, k, nil
	d.meta, d.page, d.lines, d.wrapped, d.offset, d.err = monitor.KeyMeta{}, monitor.ValuePage{}, nil, nil, 0, ""
	return d.read(monitor.ValueAt{}, true)
}

// read fetches one window of the value (and the metadata first, when
// inspect).
func (d *valueViewer) read(at monitor.ValueAt, inspect bool) tea.Cmd {
	d.gen++
	d.loading = true
	gen, keys, k, meta := d.gen, d.keys, d.key, d.meta
	return func() tea.Msg {
		ctx := context.Background()
		if inspect {
			m, err := keys.Inspect(ctx, k)
			if err != nil {
				return valueMsg{gen: gen, meta: m, err: err}
			}
			meta = m
		}
		p, err := keys.ReadValue(ctx, k, meta.Type, at)
		return valueMsg{gen: gen, meta: meta, page: p, err: err}
	}
}

func (d *valueViewer) onValue(msg valueMsg) tea.Cmd {
	if msg.gen != d.gen {
		return nil
	}
	d.loading = false
	d.meta = msg.meta
	if msg.err != nil {
		d.err = msg.err.Error()
		if errors.Is(msg.err, monitor.ErrNoSuchKey) {
			d.err = "the key no longer exists (deleted or expired)"
		}
		d.lines, d.wrapped = nil, nil
		return nil
	}
	d.err = ""
	d.page = msg.page
	d.lines, d.wrapped = renderValue(msg.page), nil
	d.offset = 0
	return nil
}

// onKey scrolls and pages; ok is false for keys it does not use.
func (d *valueViewer) onKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := d.ctx.Keys
	room := max(1, d.height-4)
	n := len(d.wrap(d.width - 1))
	switch {
	case key.Matches(msg, k.Up):
		d.offset = max(0, d.offset-1)
	case key.Matches(msg, k.Down):
		d.offset = max(0, min(d.offset+1, n-room))
	case key.Matches(msg, k.PageUp):
		d.offset = max(0, d.offset-room)
	case key.Matches(msg, k.PageDown):
		d.offset = max(0, min(d.offset+room, n-room))
	case key.Matches(msg, k.Top):
		d.offset = 0
	case key.Matches(msg, k.Bottom):
		d.offset = max(0, n-room)
	case key.Matches(msg, k.NextValue):
		if d.page.HasNext && !d.loading {
			d.back = append(d.back, d.page.At)
			return d.read(d.page.Next, false), true
		}
	case key.Matches(msg, k.PrevValue):
		switch {
		case d.loading:
		case d.page.HasPrev:
			return d.read(d.page.Prev, false), true
		case len(d.back) > 0:
			at := d.back[len(d.back)-1]
			d.back = d.back[:len(d.back)-1]
			return d.read(at, false), true
		}
	default:
		return nil, false
	}
	return nil, true
}

// wrap returns the value's lines wrapped at w cells (a 64 KiB string is
// often one line), computing them once per value and width.
func (d *valueViewer) wrap(w int) []string {
	if w <= 0 {
		return d.lines
	}
	if d.wrapped == nil || d.wrapW != w {
		d.wrapped = d.wrapped[:0]
		for _, l := range d.lines {
			d.wrapped = append(d.wrapped, wrapPlain(l, w)...)
		}
		d.wrapW = w
	}
	return d.wrapped
}

// wrapPlain wraps an unstyled line at w cells in one pass (a 64 KiB line
// is 600 rows: measuring the rest of it for each row would be quadratic).
func wrapPlain(s string, w int) []string {
	if len(s) <= w {
		return []string{s}
	}
	var out []string
	start, width := 0, 0
	for i, r := range s {
		rw := runewidth.RuneWidth(r)
		if width+rw > w {
			out = append(out, s[start:i])
			start, width = i, 0
		}
		width += rw
	}
	return append(out, s[start:])
}

// renderValue turns a page into sanitized display lines.
func renderValue(p monitor.ValuePage) []string {
	if p.Type == monitor.TypeString {
		dec := monitor.DecodeValue(p.Data, p.Truncated())
		return strings.Split(strings.TrimRight(sanitize.Text(dec.Text), "\n"), "\n")
	}
	out := make([]string, 0, len(p.Elements))
	for _, e := range p.Elements {
		var line string
		switch p.Type {
		case monitor.TypeHash:
			line = sanitize.Line(e.Field) + " → " + sanitize.Line(e.Value)
		case monitor.TypeList:
			line = fmt.Sprintf("[%d] %s", e.Index, sanitize.Line(e.Value))
		case monitor.TypeSet:
			line = sanitize.Line(e.Field)
		case monitor.TypeZSet:
			line = fmt.Sprintf("%12g  %s", e.Score, sanitize.Line(e.Field))
		case monitor.TypeStream:
			pairs := make([]string, 0, len(e.Pairs)/2)
			for i := 0; i+1 < len(e.Pairs); i += 2 {
				pairs = append(pairs, sanitize.Line(e.Pairs[i])+"="+sanitize.Line(e.Pairs[i+1]))
			}
			line = sanitize.Line(e.Field) + "  " + strings.Join(pairs, " ")
		default:
			line = sanitize.Line(e.Field + e.Value)
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		out = append(out, "(empty)")
	}
	return out
}

// view renders the header, the visible lines and where the page sits.
func (d *valueViewer) view(st Styles, focused bool) string {
	if d.key == "" {
		return st.Muted.Render("\n  select a key; enter opens it")
	}
	w := d.width
	title := st.Bold.Render(keyLabel(d.key))
	if !utf8.ValidString(d.key) {
		title += st.Muted.Render("  (binary key, shown escaped)")
	}
	out := []string{fitCells(" "+title, w)}
	m := d.meta
	switch {
	case d.err != "":
		out = append(out, " "+st.Warn.Render(keyLabel(d.err)))
	case !m.Exists && d.loading:
		out = append(out, st.Muted.Render(" loading…"))
	default:
		out = append(out, fitCells(" "+st.Muted.Render(metaLine(m)), w))
	}
	out = append(out, st.Muted.Render(strings.Repeat("─", max(0, w))))
	room := max(1, d.height-4)
	lines := d.wrap(w - 1)
	end := min(len(lines), d.offset+room)
	for _, l := range lines[min(d.offset, end):end] {
		out = append(out, fitCells(" "+l, w))
	}
	for len(out) < room+3 {
		out = append(out, "")
	}
	out = append(out, fitCells(" "+st.Muted.Render(d.pageNote(focused)), w))
	return strings.Join(out, "\n")
}

func metaLine(m monitor.KeyMeta) string {
	parts := []string{m.Type, "ttl " + monitor.FormatTTL(m.TTL, m.HasTTL)}
	if m.Memory >= 0 {
		parts = append(parts, fmtBytes(float64(m.Memory)))
	}
	if m.Encoding != "" {
		parts = append(parts, sanitize.Line(m.Encoding))
	}
	if m.Length >= 0 {
		unit := "elements"
		if m.Type == monitor.TypeString {
			unit = "bytes"
		}
		parts = append(parts, groupThousands(m.Length)+" "+unit)
	}
	return strings.Join(parts, " · ")
}

// pageNote says which part of the value is shown and how to move.
func (d *valueViewer) pageNote(focused bool) string {
	p := d.page
	var note string
	switch {
	case d.loading:
		note = "reading…"
	case p.Type == monitor.TypeString && p.Truncated():
		note = fmt.Sprintf("bytes %s–%s of %s", groupThousands(p.Start), groupThousands(p.Start+int64(len(p.Data))), groupThousands(p.Length))
	case p.Start >= 0 && len(p.Elements) > 0:
		note = fmt.Sprintf("elements %s–%s of %s", groupThousands(p.Start+1), groupThousands(p.Start+int64(len(p.Elements))), groupThousands(p.Length))
	case len(p.Elements) > 0:
		note = fmt.Sprintf("%d of %s elements shown", len(p.Elements), groupThousands(p.Length))
	}
	var moves []string
	if p.HasNext {
		moves = append(moves, "] next")
	}
	if p.HasPrev || len(d.back) > 0 {
		moves = append(moves, "[ previous")
	}
	if !focused {
		moves = append(moves, "enter to scroll")
	} else {
		moves = append(moves, "esc back")
	}
	return strings.TrimPrefix(note+"  "+strings.Join(moves, " · "), "  ")
}
