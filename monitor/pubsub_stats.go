package monitor

import "time"

// PubSubStats are the server's pub/sub figures. They cost no command of
// their own: the gauges come from every tick's INFO stats section, the
// publish rates from the command statistics of the detail tier (INFO all,
// every Options.DetailInterval).
type PubSubStats struct {
	// Channels is pubsub_channels: channels with at least one subscriber
	// (SUBSCRIBE), refreshed every tick.
	Channels int64
	// Patterns is pubsub_patterns: patterns with at least one subscriber
	// (PSUBSCRIBE), refreshed every tick.
	Patterns int64
	// ShardChannels is pubsubshard_channels (Redis 7+): shard channels with
	// at least one subscriber (SSUBSCRIBE). Meaningful only when
	// HasShardChannels.
	ShardChannels    int64
	HasShardChannels bool

	// PublishPerSec and SPublishPerSec are PUBLISH and SPUBLISH calls per
	// second over PublishWindow, from the commandstats deltas of the
	// detail tier. Meaningful only when PublishValid.
	PublishPerSec, SPublishPerSec float64
	// PublishCalls and SPublishCalls are the server's lifetime counts
	// (cmdstat_publish, cmdstat_spublish); 0 when never called.
	PublishCalls, SPublishCalls int64
	// PublishValid is true when the command statistics have rates: a
	// detail tier ran twice on the same baseline and the server reports
	// commandstats.
	PublishValid bool
	// PublishAt is when the publish figures were refreshed (as
	// Snapshot.DetailAt); PublishWindow is the time their rates cover.
	PublishAt     time.Time
	PublishWindow time.Duration
}

// pubSubOf builds the pub/sub figures of a tick from its INFO and the
// command statistics of the last detail tier.
func pubSubOf(info Info, commands []CommandStat, detailAt time.Time, detailWindow time.Duration) PubSubStats {
	p := PubSubStats{
		Channels:      intOf(info, "pubsub_channels"),
		Patterns:      intOf(info, "pubsub_patterns"),
		PublishAt:     detailAt,
		PublishWindow: detailWindow,
		PublishValid:  detailWindow > 0 && len(commands) > 0,
	}
	p.ShardChannels, p.HasShardChannels = info.Int("pubsubshard_channels")
	for _, c := range commands {
		switch c.Name {
		case "publish":
			p.PublishCalls, p.PublishPerSec = c.Calls, c.CallsPerSec
		case "spublish":
			p.SPublishCalls, p.SPublishPerSec = c.Calls, c.CallsPerSec
		}
	}
	return p
}
