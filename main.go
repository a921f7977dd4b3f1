// Command cachescope is a terminal dashboard for Redis caches, with
// headless subcommands for scripts. See README.md.
package main

import (
	"os"

	"github.com/cachescope/cachescope/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(cli.Execute(cli.Deps{Keys: defaultKeyMap(), Version: version}, os.Args[1:]))
}
