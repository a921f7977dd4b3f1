package ui

import (
	"context"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// refuseWrite explains why a write key does nothing in read-only mode.
func (v *pubsubView) refuseWrite() tea.Cmd {
	if !v.ctx.Conn.Write {
		return warn(v.ctx.Conn.ReadOnlyReason)
	}
	if v.actions == nil {
		return warn("writes are off: no audit log could be opened")
	}
	return nil
}

// startPublish asks for "CHANNEL MESSAGE" and publishes it (write mode;
// audited).
func (v *pubsubView) startPublish() tea.Cmd {
	if cmd := v.refuseWrite(); cmd != nil {
		return cmd
	}
	d := newDialog(dialogInput, "publish", "CHANNEL MESSAGE: the first word is the channel, the rest the message.")
	if m := v.selectedMessage(); m != nil && !m.Shard {
		d.input.SetValue(m.Channel + " ")
		d.input.CursorEnd()
	}
	actions := v.actions
	d.accept = func(value string) tea.Cmd {
		channel, message, _ := strings.Cut(value, " ")
		if channel == "" {
			return warn("publish needs a channel")
		}
		return func() tea.Msg {
			n, err := actions.Publish(context.Background(), channel, message)
			text := fmt.Sprintf("published to %s: %s", sanitize.Line(channel), countNoun(n, "subscriber"))
			return actionMsg{view: "pubsub", kind: "publish", text: text, err: err}
		}
	}
	v.dialog = d
	return d.focus()
}

func (v *pubsubView) readKeyEventsConfig() tea.Cmd {
	rdb := v.rdb
	return func() tea.Msg {
		cfg, err := monitor.ReadKeyEventsConfig(context.Background(), rdb)
		return kevConfigMsg{cfg: cfg, err: err}
	}
}

// onKeyEventsConfig follows the key events when the server publishes
// them; turning them on is the user's explicit choice (E).
func (v *pubsubView) onKeyEventsConfig(msg kevConfigMsg) tea.Cmd {
	if msg.err != nil {
		v.kevErr, v.kevCfg = msg.err.Error(), nil
		return nil
	}
	v.kevErr, v.kevCfg = "", &msg.cfg
	if msg.cfg.Enabled() && v.visible && v.kev == nil {
		return v.followKeyEvents()
	}
	return nil
}

func (v *pubsubView) followKeyEvents() tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	kev := monitor.NewKeyEvents(v.rdb, monitor.KeyEventsOptions{})
	v.kev, v.kevCancel = kev, cancel
	run := func() tea.Msg {
		_ = kev.Run(ctx)
		return nil
	}
	if v.tap == nil {
		// Without a tap there is no sampling loop: start one for the events.
		v.tapTag++
		return tea.Batch(run, v.sampleTap(v.tapTag, tapRefresh))
	}
	return run
}

// keyEventsKey: with events off, offer to turn them on (write mode, a
// confirmation, audited); with them on, say so.
func (v *pubsubView) keyEventsKey() tea.Cmd {
	switch {
	case v.kevErr != "":
		return warn("key events: cannot read notify-keyspace-events: " + sanitize.Line(v.kevErr))
	case v.kevCfg == nil:
		return flash("reading notify-keyspace-events…")
	case v.kevCfg.Enabled():
		return flash("key events are on: expired, evicted and del are followed while this view is open")
	}
	if cmd := v.refuseWrite(); cmd != nil {
		return cmd
	}
	cfg := *v.kevCfg
	d := newDialog(dialogConfirm, "enable key events",
		fmt.Sprintf("notify-keyspace-events is %q on %s.", sanitize.Line(cfg.Flags), sanitize.Line(v.ctx.Conn.Display)),
		"Add the flags "+sanitize.Line(cfg.Missing())+" with CONFIG SET (none are removed), so that expirations,",
		"evictions and deletions can be followed here as live rates?",
		"The server then does a little work on every such event, for every client.")
	actions := v.actions
	d.accept = func(string) tea.Cmd {
		return func() tea.Msg {
			cfg, err := actions.EnableKeyEvents(context.Background())
			return actionMsg{view: "pubsub", kind: "keyevents", text: "key events on: notify-keyspace-events is now " + sanitize.Line(cfg.Flags), err: err}
		}
	}
	v.dialog = d
	return nil
}

func (v *pubsubView) onAction(msg actionMsg) tea.Cmd {
	if msg.view != "pubsub" {
		return nil // an action of another view
	}
	if msg.err != nil {
		return warn(msg.kind + " failed: " + sanitize.Line(msg.err.Error()))
	}
	if msg.kind == "keyevents" {
		return tea.Batch(flash(msg.text), v.readKeyEventsConfig())
	}
	return flash(msg.text)
}

// commands adds :pubsub, easier to type than :pub/sub.
func (v *pubsubView) commands() []command {
	return []command{{name: "pubsub", usage: "show Pub/Sub", run: func(a *App, _ string) tea.Cmd { return a.show(v.Title()) }}}
}
