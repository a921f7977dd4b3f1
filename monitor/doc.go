// Package monitor reads a Redis server's health and statistics for the
// cachescope dashboard and the `cachescope stats` command. It knows nothing
// about terminals or Bubble Tea: it produces immutable values that a UI only
// renders.
//
// A [Poller] samples one server in tiers so that watching it costs the server
// about one command per second at the default refresh: every second one
// multi-section INFO (also timed for the round-trip latency); every ten
// seconds the command and error statistics (that tick's INFO is INFO all, at
// no extra command) and LATENCY HISTOGRAM; every thirty seconds new SLOWLOG
// entries and LATENCY LATEST. That is 1 + 1/10 + 2/30 ≈ 1.17 commands a
// second. Rates come from deltas between samples, with the poller's own
// commands subtracted, and are rebaselined when the server restarts or its
// statistics are reset. Each tick yields a [Snapshot] with rates, time series
// in fixed-size rings, health, and alerts evaluated against [Thresholds].
//
//	p := monitor.NewPoller(rdb, monitor.Options{})
//	go p.Run(ctx, func(s *monitor.Snapshot) { send(s) })
//
// [Sample] is the one-shot form used by `cachescope stats`: two samples an
// interval apart, so its rates are real; [NewReport] turns the result into a
// JSON-friendly value and [StatLine] into a `redis-cli --stat`-like line.
//
// Pub/sub and the application, each started only while a view needs it:
//
//   - Snapshot.PubSub has the pubsub_channels/patterns gauges and the
//     PUBLISH/SPUBLISH rates at no extra command (INFO and commandstats).
//   - A [ChannelsPoller] lists channels and their subscribers (PUBSUB
//     CHANNELS, NUMSUB in chunks, and the shard variants) every ten seconds
//     or more, bounded to 1000 channels.
//   - A [Tap] is the opt-in live view: PSUBSCRIBE (and SSUBSCRIBE for named
//     shard channels) on connections of its own, a bounded ring of
//     messages, per-channel rates; it drops and counts rather than block or
//     grow, and reconnects when the server disconnects it.
//     [FormatPayload] and [PayloadPreview] render payloads inert.
//   - [KeyEvents] follows expired, evicted and del key events as rates when
//     notify-keyspace-events enables them ([ReadKeyEventsConfig]);
//     [EnableKeyEvents] is the explicit write action that turns them on.
//   - An [AppPoller] reads cachecore's telemetry (two round trips per
//     read, whatever the keyspace) into per-instance and summed
//     per-namespace hit rates, load times, breaker states and limiter
//     decisions, with histories for sparklines.
//
// Everything a server sends is treated as untrusted text: parsing never
// panics, and strings are passed on unchanged for the UI to sanitize.
//
// Deployments: a poller watches one server, the master a Sentinel
// failover client resolves (following failovers: Snapshot.Sentinel names
// the master, a switch is a TopologyFailover event and alert, and the new
// run_id rebaselines the rates), or every node of a Redis Cluster. On a
// cluster each node, masters and replicas, is polled in parallel on a
// connection of its own with the same tiers (so each node sees about 1.2
// commands a second: the 1.17 above plus its turn at reading the topology
// with CLUSTER SHARDS and the state with CLUSTER INFO, one node every
// Options.ClusterInterval); Snapshot.Nodes keeps every node's numbers and
// snapshot, Snapshot.Cluster the cluster's state, and the top-level fields
// aggregate them (see [Snapshot]), so a view written for one server works
// on a cluster unchanged. Failovers, nodes going down or coming back and
// restarts are TopologyEvents; cluster state, failing slots and nodes down
// are alerts.
package monitor
