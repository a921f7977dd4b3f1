package monitor

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnsupportedClient is the error of every tick of a poller given a
// *redis.Ring: a ring's shards are not a deployment the poller knows how
// to discover. Connect to one shard instead. (A *redis.ClusterClient is
// supported: every node is polled.)
var ErrUnsupportedClient = errors.New("monitor: ring clients are not supported; connect to a single shard")

// errorReason returns a short label for err, for a status bar. Errors from
// Redis keep their own code ("NOAUTH", "WRONGPASS", "NOPERM", "LOADING");
// network failures get a plain name.
func errorReason(err error) string {
	if err == nil {
		return ""
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		code, _, _ := strings.Cut(msg, " ")
		if code != "" && code != "ERR" && strings.ToUpper(code) == code {
			return code
		}
		return msg
	}
	var nerr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection lost"
	case errors.Is(err, redis.ErrClosed):
		return "client closed"
	case errors.Is(err, ErrUnsupportedClient):
		return "unsupported client"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "unknown host"
	}
	return err.Error()
}

// isServerError reports whether err is a reply from Redis (as opposed to a
// network or client failure).
func isServerError(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr)
}

// errorPrefix is the first word of a Redis error, as errorstats counts it.
func errorPrefix(err error) string {
	prefix, _, _ := strings.Cut(err.Error(), " ")
	return prefix
}

// rejectedBeforeRunning reports whether a refused command never ran, so the
// server did not count it in total_commands_processed or commandstats calls
// (it still counts the error reply).
func rejectedBeforeRunning(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "NOPERM") || strings.HasPrefix(msg, "ERR unknown command") ||
		strings.HasPrefix(msg, "ERR unknown subcommand") || strings.HasPrefix(msg, "NOAUTH")
}

// rttStats returns min, mean and max of the round trips in r.
func rttStats(r *ring[time.Duration]) (lo, avg, hi time.Duration) {
	n := r.len()
	if n == 0 {
		return 0, 0, 0
	}
	var sum time.Duration
	lo, hi = r.at(0), r.at(0)
	for i := 0; i < n; i++ {
		d := r.at(i)
		sum += d
		lo, hi = min(lo, d), max(hi, d)
	}
	return lo, sum / time.Duration(n), hi
}
