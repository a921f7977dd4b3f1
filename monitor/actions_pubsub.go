package monitor

import (
	"context"
	"fmt"
)

// Actions recorded in the audit log for pub/sub.
const (
	ActionPublish         = "publish"
	ActionEnableKeyEvents = "enable_key_events"
)

// Publish publishes message on channel (PUBLISH) and returns how many
// subscribers received it. It is a write: refused without write mode, and
// audited (the message itself is not recorded, only its size).
func (a *Actions) Publish(ctx context.Context, channel, message string) (int64, error) {
	if err := a.begin(); err != nil {
		return 0, err
	}
	if channel == "" {
		return 0, a.record(AuditEntry{Action: ActionPublish}, fmt.Errorf("%w: empty channel", ErrBadQuery))
	}
	n, err := a.rdb.Publish(ctx, channel, message).Result()
	entry := AuditEntry{Action: ActionPublish, Keys: auditKeyList([]string{channel}), Count: n,
		Detail: fmt.Sprintf("%d bytes to %d subscribers", len(message), n)}
	return n, a.record(entry, err)
}

// EnableKeyEvents turns on the key events the pub/sub view follows
// (expired, evicted, del) with CONFIG SET notify-keyspace-events, adding
// the missing flags to the server's and removing none. It is the one
// CONFIG SET cachescope ever sends, and only as this explicit, audited
// write.
func (a *Actions) EnableKeyEvents(ctx context.Context) (KeyEventsConfig, error) {
	if err := a.begin(); err != nil {
		return KeyEventsConfig{}, err
	}
	before, _ := ReadKeyEventsConfig(ctx, a.rdb)
	cfg, err := EnableKeyEvents(ctx, a.rdb, true)
	entry := AuditEntry{Action: ActionEnableKeyEvents,
		Detail: fmt.Sprintf("notify-keyspace-events %q -> %q", before.Flags, cfg.Flags)}
	return cfg, a.record(entry, err)
}
