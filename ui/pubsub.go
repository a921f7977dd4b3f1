package ui

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// pubsubView shows pub/sub traffic. The publish rate and the channel and
// pattern gauges are always there (they come with the monitor's INFO).
// While the view is shown, the channels and their subscribers are listed
// every ten seconds. The live tap is opt-in (s, or --tap): a PSUBSCRIBE on
// its own connection whose messages land in a bounded ring that the view
// samples a few times a second; it keeps running when the view is hidden,
// until s stops it.
type pubsubView struct {
	ctx     *Context
	rdb     redis.UniversalClient
	actions *monitor.Actions
	width   int
	height  int
	visible bool

	snap *monitor.Snapshot

	channels *monitor.ChannelsPoller
	chans    *monitor.ChannelsSnapshot
	chanTag  int

	patterns  []string
	tap       *monitor.Tap
	tapCancel context.CancelFunc
	tapSnap   *monitor.TapSnapshot
	tapTag    int
	tapErr    string

	kevCfg    *monitor.KeyEventsConfig
	kevErr    string
	kev       *monitor.KeyEvents
	kevCancel context.CancelFunc
	kevSnap   *monitor.KeyEventsSnapshot

	filter   lineInput
	query    monitor.TapFilter
	messages table
	detail   bool
	dialog   *dialog
}

// tapRefresh is how often the view samples the tap while it is shown.
const tapRefresh = 250 * time.Millisecond

func newPubSubView(ctx *Context, rdb redis.UniversalClient, actions *monitor.Actions, tapPatterns []string) *pubsubView {
	v := &pubsubView{ctx: ctx, rdb: rdb, actions: actions, patterns: tapPatterns,
		channels: monitor.NewChannelsPoller(rdb, monitor.ChannelsOptions{})}
	v.filter = newLineInput("/", "text to find in channels and payloads")
	v.messages.cols = []column{{title: "time", width: 12}, {title: "channel", width: 24}, {title: "size", width: 8, right: true},
		{title: "payload", width: 0}}
	v.messages.focus = true
	return v
}

func (v *pubsubView) Title() string { return "Pub/Sub" }

func (v *pubsubView) Help() []key.Binding { return v.ctx.Keys.PubSubHelp() }

func (v *pubsubView) Capturing() bool { return v.filter.active || v.dialog != nil }

// Init starts the tap when --tap asked for it.
func (v *pubsubView) Init() tea.Cmd {
	if len(v.patterns) > 0 {
		return v.startTap()
	}
	return nil
}

func (v *pubsubView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.messages.width = w - 2
}

type (
	channelsMsg struct {
		tag  int
		snap *monitor.ChannelsSnapshot
	}
	channelsTickMsg struct{ tag int }
	tapTickMsg      struct {
		tag  int
		snap *monitor.TapSnapshot
		kev  *monitor.KeyEventsSnapshot
	}
	tapStoppedMsg struct{ err error }
	kevConfigMsg  struct {
		cfg monitor.KeyEventsConfig
		err error
	}
)

// shown starts listing channels (now, then every ten seconds), samples
// the tap if it runs, and checks whether key events are on.
func (v *pubsubView) shown() tea.Cmd {
	v.visible = true
	v.chanTag++
	v.tapTag++
	cmds := []tea.Cmd{v.pollChannels(v.chanTag), v.readKeyEventsConfig()}
	if v.tap != nil {
		cmds = append(cmds, v.sampleTap(v.tapTag, 0))
	}
	return tea.Batch(cmds...)
}

// hidden stops the channel listing and the sampling (the tap itself goes
// on) and the key event subscription.
func (v *pubsubView) hidden() {
	v.visible = false
	v.chanTag++
	v.tapTag++
	if v.kevCancel != nil {
		v.kevCancel()
		v.kev, v.kevCancel = nil, nil
	}
}

func (v *pubsubView) pollChannels(tag int) tea.Cmd {
	p := v.channels
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return channelsMsg{tag: tag, snap: p.Poll(ctx)}
	}
}

// sampleTap takes a snapshot of the tap and of the key events (either may
// be off), now or after a delay; the result re-arms it while its tag is
// current, so there is never more than one loop.
func (v *pubsubView) sampleTap(tag int, after time.Duration) tea.Cmd {
	tap, kev, filter := v.tap, v.kev, v.query
	filter.Limit = max(50, v.height)
	sample := func() tea.Msg {
		m := tapTickMsg{tag: tag}
		if kev != nil {
			m.kev = kev.Snapshot()
		}
		if tap != nil {
			m.snap = tap.Snapshot(filter)
		}
		return m
	}
	if after == 0 {
		return sample
	}
	return tea.Tick(after, func(time.Time) tea.Msg { return sample() })
}

func (v *pubsubView) Update(msg tea.Msg) (Pane, tea.Cmd) {
	switch msg := msg.(type) {
	case SnapshotMsg:
		v.snap = msg.Snap
	case channelsMsg:
		if msg.tag == v.chanTag {
			v.chans = msg.snap
			tag := v.chanTag
			return v, tea.Tick(monitor.DefaultChannelsInterval, func(time.Time) tea.Msg { return channelsTickMsg{tag} })
		}
	case channelsTickMsg:
		if msg.tag == v.chanTag {
			return v, v.pollChannels(msg.tag)
		}
	case tapTickMsg:
		if msg.tag == v.tapTag && (v.tap != nil || v.kev != nil) {
			v.kevSnap = msg.kev
			if msg.snap != nil {
				v.tapSnap = msg.snap
				v.refreshMessages()
			}
			return v, v.sampleTap(v.tapTag, tapRefresh)
		}
	case tapStoppedMsg:
		if msg.err != nil {
			v.tapErr = msg.err.Error()
		}
	case kevConfigMsg:
		return v, v.onKeyEventsConfig(msg)
	case actionMsg:
		return v, v.onAction(msg)
	case tea.KeyPressMsg:
		return v, v.onKey(msg)
	}
	return v, nil
}

func (v *pubsubView) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := v.ctx.Keys
	switch {
	case v.dialog != nil:
		cmd, done := v.dialog.update(msg)
		if done {
			v.dialog = nil
		}
		return cmd
	case v.filter.active:
		value, submitted, cmd := v.filter.update(msg)
		if !submitted {
			return cmd
		}
		v.query.Text = value
		v.messages.top()
		if v.tap != nil {
			v.tapTag++
			return v.sampleTap(v.tapTag, 0)
		}
		return nil
	case v.detail && key.Matches(msg, k.Back, k.Enter, k.Left):
		v.detail = false
		return nil
	}
	switch {
	case key.Matches(msg, k.Tap):
		if v.tap != nil {
			v.stopTap()
			return flash("tap stopped")
		}
		return v.startTap()
	case key.Matches(msg, k.Pause):
		if v.tap != nil {
			v.tap.SetPaused(!v.tap.Paused())
		}
	case key.Matches(msg, k.Clear):
		if v.tap != nil {
			v.tap.Clear()
		}
	case key.Matches(msg, k.Filter):
		return v.filter.open(v.query.Text)
	case key.Matches(msg, k.Up):
		v.messages.move(-1)
	case key.Matches(msg, k.Down):
		v.messages.move(1)
	case key.Matches(msg, k.PageUp):
		v.messages.move(-v.messages.height)
	case key.Matches(msg, k.PageDown):
		v.messages.move(v.messages.height)
	case key.Matches(msg, k.Top):
		v.messages.top()
	case key.Matches(msg, k.Bottom):
		v.messages.bottom()
	case key.Matches(msg, k.Enter):
		if v.selectedMessage() != nil {
			v.detail = true
		}
	case key.Matches(msg, k.Publish):
		return v.startPublish()
	case key.Matches(msg, k.KeyEvents):
		return v.keyEventsKey()
	}
	return nil
}

// startTap subscribes (PSUBSCRIBE, on connections of the tap's own) and,
// when the view is shown, starts sampling it.
func (v *pubsubView) startTap() tea.Cmd {
	patterns := v.patterns
	if len(patterns) == 0 {
		patterns = []string{"*"}
	}
	tap, err := monitor.NewTap(v.rdb, monitor.TapOptions{Patterns: patterns})
	if err != nil {
		return warn("tap: " + sanitize.Line(err.Error()))
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.tap, v.tapCancel, v.tapErr = tap, cancel, ""
	v.patterns = patterns
	run := func() tea.Msg {
		err := tap.Run(ctx, nil)
		if ctx.Err() != nil {
			err = nil
		}
		return tapStoppedMsg{err: err}
	}
	v.tapTag++
	cmds := []tea.Cmd{run}
	if v.visible {
		cmds = append(cmds, v.sampleTap(v.tapTag, 0))
	}
	return tea.Batch(cmds...)
}

func (v *pubsubView) stopTap() {
	if v.tapCancel != nil {
		v.tapCancel()
	}
	v.tap, v.tapCancel = nil, nil
	v.tapTag++
}

func (v *pubsubView) refreshMessages() {
	s := v.tapSnap
	rows := make([][]string, 0, len(s.Messages))
	// Newest first: the stream reads from the top.
	for i := len(s.Messages) - 1; i >= 0; i-- {
		m := s.Messages[i]
		rows = append(rows, []string{m.Time.In(v.ctx.Location).Format("15:04:05.000"), monitor.PayloadPreview(m.Channel, 24),
			fmtBytes(float64(m.Size)), monitor.PayloadPreview(m.Payload, max(10, v.width))})
	}
	v.messages.setRows(rows)
}

func (v *pubsubView) selectedMessage() *monitor.TapMessage {
	if v.tapSnap == nil {
		return nil
	}
	n := len(v.tapSnap.Messages)
	if v.messages.cursor >= n {
		return nil
	}
	return &v.tapSnap.Messages[n-1-v.messages.cursor]
}

// Stop ends the tap and the key event subscription when the dashboard
// quits.
func (v *pubsubView) stop() {
	v.stopTap()
	v.hidden()
}
