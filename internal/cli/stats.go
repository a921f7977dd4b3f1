package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachescope/cachescope/internal/connect"
	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

func newStatsCmd(d *Deps, cf *connFlags) *cobra.Command {
	var asJSON, watch bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Print the server's rates, memory and alerts (two samples apart)",
		Long: `stats samples the server twice, --interval apart, so the rates are real,
and prints a summary (or JSON with --json). With --watch it prints one line
per interval, like redis-cli --stat, until interrupted.

Exit status: 0 ok, 1 server unreachable or error, 2 usage.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if interval <= 0 {
				return usagef("--interval must be positive")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			target, err := cf.open(ctx, d)
			if err != nil {
				return err
			}
			defer target.Client.Close()
			if watch {
				return watchStats(ctx, d.Stdout, target, interval, asJSON)
			}
			snap, err := monitor.Sample(ctx, target.Client, interval, monitor.Options{Addr: target.Display})
			if snap != nil {
				snap = redactSnapshot(snap, target)
			}
			if asJSON && snap != nil {
				if werr := writeJSON(d.Stdout, monitor.NewReport(snap)); werr != nil {
					return werr
				}
			} else if err == nil {
				printStats(d.Stdout, snap)
			}
			if err != nil {
				return serverError(target, err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (one object; one per line with --watch)")
	cmd.Flags().BoolVar(&watch, "watch", false, "print a line per interval until interrupted")
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "time between the samples")
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// printStats prints a snapshot as a readable table.
func printStats(w io.Writer, s *monitor.Snapshot) {
	r := monitor.NewReport(s)
	hit := "- (no lookups)"
	if r.HitRate != nil {
		hit = fmt.Sprintf("%.2f%%", *r.HitRate*100)
	}
	maxmem := "no limit"
	if r.MaxMemory > 0 {
		maxmem = monitor.FormatBytes(r.MaxMemory) + " (" + sanitize.Line(r.MaxMemoryPolicy) + ")"
	}
	rows := [][2]string{
		{"server", sanitize.Line(r.Addr) + "  redis " + sanitize.Line(r.Version) + " " + sanitize.Line(r.Mode) + " " + sanitize.Line(r.Role)},
		{"round trip", fmt.Sprintf("%.3f ms", r.RTTMs)},
		{"ops/s", fmt.Sprintf("%.1f", r.OpsPerSec)},
		{"hit rate", hit},
		{"hits/s", fmt.Sprintf("%.1f", r.HitsPerSec)},
		{"misses/s", fmt.Sprintf("%.1f", r.MissesPerSec)},
		{"memory", monitor.FormatBytes(r.UsedMemory) + " of " + maxmem},
		{"fragmentation", fmt.Sprintf("%.2f", r.FragmentationRatio)},
		{"evicted/s", fmt.Sprintf("%.1f", r.EvictedPerSec)},
		{"expired/s", fmt.Sprintf("%.1f", r.ExpiredPerSec)},
		{"clients", fmt.Sprintf("%d connected, %d blocked", r.ConnectedClients, r.BlockedClients)},
		{"keys", fmt.Sprint(r.Keys)},
	}
	for _, row := range rows {
		fmt.Fprintf(w, "%-14s %s\n", row[0], row[1])
	}
	if len(r.Alerts) == 0 {
		fmt.Fprintf(w, "%-14s %s\n", "alerts", "none")
	}
	for _, a := range r.Alerts {
		fmt.Fprintf(w, "%-14s %s: %s\n", "alert", a.Level, sanitize.Line(a.Message))
	}
	if !r.RatesValid {
		fmt.Fprintln(w, "(rates not valid: the server restarted or reset its statistics during the sample)")
	}
	if len(r.Nodes) > 1 {
		printNodes(w, r)
	}
}

// printNodes prints a cluster's nodes, one per line, each master followed
// by its replicas.
func printNodes(w io.Writer, r monitor.Report) {
	if c := r.Cluster; c != nil {
		fmt.Fprintf(w, "\ncluster state %s: %d/%d slots ok (%d pfail, %d fail), %d masters, %d replicas, %d down\n",
			sanitize.Line(c.State), c.SlotsOK, c.SlotsAssigned, c.SlotsPFail, c.SlotsFail, c.Masters, c.Replicas, c.NodesDown)
	}
	const format = "%-21s %-8s %-12s %-5s %9s %7s %9s %10s %8s  %s\n"
	fmt.Fprintf(w, format, "node", "role", "slots", "up", "ops/s", "hit%", "memory", "keys", "clients", "lag / state")
	for _, n := range r.Nodes {
		up, hit, lag := "up", "-", ""
		if !n.Up {
			up = "DOWN"
			lag = sanitize.Line(n.Error)
		}
		if n.HitRate != nil {
			hit = fmt.Sprintf("%.1f", *n.HitRate*100)
		}
		if n.Up && n.LagBytes != nil {
			lag = fmt.Sprintf("%s behind, ack %ds ago", monitor.FormatBytes(*n.LagBytes), *n.LagSec)
		}
		if n.Up && n.LinkStatus == "down" {
			lag = "link to master down"
		}
		if n.Hottest {
			lag = strings.TrimSpace("hottest " + lag)
		}
		slots := n.Slots
		if len(slots) > 12 {
			slots = fmt.Sprintf("%d slots", n.SlotCount)
		}
		fmt.Fprintf(w, format, sanitize.Line(n.Addr), sanitize.Line(n.Role), sanitize.Line(slots), up,
			fmt.Sprintf("%.1f", n.OpsPerSec), hit, monitor.FormatBytes(n.UsedMemory), fmt.Sprint(n.Keys),
			fmt.Sprint(n.ConnectedClients), lag)
	}
	for _, e := range r.Events {
		fmt.Fprintf(w, "%-14s %s %s\n", "event", e.Time.Format("15:04:05"), sanitize.Line(e.Message))
	}
}

// watchStats prints a line per interval, with the header every 20 lines.
func watchStats(ctx context.Context, w io.Writer, target *connect.Target, interval time.Duration, asJSON bool) error {
	p := monitor.NewPoller(target.Client, monitor.Options{Interval: interval, Addr: target.Display})
	defer p.Close()
	n := 0
	err := p.Run(ctx, func(s *monitor.Snapshot) {
		s = redactSnapshot(s, target)
		if asJSON {
			_ = writeJSON(w, monitor.NewReport(s))
			return
		}
		if n%20 == 0 {
			fmt.Fprintln(w, monitor.StatHeader())
		}
		n++
		if !s.Rates.Valid && s.Health.Up {
			return // the first tick only sets the baseline
		}
		fmt.Fprintln(w, monitor.StatLine(s))
	})
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil // interrupted: the normal end of --watch
	}
	return err
}
