package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cachescope/cachescope/internal/connect"
	"github.com/cachescope/cachescope/internal/demo"
)

func newDemoCmd(d *Deps, df *dashboardFlags) *cobra.Command {
	var embedded bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the dashboard on a throwaway server with a realistic cache workload",
		Long: `demo starts a throwaway Redis (redis-server from PATH on a free loopback
port, without persistence; or an embedded server when there is none), runs a
shop-like workload through cachecore against it, and opens the dashboard on
it in write mode. Quitting stops everything it started and removes its files.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := d.logger
			ctx := cmd.Context()
			dm, err := demo.Start(ctx, demo.Options{Embedded: embedded, Logger: logger})
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			defer dm.Close()
			target, err := connect.Open(ctx, connect.Config{URL: "redis://" + dm.Addr})
			if err != nil {
				return err
			}
			defer target.Client.Close()
			if dm.Embedded {
				target.Display += " (embedded demo)"
			} else {
				target.Display += " (demo)"
			}
			return runUI(ctx, d, uiSession{target: target, write: true, refresh: df.refresh,
				logger: logger, embedded: dm.Embedded})
		},
	}
	cmd.Flags().BoolVar(&embedded, "embedded", false, "use the embedded server even if redis-server is installed")
	return cmd
}
