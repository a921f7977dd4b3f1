package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachescope/cachescope/internal/connect"
	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

// typedConfirmAbove is the match count above which the user must type the
// pattern or the count instead of "y".
const typedConfirmAbove = 1000

type invalidateFlags struct {
	dryRun, yes, noBackup, asJSON bool
	rate, sample                  int
	backup                        string
}

func newInvalidateCmd(d *Deps, cf *connFlags) *cobra.Command {
	var f invalidateFlags
	cmd := &cobra.Command{
		Use:   "invalidate PATTERN",
		Short: "Delete the keys matching a pattern, paced, with a backup to restore",
		Long: `invalidate deletes every key matching PATTERN (a Redis glob over whole keys,
e.g. "shop:product:*"), walking each master with SCAN and deleting with
UNLINK in small batches at --rate keys per second. Before each batch is
deleted its keys are dumped (DUMP and PTTL) to a backup file, by default a
new file under $XDG_STATE_HOME/cachescope/backups (~/.local/state/...), so
"cachescope restore FILE" can undo it; --no-backup skips that. Every run is
recorded in the audit log next to it.

Without --yes it first shows how many keys match and a sample, then asks:
"y" for up to 1000 keys on this machine; otherwise you type the pattern or
the number of keys. Without a terminal and without --yes it refuses.
--dry-run only shows what would be deleted (allowed in read-only mode).
Ctrl-C stops it promptly and reports what was deleted.

With --json the result is one object: pattern, scanned, matched, deleted,
duration_ms, dry_run, backup, backed_up, sample, interrupted.

Exit status: 0 ok, 1 server error or interrupted, 2 usage, read-only mode,
or not confirmed.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			return runInvalidate(cmd.Context(), d, cf, &f, a[0])
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.dryRun, "dry-run", false, "only count the matching keys and show a sample")
	fl.BoolVar(&f.yes, "yes", false, "do not ask for confirmation")
	fl.IntVar(&f.rate, "rate", 5000, "delete at most this many keys per second (0: unpaced)")
	fl.StringVar(&f.backup, "backup", "", "dump the keys to this file before deleting them (default: a new file in the state directory)")
	fl.BoolVar(&f.noBackup, "no-backup", false, "do not back up the keys (no undo)")
	fl.IntVar(&f.sample, "sample", 10, "how many matching keys to show")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	return cmd
}

func runInvalidate(ctx context.Context, d *Deps, cf *connFlags, f *invalidateFlags, pattern string) error {
	switch {
	case pattern == "":
		return usagef("the pattern is empty")
	case f.rate < 0 || f.sample < 0:
		return usagef("--rate and --sample must not be negative")
	case f.noBackup && f.backup != "":
		return usagef("--backup and --no-backup exclude each other")
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	target, err := cf.open(ctx, d)
	if err != nil {
		return err
	}
	defer target.Client.Close()
	acts, err := newActions(target, cf)
	if err != nil {
		return err
	}
	if ok, reason := acts.Writable(); !ok && !f.dryRun {
		return usagef("refusing to invalidate: %s", reason)
	}
	opts := monitor.InvalidateOptions{DryRun: true, SampleSize: f.sample}
	if f.dryRun {
		rep, err := acts.Invalidate(ctx, pattern, opts)
		if err != nil {
			return serverError(target, err)
		}
		return printInvalidate(d.Stdout, rep, f.asJSON, false)
	}
	if !f.yes {
		confirmed, empty, err := confirmInvalidate(ctx, d, target, acts, pattern, f.sample)
		if err != nil {
			return err
		}
		if empty {
			return printInvalidate(d.Stdout, monitor.InvalidateReport{Pattern: pattern}, f.asJSON, false)
		}
		if !confirmed {
			return usagef("not confirmed; nothing was deleted")
		}
	}
	opts.DryRun, opts.MaxRate = false, f.rate
	if !f.noBackup {
		if opts.Backup = f.backup; opts.Backup == "" {
			if opts.Backup, err = acts.NewBackupPath("invalidate"); err != nil {
				return err
			}
		}
	}
	if isTerminal(d.Stderr) {
		opts.Progress = progressLine(d.Stderr)
	}
	rep, err := acts.Invalidate(ctx, pattern, opts)
	if isTerminal(d.Stderr) {
		fmt.Fprintln(d.Stderr)
	}
	interrupted := errors.Is(err, context.Canceled)
	if perr := printInvalidate(d.Stdout, rep, f.asJSON, interrupted); perr != nil {
		return perr
	}
	if err != nil {
		if interrupted {
			return fmt.Errorf("interrupted after deleting %d of %d matched keys", rep.Deleted, rep.Matched)
		}
		return serverError(target, err)
	}
	return nil
}

// newActions builds the writer for a command, with write mode decided
// from the flags and the target.
func newActions(target *connect.Target, cf *connFlags) (*monitor.Actions, error) {
	write, reason := connect.WriteMode(target, cf.write, cf.readOnly)
	return monitor.NewActions(target.Client, monitor.ActionsOptions{Write: write, Reason: reason, Server: target.Display})
}

// confirmInvalidate shows a dry run and asks. empty reports that nothing
// matches (no question asked).
func confirmInvalidate(ctx context.Context, d *Deps, target *connect.Target, acts *monitor.Actions, pattern string, sample int) (confirmed, empty bool, err error) {
	if !isTerminal(d.Stdin) {
		return false, false, usagef("refusing to delete without confirmation: no terminal to ask on; pass --yes to confirm, or --dry-run to preview")
	}
	preview, err := acts.Invalidate(ctx, pattern, monitor.InvalidateOptions{DryRun: true, SampleSize: sample})
	if err != nil {
		return false, false, serverError(target, err)
	}
	if preview.Matched == 0 {
		fmt.Fprintf(d.Stderr, "No key matches %s on %s.\n", sanitize.Line(pattern), sanitize.Line(target.Display))
		return false, true, nil
	}
	w := d.Stderr
	fmt.Fprintf(w, "%d keys match %s on %s (%d examined), for example:\n",
		preview.Matched, sanitize.Line(pattern), sanitize.Line(target.Display), preview.Scanned)
	for _, k := range preview.Sample {
		fmt.Fprintf(w, "  %s\n", sanitize.Truncate(sanitize.Line(k), 120))
	}
	in := bufio.NewReader(d.Stdin)
	count := strconv.FormatInt(preview.Matched, 10)
	if preview.Matched > typedConfirmAbove || !target.Loopback {
		why := "more than " + strconv.Itoa(typedConfirmAbove) + " keys"
		if !target.Loopback {
			why = "a server that is not on this machine"
		}
		fmt.Fprintf(w, "This deletes keys on %s. Type the pattern or the number of keys (%s) to confirm: ", why, count)
		answer, _ := readAnswer(in)
		return answer == pattern || answer == count, false, nil
	}
	fmt.Fprintf(w, "Delete these %s keys? [y/N] ", count)
	answer, _ := readAnswer(in)
	answer = strings.ToLower(answer)
	return answer == "y" || answer == "yes", false, nil
}

// readAnswer reads one line, without its line ending.
func readAnswer(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// progressLine returns a Progress callback that redraws one status line
// at most every 100ms.
func progressLine(w io.Writer) func(monitor.InvalidateReport) {
	return throttledLine(w, func(r monitor.InvalidateReport) string {
		return fmt.Sprintf("scanned ~%d, matched %d, deleted %d", r.Scanned, r.Matched, r.Deleted)
	})
}

// throttledLine returns a progress callback that redraws one status line
// on w, at most every 100ms, with the text line makes of a report.
func throttledLine[R any](w io.Writer, line func(R) string) func(R) {
	var mu sync.Mutex
	var last time.Time
	return func(r R) {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(last) < 100*time.Millisecond {
			return
		}
		last = time.Now()
		fmt.Fprint(w, "\r\x1b[K"+line(r))
	}
}

// invalidateJSON is the JSON form of a result.
type invalidateJSON struct {
	Pattern     string   `json:"pattern"`
	Scanned     int64    `json:"scanned"`
	Matched     int64    `json:"matched"`
	Deleted     int64    `json:"deleted"`
	DurationMs  int64    `json:"duration_ms"`
	DryRun      bool     `json:"dry_run"`
	Backup      string   `json:"backup,omitempty"`
	BackedUp    int64    `json:"backed_up"`
	Sample      []string `json:"sample"`
	Interrupted bool     `json:"interrupted"`
}

func printInvalidate(w io.Writer, r monitor.InvalidateReport, asJSON, interrupted bool) error {
	if asJSON {
		sample := r.Sample
		if sample == nil {
			sample = []string{}
		}
		return jsonLine(w, invalidateJSON{
			Pattern: r.Pattern, Scanned: r.Scanned, Matched: r.Matched, Deleted: r.Deleted,
			DurationMs: r.Duration.Milliseconds(), DryRun: r.DryRun, Backup: r.Backup, BackedUp: r.BackedUp,
			Sample: sample, Interrupted: interrupted,
		})
	}
	if r.DryRun {
		fmt.Fprintf(w, "%d keys match %s (%d examined); dry run, nothing deleted\n", r.Matched, sanitize.Line(r.Pattern), r.Scanned)
		for _, k := range r.Sample {
			fmt.Fprintf(w, "  %s\n", sanitize.Truncate(sanitize.Line(k), 120))
		}
		return nil
	}
	fmt.Fprintf(w, "deleted %d of %d matching keys (%d examined) in %s\n", r.Deleted, r.Matched, r.Scanned, r.Duration.Round(time.Millisecond))
	if r.Backup != "" {
		fmt.Fprintf(w, "backup: %d keys in %s\nundo with: cachescope restore %s\n", r.BackedUp, sanitize.Line(r.Backup), shellQuote(r.Backup))
	}
	return nil
}

// shellQuote quotes a path for copying into a shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(sanitize.Line(s), "'", `'\''`) + "'"
}
