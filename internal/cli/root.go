// Package cli is cachescope's command line: the dashboard (the root
// command) and the headless subcommands for scripts. main.go hands it the
// key map and the version; everything else is here.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/cachescope/cachescope/internal/connect"
	"github.com/cachescope/cachescope/ui"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // the server is unreachable, or a command failed
	ExitUsage = 2 // bad flags or arguments, or a refused confirmation
)

// Deps are what main provides.
type Deps struct {
	Keys    ui.KeyMap
	Version string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer

	logger     *slog.Logger
	closeLog   func()
	logSecrets *logRedactor
}

// args wraps a cobra argument validator so its complaints exit with
// ExitUsage.
func args(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := v(cmd, a); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// usageError marks an error that exits with ExitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Execute runs the command line and returns the exit code.
func Execute(d Deps, args []string) int {
	if d.Stdin == nil {
		d.Stdin = os.Stdin
	}
	if d.Stdout == nil {
		d.Stdout = os.Stdout
	}
	if d.Stderr == nil {
		d.Stderr = os.Stderr
	}
	root := newRoot(&d)
	root.SetArgs(args)
	root.SetIn(d.Stdin)
	root.SetOut(d.Stdout)
	root.SetErr(d.Stderr)
	err := root.Execute()
	if d.logger != nil {
		// The log gets the error too: after the dashboard it is the only
		// record of why it stopped.
		if err != nil {
			d.logger.Error("exiting", "error", err)
		}
		d.closeLog()
	}
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(d.Stderr, "cachescope:", err)
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, connect.ErrUsage) {
		return ExitUsage
	}
	return ExitError
}

func newRoot(d *Deps) *cobra.Command {
	var cf connFlags
	var df dashboardFlags
	root := &cobra.Command{
		Use:   "cachescope",
		Short: "Watch and act on a Redis cache, safely",
		Long: `cachescope shows a Redis cache live: hit rate, memory, evictions, slow
commands and alerts. Run it with no command for the dashboard, or try
"cachescope demo" to see it on an embedded server with a realistic workload.

Connect with --url (or REDIS_URL), or --host/--port (REDIS_HOST,
REDIS_PORT); the password comes from the URL, REDISCLI_AUTH,
REDIS_PASSWORD or --askpass, never from a flag. Writes are allowed on a
server on this machine and refused elsewhere unless --write is given.`,
		Version:       d.Version,
		Args:          args(cobra.NoArgs),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return d.openLog(cf.logFile)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDashboard(cmd, d, &cf, &df)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	cf.register(root)
	df.register(root)
	root.AddCommand(newStatsCmd(d, &cf), newDemoCmd(d, &df), newKeysCmd(d, &cf), newInvalidateCmd(d, &cf),
		newRestoreCmd(d, &cf), newAnalyzeCmd(d, &cf), newPubSubCmd(d, &cf))
	return root
}
