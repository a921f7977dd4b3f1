package cli

import (
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cachescope/cachescope/internal/sanitize"
	"github.com/cachescope/cachescope/monitor"
)

func newRestoreCmd(d *Deps, cf *connFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Put back the keys of a backup taken before a deletion",
		Long: `restore puts back the keys of a backup file written by "cachescope
invalidate" or a deletion in the dashboard, with RESTORE ... REPLACE: a key
that exists again is overwritten. Each key gets the time to live it had
left when it was backed up, less the time since, so it expires when it
would have; keys whose TTL ran out meanwhile are skipped and counted as
expired. The restore is recorded in the audit log.

With --json the result is one object: file, restored, expired, failed,
errors, duration_ms, and the backup's header (created, server, action,
pattern).

Exit status: 0 ok, 1 server error, unreadable file, keys that failed or
interrupted, 2 usage or read-only mode.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
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
			if ok, reason := acts.Writable(); !ok {
				return usagef("refusing to restore: %s", reason)
			}
			res, err := acts.Restore(ctx, a[0])
			if perr := printRestore(d.Stdout, a[0], res, asJSON); perr != nil {
				return perr
			}
			switch {
			case errors.Is(err, monitor.ErrBackupFormat):
				return fmt.Errorf("%s", sanitize.Line(err.Error()))
			case err != nil:
				return serverError(target, err)
			case res.Failed > 0:
				return fmt.Errorf("%d keys could not be restored", res.Failed)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

type restoreJSON struct {
	File       string   `json:"file"`
	Restored   int64    `json:"restored"`
	Expired    int64    `json:"expired"`
	Failed     int64    `json:"failed"`
	Errors     []string `json:"errors"`
	DurationMs int64    `json:"duration_ms"`
	Created    string   `json:"created,omitempty"`
	Server     string   `json:"server,omitempty"`
	Action     string   `json:"action,omitempty"`
	Pattern    string   `json:"pattern,omitempty"`
}

func printRestore(w io.Writer, file string, r monitor.RestoreResult, asJSON bool) error {
	if asJSON {
		j := restoreJSON{File: file, Restored: r.Restored, Expired: r.Expired, Failed: r.Failed, Errors: r.Errors,
			DurationMs: r.Duration.Milliseconds(), Server: r.Header.Server, Action: r.Header.Action, Pattern: r.Header.Pattern}
		if j.Errors == nil {
			j.Errors = []string{}
		}
		if !r.Header.Created.IsZero() {
			j.Created = r.Header.Created.UTC().Format(time.RFC3339)
		}
		return jsonLine(w, j)
	}
	if r.Header.Action != "" {
		fmt.Fprintf(w, "backup of %s %s on %s, taken %s\n", sanitize.Line(r.Header.Action), sanitize.Line(r.Header.Pattern),
			sanitize.Line(r.Header.Server), r.Header.Created.Local().Format(time.DateTime))
	}
	fmt.Fprintf(w, "restored %d keys (%d expired meanwhile, skipped; %d failed) in %s\n", r.Restored, r.Expired, r.Failed, r.Duration.Round(time.Millisecond))
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  %s\n", sanitize.Line(e))
	}
	return nil
}
