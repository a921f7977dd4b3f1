package redistest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// ErrForbidden is what a guarded client returns instead of sending a
// forbidden command.
var ErrForbidden = fmt.Errorf("redistest: command forbidden against a user's server")

// ForbidDangerous adds a hook to client that fails the test, and refuses to
// send the command, whenever code under test sends one the safety model
// forbids against a user's server: KEYS, MONITOR, FLUSHALL, FLUSHDB, DEBUG
// or CONFIG SET (pipelines and transactions included). A test that needs
// such a command for its own setup uses another client.
func ForbidDangerous(tb testing.TB, client redis.UniversalClient) {
	tb.Helper()
	client.AddHook(guardHook{tb: tb})
}

// Dangerous reports whether args form a command the safety model forbids,
// and names it.
func Dangerous(args []any) (string, bool) {
	if len(args) == 0 {
		return "", false
	}
	name := strings.ToLower(fmt.Sprint(args[0]))
	switch name {
	case "keys", "monitor", "flushall", "flushdb", "debug":
		return strings.ToUpper(name), true
	case "config":
		if len(args) > 1 && strings.EqualFold(fmt.Sprint(args[1]), "set") {
			return "CONFIG SET", true
		}
	}
	return "", false
}

type guardHook struct{ tb testing.TB }

func (h guardHook) check(cmd redis.Cmder) error {
	if name, bad := Dangerous(cmd.Args()); bad {
		// Errorf, not Fatalf: hooks may run on goroutines other than the
		// test's.
		h.tb.Errorf("redistest: code under test sent %s (%v)", name, cmd.Args())
		cmd.SetErr(ErrForbidden)
		return ErrForbidden
	}
	return nil
}

func (h guardHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

func (h guardHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if err := h.check(cmd); err != nil {
			return err
		}
		return next(ctx, cmd)
	}
}

func (h guardHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if err := h.check(cmd); err != nil {
				return err
			}
		}
		return next(ctx, cmds)
	}
}
