package monitor

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// The notify-keyspace-events flags key events need: E (keyevent channels),
// g (generic commands: del), x (expired), e (evicted). A is an alias that
// includes g, x and e.
const keyEventFlags = "Egxe"

// KeyEventsConfig is the server's notify-keyspace-events setting, as
// CONFIG GET reads it (on a cluster, on every node: a flag counts as on
// only if every node has it).
type KeyEventsConfig struct {
	// Available is false when the server refused CONFIG GET (an ACL, a
	// managed service); Reason then has its answer.
	Available bool
	Reason    string
	// Flags is the setting as the server reported it ("" when off; the
	// first node's on a cluster). Untrusted text.
	Flags string
	// Expired, Evicted and Del report whether the keyevent notifications
	// of each kind are on.
	Expired, Evicted, Del bool
}

// Enabled reports whether expired, evicted and del events are all on.
func (c KeyEventsConfig) Enabled() bool { return c.Available && c.Expired && c.Evicted && c.Del }

// Missing returns the flags [EnableKeyEvents] would add ("" when none).
func (c KeyEventsConfig) Missing() string { return missingKeyEventFlags(c.Flags) }

// missingKeyEventFlags returns the flags of keyEventFlags that flags lacks.
// The flags are case-sensitive: "e" (evicted) and "E" (keyevent channels)
// are different.
func missingKeyEventFlags(flags string) string {
	var out strings.Builder
	for _, f := range keyEventFlags {
		if strings.ContainsRune(flags, f) {
			continue
		}
		if f != 'E' && strings.ContainsRune(flags, 'A') {
			continue // A includes g, x and e
		}
		out.WriteRune(f)
	}
	return out.String()
}

func keyEventsConfigOf(flags string) KeyEventsConfig {
	missing := missingKeyEventFlags(flags)
	keyevent := !strings.ContainsRune(missing, 'E')
	return KeyEventsConfig{
		Available: true,
		Flags:     flags,
		Expired:   keyevent && !strings.ContainsRune(missing, 'x'),
		Evicted:   keyevent && !strings.ContainsRune(missing, 'e'),
		Del:       keyevent && !strings.ContainsRune(missing, 'g'),
	}
}

// ReadKeyEventsConfig reads notify-keyspace-events with CONFIG GET (a
// read; on a cluster, from every node). A server that refuses CONFIG GET
// gives Available false and a nil error; a network failure is an error.
func ReadKeyEventsConfig(ctx context.Context, rdb redis.UniversalClient) (KeyEventsConfig, error) {
	nodes, err := channelNodes(ctx, rdb)
	if err != nil {
		return KeyEventsConfig{}, err
	}
	var out KeyEventsConfig
	for i, node := range nodes {
		flags, err := configGetFlags(ctx, node)
		if err != nil {
			if isServerError(err) {
				return KeyEventsConfig{Reason: err.Error()}, nil
			}
			return KeyEventsConfig{}, err
		}
		c := keyEventsConfigOf(flags)
		if i == 0 {
			out = c
			continue
		}
		out.Expired, out.Evicted, out.Del = out.Expired && c.Expired, out.Evicted && c.Evicted, out.Del && c.Del
	}
	return out, nil
}

func configGetFlags(ctx context.Context, node doer) (string, error) {
	v, err := node.Do(ctx, "config", "get", "notify-keyspace-events").Result()
	if err != nil {
		return "", err
	}
	switch r := v.(type) {
	case []any: // RESP2: name, value
		if len(r) >= 2 {
			if s, ok := r[1].(string); ok {
				return s, nil
			}
		}
	case map[any]any: // RESP3
		for _, val := range r {
			if s, ok := val.(string); ok {
				return s, nil
			}
		}
	}
	return "", errUnexpectedReply("CONFIG GET", v)
}

// EnableKeyEvents turns on the keyevent notifications for expired, evicted
// and del keys: CONFIG SET notify-keyspace-events to the current flags
// plus the missing ones of E, g, x and e (on a cluster, on every node). It
// never removes a flag, and sends nothing when none is missing.
//
// It is a write to the server's configuration, for an explicit, confirmed
// user action in write mode only: allowed is the caller's write-mode
// decision, and without it EnableKeyEvents returns ErrReadOnly and sends
// nothing. It returns the configuration read back afterwards.
//
// Key events cost the server some work on every expiry, eviction and
// deletion, and are published to every subscriber of those channels.
func EnableKeyEvents(ctx context.Context, rdb redis.UniversalClient, allowed bool) (KeyEventsConfig, error) {
	if !allowed {
		return KeyEventsConfig{}, ErrReadOnly
	}
	nodes, err := channelNodes(ctx, rdb)
	if err != nil {
		return KeyEventsConfig{}, err
	}
	for _, node := range nodes {
		flags, err := configGetFlags(ctx, node)
		if err != nil {
			return KeyEventsConfig{}, fmt.Errorf("monitor: reading notify-keyspace-events: %w", err)
		}
		missing := missingKeyEventFlags(flags)
		if missing == "" {
			continue
		}
		if err := node.Do(ctx, "config", "set", "notify-keyspace-events", flags+missing).Err(); err != nil {
			return KeyEventsConfig{}, explainPermission(rdb, fmt.Errorf("monitor: setting notify-keyspace-events: %w", err))
		}
	}
	return ReadKeyEventsConfig(ctx, rdb)
}
