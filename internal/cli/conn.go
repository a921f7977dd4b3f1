package cli

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/cachescope/cachescope/internal/connect"
)

// connFlags are the connection flags every command shares.
type connFlags struct {
	url, host, user   string
	port, db          int
	askpass           bool
	tls, insecure     bool
	caCert, cert, key string
	serverName        string
	sentinels         []string
	master            string
	cluster           bool
	write, readOnly   bool
	timeout           time.Duration
	logFile           string
}

func (f *connFlags) register(cmd *cobra.Command) {
	p := cmd.PersistentFlags()
	p.StringVar(&f.url, "url", "", "redis:// or rediss:// URL (env REDIS_URL)")
	p.StringVar(&f.host, "host", "", "server host (env REDIS_HOST; default localhost)")
	p.IntVar(&f.port, "port", 0, "server port (env REDIS_PORT; default 6379)")
	p.StringVar(&f.user, "user", "", "ACL user name (env REDIS_USER)")
	p.IntVar(&f.db, "db", 0, "database number")
	p.BoolVar(&f.askpass, "askpass", false, "prompt for the password")
	p.BoolVar(&f.tls, "tls", false, "connect with TLS")
	p.StringVar(&f.caCert, "tls-ca", "", "CA certificate (PEM) to verify the server")
	p.StringVar(&f.cert, "tls-cert", "", "client certificate (PEM)")
	p.StringVar(&f.key, "tls-key", "", "client key (PEM)")
	p.StringVar(&f.serverName, "tls-server-name", "", "server name to verify")
	p.BoolVar(&f.insecure, "insecure", false, "skip TLS certificate verification (dangerous)")
	p.StringSliceVar(&f.sentinels, "sentinel", nil, "sentinel addresses (host:port,...), with --master")
	p.StringVar(&f.master, "master", "", "master name to resolve through the sentinels")
	p.BoolVar(&f.cluster, "cluster", false, "force Redis Cluster mode (detected otherwise)")
	p.BoolVar(&f.write, "write", false, "allow writes (default only for a server on this machine)")
	p.BoolVar(&f.readOnly, "read-only", false, "refuse every write")
	p.DurationVar(&f.timeout, "timeout", 3*time.Second, "timeout for connecting and for each command")
	p.StringVar(&f.logFile, "log-file", "", "write logs to this file (the dashboard never logs to the terminal)")
}

// config resolves flags, then the environment, into a connection config.
// The password never comes from a flag.
func (f *connFlags) config(d *Deps) (connect.Config, error) {
	if f.write && f.readOnly {
		return connect.Config{}, usagef("--write and --read-only exclude each other")
	}
	c := connect.Config{
		URL: f.url, Host: f.host, Port: f.port, Username: f.user, DB: f.db,
		TLS: f.tls, CACert: f.caCert, Cert: f.cert, Key: f.key, Insecure: f.insecure, ServerName: f.serverName,
		Sentinels: f.sentinels, MasterName: f.master, Cluster: f.cluster, Timeout: f.timeout,
	}
	if c.URL == "" && c.Host == "" && c.Port == 0 {
		c.URL = os.Getenv("REDIS_URL")
	}
	if c.URL == "" {
		if c.Host == "" {
			c.Host = os.Getenv("REDIS_HOST")
		}
		if c.Port == 0 {
			if p := os.Getenv("REDIS_PORT"); p != "" {
				n, err := strconv.Atoi(p)
				if err != nil {
					return c, usagef("REDIS_PORT=%q is not a port number", p)
				}
				c.Port = n
			}
		}
	}
	if c.Username == "" {
		c.Username = os.Getenv("REDIS_USER")
	}
	for _, env := range []string{"REDISCLI_AUTH", "REDIS_PASSWORD"} {
		if c.Password == "" {
			c.Password = os.Getenv(env)
		}
	}
	c.SentinelPassword = os.Getenv("REDIS_SENTINEL_PASSWORD")
	if f.askpass {
		pw, err := askPassword(d)
		if err != nil {
			return c, err
		}
		c.Password = pw
	}
	d.setLogSecrets(c.Redact)
	return c, nil
}

// askPassword reads a password from the terminal without echo.
func askPassword(d *Deps) (string, error) {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return "", usagef("--askpass needs a terminal: %v", err)
	}
	defer tty.Close()
	fmt.Fprint(d.Stderr, "Redis password: ")
	pw, err := term.ReadPassword(tty.Fd())
	fmt.Fprintln(d.Stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return strings.TrimRight(string(pw), "\r\n"), nil
}

// open resolves the flags and opens the connection.
func (f *connFlags) open(ctx context.Context, d *Deps) (*connect.Target, error) {
	cfg, err := f.config(d)
	if err != nil {
		return nil, err
	}
	return connect.Open(ctx, cfg)
}
