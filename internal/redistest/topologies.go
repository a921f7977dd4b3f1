package redistest

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redisproc"
)

// SentinelConfig describes a Sentinel-managed master.
type SentinelConfig = redisproc.SentinelConfig

// SentinelGroup is a running master, its replicas and their sentinels.
type SentinelGroup = redisproc.SentinelGroup

// TLSFiles are the PEM files of a test CA, server and client certificate.
type TLSFiles = redisproc.TLSFiles

// StartSentinel starts a master, its replicas and sentinels for one test
// (one master, one replica and three sentinels by default, with a 1s
// down-after so a failover takes a few seconds) and stops them all when
// the test ends.
func StartSentinel(tb testing.TB, cfg SentinelConfig) *SentinelGroup {
	tb.Helper()
	Require(tb)
	g, err := redisproc.StartSentinel(cfg)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(func() { _ = g.Close() })
	return g
}

// StartTLS starts a server that speaks TLS only, with a CA, a server
// certificate for localhost and 127.0.0.1 and a client certificate
// generated for the test. authClients is tls-auth-clients ("yes",
// "optional", "no"; "" means optional). The server's Options trust the CA
// and present the client certificate.
func StartTLS(tb testing.TB, authClients string, args ...string) (*Server, *TLSFiles) {
	tb.Helper()
	Require(tb)
	files, err := redisproc.GenerateTLS(tb.TempDir())
	if err != nil {
		tb.Fatalf("redistest: generating certificates: %v", err)
	}
	files.AuthClients = authClients
	s, err := redisproc.Start(Config{TLS: files, Args: args})
	if err != nil {
		tb.Fatalf("redistest: TLS server (is redis-server built with TLS? `redis-server --tls-port` must be accepted): %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s, files
}

// The users StartACL creates, and their passwords.
const (
	// ReadOnlyUser may read everything the dashboard shows and write
	// nothing: see ReadOnlyACL.
	ReadOnlyUser     = "viewer"
	ReadOnlyPassword = "viewer-secret"
	// WriterUser may run every command.
	WriterUser     = "operator"
	WriterPassword = "operator-secret"
)

// ReadOnlyACL are the ACL rules of ReadOnlyUser: the commands a read-only
// dashboard sends (stats, the keyspace explorer's reads, slowlog and
// latency, the pub/sub tap and channel list, cluster discovery, the
// connection handshake) on every key and channel, and no command that
// writes.
var ReadOnlyACL = []string{
	"on", "resetkeys", "~*", "resetchannels", "&*", "-@all",
	// The connection handshake and health.
	"+hello", "+auth", "+ping", "+select", "+client|setname", "+client|info", "+command",
	// Statistics.
	"+info", "+slowlog|get", "+latency|histogram", "+latency|latest", "+config|get",
	"+cluster|info", "+cluster|shards", "+cluster|nodes", "+cluster|slots", "+readonly",
	// The keyspace explorer and analysis.
	"+scan", "+dbsize", "+type", "+exists", "+ttl", "+pttl", "+memory|usage", "+object",
	"+get", "+getrange", "+strlen", "+mget", "+hlen", "+hget", "+hgetall", "+hscan",
	"+lrange", "+llen", "+sscan", "+scard", "+zrange", "+zrevrange", "+zcard", "+zscan",
	"+xrange", "+xrevrange", "+xlen",
	// Pub/sub: the channel list and the tap.
	"+pubsub", "+subscribe", "+psubscribe", "+ssubscribe", "+unsubscribe", "+punsubscribe", "+sunsubscribe",
}

// StartACL starts a server with two ACL users besides the default one
// (which stays open for the test's own setup): ReadOnlyUser with
// ReadOnlyACL, and WriterUser with every permission. args are extra
// redis-server arguments.
func StartACL(tb testing.TB, args ...string) *Server {
	tb.Helper()
	s := Start(tb, args...)
	admin := redis.NewClient(s.Options())
	defer admin.Close()
	if err := SetupACL(context.Background(), admin); err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	return s
}

// SetupACL creates ReadOnlyUser and WriterUser on the server admin talks
// to.
func SetupACL(ctx context.Context, admin redis.UniversalClient) error {
	ro := []any{"acl", "setuser", ReadOnlyUser, "reset", ">" + ReadOnlyPassword}
	for _, r := range ReadOnlyACL {
		ro = append(ro, r)
	}
	if err := admin.Do(ctx, ro...).Err(); err != nil {
		return err
	}
	return admin.Do(ctx, "acl", "setuser", WriterUser, "reset", "on", ">"+WriterPassword, "~*", "&*", "+@all").Err()
}

// ACLOptions returns options for the server s as user with password.
func ACLOptions(s *Server, user, password string) *redis.Options {
	o := s.Options()
	o.Username, o.Password = user, password
	return o
}
