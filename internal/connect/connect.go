// Package connect turns the dashboard's connection settings (flags,
// environment, URL) into a go-redis client for a single server, a
// Sentinel-managed master or a Redis Cluster, and decides whether writes
// are allowed. Passwords never appear in what it returns for display, and
// Redact removes them from error text.
package connect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/sanitize"
)

// Config is what the user asked for. Zero values mean the defaults noted.
type Config struct {
	// URL is redis://[user[:password]@]host[:port][/db] or rediss:// for
	// TLS, or unix:///path/to.sock. Mutually exclusive with Host/Port.
	URL string
	// Host and Port default to localhost:6379.
	Host string
	Port int
	// Username and Password authenticate (AUTH / ACL). They override the
	// URL's.
	Username string
	Password string
	// DB selects a database on a single server.
	DB int

	// TLS turns TLS on (rediss:// does too). CACert, Cert and Key are PEM
	// files; Insecure skips certificate verification and is only honoured
	// when set explicitly; ServerName overrides the name checked.
	TLS        bool
	CACert     string
	Cert       string
	Key        string
	Insecure   bool
	ServerName string

	// Sentinels are sentinel addresses; with MasterName they resolve the
	// master through Sentinel and follow failovers.
	Sentinels        []string
	MasterName       string
	SentinelPassword string

	// Cluster forces Redis Cluster mode. Without it, cluster mode is
	// detected from the server (cluster_enabled:1).
	Cluster bool

	// ClientName is sent with CLIENT SETNAME so the dashboard's connections
	// are recognisable in CLIENT LIST. "" means "cachescope".
	ClientName string
	// Timeout bounds dialing and each command. 0 means 3s.
	Timeout time.Duration
}

// Mode names a deployment shape.
const (
	ModeStandalone = "standalone"
	ModeSentinel   = "sentinel"
	ModeCluster    = "cluster"
)

// Target is an opened connection.
type Target struct {
	// Client is the client for the deployment.
	Client redis.UniversalClient
	// Display names the target for the status bar, without secrets:
	// "127.0.0.1:6379 db0", "sentinel mymaster", "cluster 127.0.0.1:7000".
	Display string
	// Mode is ModeStandalone, ModeSentinel or ModeCluster.
	Mode string
	// Loopback is true when every address involved is on this machine
	// (loopback address, "localhost" or a unix socket).
	Loopback bool
	// Addrs are the addresses given (seed nodes, sentinels, or the server).
	Addrs []string

	config Config
	tls    bool
}

// ErrUsage marks a configuration the user must fix (conflicting flags, a
// malformed URL); commands exit with status 2 for it.
var ErrUsage = errors.New("usage")

// Open builds the client. It contacts the server only to detect cluster
// mode, and an unreachable server is not an error: the dashboard opens and
// shows it down.
func Open(ctx context.Context, c Config) (*Target, error) {
	if c.ClientName == "" {
		c.ClientName = "cachescope"
	}
	if c.Timeout == 0 {
		c.Timeout = 3 * time.Second
	}
	if c.URL != "" && (c.Host != "" || c.Port != 0) {
		return nil, fmt.Errorf("%w: give either a URL or host/port, not both", ErrUsage)
	}
	if (len(c.Sentinels) > 0) != (c.MasterName != "") {
		return nil, fmt.Errorf("%w: --sentinel and --master go together", ErrUsage)
	}
	base, err := c.baseOptions()
	if err != nil {
		return nil, err
	}
	t := &Target{config: c, tls: base.TLSConfig != nil}
	switch {
	case len(c.Sentinels) > 0:
		if c.Cluster {
			return nil, fmt.Errorf("%w: --cluster and --sentinel exclude each other", ErrUsage)
		}
		t.Mode, t.Addrs = ModeSentinel, c.Sentinels
		t.Display = "sentinel " + c.MasterName
		t.Client = redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: c.MasterName, SentinelAddrs: c.Sentinels, SentinelPassword: c.SentinelPassword,
			Username: base.Username, Password: base.Password, DB: base.DB, TLSConfig: base.TLSConfig,
			ClientName: base.ClientName, DialTimeout: base.DialTimeout, ReadTimeout: base.ReadTimeout,
			WriteTimeout: base.WriteTimeout, ContextTimeoutEnabled: true, MaxRetries: base.MaxRetries,
			DialerRetries: base.DialerRetries, PoolSize: base.PoolSize,
		})
	case c.Cluster || detectCluster(ctx, base):
		t.Mode, t.Addrs = ModeCluster, []string{base.Addr}
		t.Display = "cluster " + base.Addr
		t.Client = redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: t.Addrs, Username: base.Username, Password: base.Password, TLSConfig: base.TLSConfig,
			ClientName: base.ClientName, DialTimeout: base.DialTimeout, ReadTimeout: base.ReadTimeout,
			WriteTimeout: base.WriteTimeout, ContextTimeoutEnabled: true, MaxRetries: base.MaxRetries,
			DialerRetries: base.DialerRetries, PoolSize: base.PoolSize,
		})
	default:
		t.Mode, t.Addrs = ModeStandalone, []string{base.Addr}
		t.Display = base.Addr
		if base.Network == "unix" {
			t.Display = "unix:" + base.Addr
		}
		if base.DB != 0 {
			t.Display += " db" + strconv.Itoa(base.DB)
		}
		t.Client = redis.NewClient(base)
	}
	t.Loopback = true
	for _, a := range t.Addrs {
		if !(base.Network == "unix" && t.Mode == ModeStandalone) && !IsLoopback(a) {
			t.Loopback = false
		}
	}
	return t, nil
}

// Redact removes the configured secrets from s (an error message, a log
// line), so a password that a library echoed never reaches the screen.
func (t *Target) Redact(s string) string { return t.config.Redact(s) }

// Redact removes c's secrets from s, as they are and as sanitize.Line
// escapes them (text is often escaped before it is redacted: a password
// with a backslash or a control character would slip through).
func (c Config) Redact(s string) string {
	for _, secret := range []string{c.Password, c.SentinelPassword, urlPassword(c.URL)} {
		if secret == "" {
			continue
		}
		s = strings.ReplaceAll(s, secret, "***")
		if escaped := sanitize.Line(secret); escaped != secret {
			s = strings.ReplaceAll(s, escaped, "***")
		}
	}
	return s
}

func urlPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// baseOptions resolves URL, host/port, credentials and TLS into go-redis
// options for one server.
func (c Config) baseOptions() (*redis.Options, error) {
	var o *redis.Options
	if c.URL != "" {
		parsed, err := redis.ParseURL(c.URL)
		if err != nil {
			// The parser's message may quote the URL, password included.
			return nil, fmt.Errorf("%w: invalid --url: %s", ErrUsage, c.Redact(err.Error()))
		}
		o = parsed
	} else {
		host, port := c.Host, c.Port
		if host == "" {
			host = "localhost"
		}
		if port == 0 {
			port = 6379
		}
		if port < 0 || port > 65535 {
			return nil, fmt.Errorf("%w: port %d out of range", ErrUsage, port)
		}
		o = &redis.Options{Addr: net.JoinHostPort(host, strconv.Itoa(port))}
	}
	if c.Username != "" {
		o.Username = c.Username
	}
	if c.Password != "" {
		o.Password = c.Password
	}
	if c.DB != 0 {
		o.DB = c.DB
	}
	if c.DB < 0 {
		return nil, fmt.Errorf("%w: db %d is negative", ErrUsage, c.DB)
	}
	if c.TLS || c.CACert != "" || c.Cert != "" || c.Insecure || o.TLSConfig != nil {
		cfg, err := c.tlsConfig(o.TLSConfig, o.Addr)
		if err != nil {
			return nil, err
		}
		o.TLSConfig = cfg
	}
	o.ClientName = c.ClientName
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = c.Timeout, c.Timeout, c.Timeout
	o.ContextTimeoutEnabled = true
	// The dashboard shows failures as they happen; retries would only
	// delay them and replace the real cause with a deadline. (It tries
	// again on its next tick.)
	o.MaxRetries = -1
	o.DialerRetries = 1
	o.PoolSize = 8
	return o, nil
}

func (c Config) tlsConfig(from *tls.Config, addr string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if from != nil {
		cfg = from.Clone()
	}
	if host, _, err := net.SplitHostPort(addr); err == nil && cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if c.ServerName != "" {
		cfg.ServerName = c.ServerName
	}
	cfg.InsecureSkipVerify = c.Insecure
	if c.CACert != "" {
		pem, err := os.ReadFile(c.CACert)
		if err != nil {
			return nil, fmt.Errorf("%w: --tls-ca: %v", ErrUsage, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: --tls-ca %s holds no PEM certificate", ErrUsage, c.CACert)
		}
		cfg.RootCAs = pool
	}
	if (c.Cert == "") != (c.Key == "") {
		return nil, fmt.Errorf("%w: --tls-cert and --tls-key go together", ErrUsage)
	}
	if c.Cert != "" {
		pair, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: client certificate: %v", ErrUsage, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// detectCluster asks the server whether it runs in cluster mode. An
// unreachable server counts as not a cluster; --cluster forces it.
func detectCluster(ctx context.Context, o *redis.Options) bool {
	probe := *o
	probe.PoolSize = 1
	rdb := redis.NewClient(&probe)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, min(o.DialTimeout, 2*time.Second))
	defer cancel()
	info, err := rdb.Info(ctx, "cluster").Result()
	return err == nil && strings.Contains(info, "cluster_enabled:1")
}

// IsLoopback reports whether addr (host:port or host) is on this machine.
func IsLoopback(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
