package monitor

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// doer is all a node needs from a client. redis.UniversalClient has it;
// tests can fake it.
type doer interface {
	Do(ctx context.Context, args ...any) *redis.Cmd
}

// tickSections are the INFO sections read on every tick (one multi-section
// INFO is Redis 7+; older servers get the default INFO instead). A detail
// tick sends INFO all, which adds commandstats and latencystats: asking for
// the eleven sections by name would pass the ten arguments Redis accepts
// from a client that has not authenticated yet, and a server requiring a
// password would answer with a protocol error instead of NOAUTH.
var tickSections = []string{"server", "clients", "memory", "stats", "persistence", "replication", "cpu", "keyspace"}

// refusedRetry is how long a panel the server refused waits before the
// poller asks again (sooner if the server restarts or comes back), so a
// permanent ACL denial costs one error reply every few minutes, not every
// tick.
const refusedRetry = 5 * time.Minute

// node polls one Redis server. It is the per-node unit a cluster poller will
// run once per node; all its state is private to it.
type node struct {
	addr string
	rdb  doer
	opts Options
	now  func() time.Time
	// unsupported, when set, fails every tick with this error.
	unsupported error

	mu sync.Mutex // one tick at a time

	legacyInfo bool // the server refused multi-section INFO (before 7.0)
	// resp3 is whether the client speaks RESP3, where INFO is a verbatim
	// string with a 4-byte "txt:" prefix: only for the traffic estimate.
	resp3 bool

	// What the poller itself made the server do, cumulatively.
	own       ownTraffic
	ownCalls  map[string]int64
	ownErrors map[string]int64

	prev       *tickBase // the last tick of the current baseline
	prevDetail *detailSample
	prevHist   map[string]histogram

	lastDetail, lastSlowlog time.Time
	refused                 map[Panel]refusal

	slowlogBaselined bool
	slowlogMaxID     int64
	slowlog          []SlowlogEntry
	latencyEvents    []LatencyEvent

	commands     []CommandStat
	errors       []ErrorStat
	detailAt     time.Time
	detailWindow time.Duration

	series series

	// member is set for a node of a cluster: its slowlog entries and
	// latency events name it.
	member bool

	// What a standalone or Sentinel poller adds to its snapshots (a node
	// of a cluster leaves them to the cluster poller).
	mode    string       // ModeStandalone or ModeSentinel; "" for a cluster's node
	tracker *dialTracker // the master a failover client reaches (Sentinel)
	events  eventLog
	// The last run_id and master address seen, across outages, to tell a
	// restart or a failover.
	lastRunID, lastMaster string
	sentinel              SentinelState
}

type tickBase struct {
	counters counters
	mark     ownTraffic
}

type refusal struct {
	reason string
	at     time.Time
}

func newNode(addr string, rdb doer, opts Options) *node {
	opts = opts.withDefaults()
	return &node{
		addr:         addr,
		rdb:          rdb,
		opts:         opts,
		now:          time.Now,
		ownCalls:     map[string]int64{},
		ownErrors:    map[string]int64{},
		refused:      map[Panel]refusal{},
		slowlogMaxID: -1,
		series:       newSeries(opts),
	}
}

// due reports whether a tier last run at last should run again. Half an
// interval of slack keeps a 5s tier from slipping to 6s when ticks arrive a
// little early.
func (n *node) due(last time.Time, every time.Duration, now time.Time) bool {
	return last.IsZero() || now.Sub(last) >= every-n.opts.Interval/2
}

// call sends one command on the poller's behalf and accounts for it, so
// the server's counters can be corrected for the poller's own traffic.
// name is the command as commandstats names it ("latency|histogram").
func (n *node) call(ctx context.Context, name string, args ...any) (any, error) {
	n.own.netIn += requestSize(args)
	v, err := n.rdb.Do(ctx, args...).Result()
	n.account(name, v, err)
	return v, err
}

func (n *node) account(name string, v any, err error) {
	switch {
	case err == nil:
		n.own.commands++
		n.ownCalls[name]++
		n.own.netOut += replySize(v)
	case isServerError(err):
		n.own.errors++
		n.ownErrors[errorPrefix(err)]++
		n.own.netOut += int64(len(err.Error())) + 3
		if !rejectedBeforeRunning(err) {
			n.own.commands++
			n.ownCalls[name]++
		}
	}
}

// readInfo sends the tick's INFO and times it. It returns the text, the
// round trip and the own-traffic mark to subtract from this tick's
// counters: everything sent before it, plus its own request bytes (the
// server has read them when it reports), but not the INFO itself (counted
// after it runs) nor its reply (written after).
func (n *node) readInfo(ctx context.Context, detail bool) (string, time.Duration, ownTraffic, error) {
	args := []any{"info"}
	switch {
	case detail:
		args = append(args, "all")
	case !n.legacyInfo:
		for _, s := range tickSections {
			args = append(args, s)
		}
	}
	n.own.netIn += requestSize(args)
	mark := n.own
	start := time.Now()
	v, err := n.rdb.Do(ctx, args...).Result()
	rtt := time.Since(start)
	n.account("info", v, err)
	if err == nil && n.resp3 {
		n.own.netOut += 4
	}
	if err != nil {
		if !n.legacyInfo && isServerError(err) && multiSectionRefused(err) {
			n.legacyInfo = true
			return n.readInfo(ctx, detail)
		}
		return "", rtt, mark, err
	}
	text, ok := v.(string)
	if !ok {
		return "", rtt, mark, errUnexpectedReply("INFO", v)
	}
	return text, rtt, mark, nil
}

// multiSectionRefused recognises how servers before Redis 7 reject INFO
// with several sections.
func multiSectionRefused(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "syntax error") || strings.Contains(msg, "wrong number of arguments")
}

// available reports whether a panel may be asked for now: not refused, or
// refused long enough ago to try again.
func (n *node) available(p Panel, now time.Time) bool {
	r, ok := n.refused[p]
	return !ok || now.Sub(r.at) >= refusedRetry
}

// refuse marks a panel unavailable when the server refused its command;
// other failures (network) leave it as it was, to be retried next time.
func (n *node) refuse(p Panel, err error, now time.Time) {
	if isServerError(err) {
		n.refused[p] = refusal{reason: err.Error(), at: now}
	}
}

// requestSize is the RESP encoding length of a command: what the server
// reads from the poller.
func requestSize(args []any) int64 {
	size := 1 + digits(int64(len(args))) + 2
	for _, a := range args {
		l := int64(len(argString(a)))
		size += 1 + digits(l) + 2 + l + 2
	}
	return size
}

func argString(a any) string {
	switch t := a.(type) {
	case string:
		return t
	case int:
		return strconv.Itoa(t)
	}
	return ""
}

// replySize estimates the RESP encoding length of a reply. It is exact for
// RESP2 strings, integers and arrays; RESP3 differs by a few bytes.
func replySize(v any) int64 {
	switch t := v.(type) {
	case string:
		l := int64(len(t))
		return 1 + digits(l) + 2 + l + 2
	case int64:
		return 1 + digits(t) + 2
	case []any:
		size := 1 + digits(int64(len(t))) + 2
		for _, e := range t {
			size += replySize(e)
		}
		return size
	case map[any]any:
		size := 1 + digits(int64(len(t))) + 2
		for k, e := range t {
			size += replySize(k) + replySize(e)
		}
		return size
	case nil:
		return 5 // RESP2 "$-1\r\n"; RESP3's "_\r\n" is 3
	}
	return 8
}

func digits(n int64) int64 { return int64(len(strconv.FormatInt(n, 10))) }

func copyCounts(m map[string]int64) map[string]int64 { return maps.Clone(m) }

// extra sends a command on the node's connection between ticks (the
// cluster poller's CLUSTER INFO and topology reads), accounted as the
// poller's own so it never shows in the node's rates.
func (n *node) extra(ctx context.Context, name string, args ...any) (any, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, n.opts.Timeout)
	defer cancel()
	return n.call(ctx, name, args...)
}
