// Package redistest starts real redis-server processes for tests.
//
// Each server listens on a free loopback port, keeps its files in a
// temporary directory, has persistence turned off and is stopped when the
// test (or the TestMain that started it) ends. Where redis-server is not
// installed, tests that need it are skipped with a message saying how to
// install it, unless CACHESCOPE_REQUIRE_REDIS=1 is set, in which case they
// fail: CI sets it so a missing server can never pass silently.
//
// The processes themselves are run by internal/redisproc: [NewServer]
// knows nothing about testing (a TestMain can share one server between
// tests); [Start] wraps it for a single test. Topologies with several
// processes (a cluster, a sentinel group) are built from the same block.
package redistest

import (
	"os"
	"testing"

	"github.com/cachescope/cachescope/internal/redisproc"
)

// RequireEnv is the environment variable that turns a missing redis-server
// from a skipped test into a failed one.
const RequireEnv = "CACHESCOPE_REQUIRE_REDIS"

// Server is a running (or stopped) redis-server process.
type Server = redisproc.Server

// Config describes one redis-server process.
type Config = redisproc.Config

// NewServer starts a redis-server outside any one test; the caller must
// Close it.
func NewServer(cfg Config) (*Server, error) { return redisproc.Start(cfg) }

// Require skips the test when redis-server is missing, or fails it when
// CACHESCOPE_REQUIRE_REDIS=1. It returns the binary's path.
func Require(tb testing.TB) string {
	tb.Helper()
	p, err := redisproc.Binary()
	if err == nil {
		return p
	}
	if os.Getenv(RequireEnv) == "1" {
		tb.Fatalf("%v (%s=1 makes this a failure)", err, RequireEnv)
	}
	tb.Skipf("%v; integration test skipped", err)
	return ""
}

// Start starts a redis-server for one test and stops it when the test ends.
// args are extra redis-server arguments.
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	Require(tb)
	s, err := redisproc.Start(Config{Args: args})
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
