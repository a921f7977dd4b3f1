package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/cachescope/cachescope/internal/connect"
	"github.com/cachescope/cachescope/monitor"
	"github.com/cachescope/cachescope/ui"
)

// dashboardFlags tune the dashboard.
type dashboardFlags struct {
	refresh time.Duration
	tap     []string
}

func (f *dashboardFlags) register(cmd *cobra.Command) {
	cmd.PersistentFlags().DurationVar(&f.refresh, "refresh", monitor.DefaultInterval, "dashboard refresh interval (one INFO per refresh)")
	cmd.Flags().StringSliceVar(&f.tap, "tap", nil, "start the live pub/sub tap with these PSUBSCRIBE patterns (e.g. --tap '*')")
}

func runDashboard(cmd *cobra.Command, d *Deps, cf *connFlags, df *dashboardFlags) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	target, err := cf.open(ctx, d)
	if err != nil {
		return err
	}
	defer target.Client.Close()
	write, reason := connect.WriteMode(target, cf.write, cf.readOnly)
	return runUI(ctx, d, uiSession{
		target: target, write: write, reason: reason, refresh: df.refresh, logger: d.logger, tap: df.tap,
	})
}

// uiSession is everything the dashboard needs to run against one target.
type uiSession struct {
	target   *connect.Target
	write    bool
	reason   string
	refresh  time.Duration
	logger   *slog.Logger
	embedded bool
	tap      []string
}

// runUI polls the target in the background and runs the Bubble Tea
// program until the user quits.
func runUI(ctx context.Context, d *Deps, s uiSession) error {
	if s.refresh <= 0 {
		return usagef("--refresh must be positive")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// One counter of the lookups cachescope itself causes, shared by the
	// explorer, the writer and the poller that subtracts them.
	lookups := new(monitor.Lookups)
	poller := monitor.NewPoller(s.target.Client, monitor.Options{Interval: s.refresh, Addr: s.target.Display, Lookups: lookups})
	defer poller.Close() // a cluster's per-node connections
	// The channel holds only the newest snapshot: when the UI falls behind,
	// an older one is dropped rather than queued.
	snaps := make(chan *monitor.Snapshot, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer recoverTo(s.logger, cancel)
		_ = poller.Run(ctx, func(snap *monitor.Snapshot) {
			snap = redactSnapshot(snap, s.target)
			select {
			case snaps <- snap:
			default:
				select {
				case <-snaps:
				default:
				}
				snaps <- snap
			}
		})
	}()

	keyspace := monitor.NewKeys(s.target.Client, monitor.KeysOptions{Lookups: lookups})
	actions, err := monitor.NewActions(s.target.Client, monitor.ActionsOptions{Write: s.write, Reason: s.reason,
		Server: s.target.Display, Logger: s.logger, Lookups: lookups})
	if err != nil {
		// Without an audit log no write may run; the dashboard still shows
		// everything, and each write key says why it does nothing.
		s.logger.Warn("writes disabled: no audit log", "error", err)
		actions = nil
	}
	app := ui.New(ui.Options{
		Keys: d.Keys,
		Conn: ui.ConnInfo{Display: s.target.Display, Mode: s.target.Mode, Write: s.write, Remote: !s.target.Loopback,
			ReadOnlyReason: s.reason, Embedded: s.embedded},
		Snapshots: snaps,
		Keyspace:  keyspace,
		Actions:   actions,
		Redis:     s.target.Client,
		Tap:       s.tap,
	})
	defer app.Close()
	p := tea.NewProgram(app, tea.WithContext(ctx), tea.WithInput(d.Stdin), tea.WithOutput(d.Stdout))
	_, err = p.Run()
	// A program stopped by the context (a signal) is not a failure; any
	// other error of the program is, and is returned. Read before cancel,
	// which ends the context in any case.
	interrupted := ctx.Err() != nil
	cancel()
	<-done
	if err != nil && !interrupted {
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}

// redactSnapshot returns the snapshot with the target's secrets removed
// from every text that may quote an error: the health, the alerts, the
// nodes and the events. Snapshots are immutable, so it copies what it
// changes and returns s itself when there is nothing to remove.
func redactSnapshot(s *monitor.Snapshot, t *connect.Target) *monitor.Snapshot {
	changed := false
	red := func(text string) string {
		r := t.Redact(text)
		changed = changed || r != text
		return r
	}
	c := *s
	c.Health.Error, c.Health.Reason = red(s.Health.Error), red(s.Health.Reason)
	if s.Health.Err != nil {
		if msg := red(s.Health.Err.Error()); msg != s.Health.Err.Error() {
			c.Health.Err = redactedError{msg: msg, err: s.Health.Err}
		}
	}
	c.Alerts = make([]monitor.Alert, len(s.Alerts))
	for i, a := range s.Alerts {
		a.Message = red(a.Message)
		c.Alerts[i] = a
	}
	c.Nodes = make([]monitor.NodeStatus, len(s.Nodes))
	for i, n := range s.Nodes {
		n.Error, n.Reason = red(n.Error), red(n.Reason)
		if n.Snapshot != nil {
			n.Snapshot = redactSnapshot(n.Snapshot, t)
			changed = changed || n.Snapshot != s.Nodes[i].Snapshot
		}
		c.Nodes[i] = n
	}
	c.Events = make([]monitor.TopologyEvent, len(s.Events))
	for i, e := range s.Events {
		e.Message = red(e.Message)
		c.Events[i] = e
	}
	if c.Cluster != nil {
		cl := *c.Cluster
		cl.Error = red(cl.Error)
		c.Cluster = &cl
	}
	if len(s.Unavailable) > 0 {
		c.Unavailable = make(map[monitor.Panel]string, len(s.Unavailable))
		for p, why := range s.Unavailable {
			c.Unavailable[p] = red(why)
		}
	}
	if !changed {
		return s
	}
	return &c
}

// redactedError reads without the secrets; the original stays reachable
// for errors.Is.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// recoverTo turns a panic in a background goroutine into a logged error
// and a clean shutdown, so the terminal is restored instead of left raw.
func recoverTo(logger *slog.Logger, cancel context.CancelFunc) {
	if r := recover(); r != nil {
		logger.Error("background goroutine panicked", "panic", r)
		cancel()
	}
}
