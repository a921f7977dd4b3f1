package connect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cachescope/cachescope/internal/redistest"
)

// ping opens cfg and pings, returning the target and the error.
func ping(t *testing.T, cfg Config) (*Target, error) {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	tg, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tg.Client.Close() })
	return tg, tg.Client.Ping(context.Background()).Err()
}

// checkLine fails unless msg is one line with every part in it.
func checkLine(t *testing.T, what, msg string, parts ...string) {
	t.Helper()
	if strings.ContainsAny(msg, "\r\n") || strings.Contains(msg, "goroutine") {
		t.Errorf("%s: not one clean line: %q", what, msg)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("%s: %q lacks %q", what, msg, p)
		}
	}
}

func TestExplainAuthAndPermission(t *testing.T) {
	t.Parallel()
	s := redistest.StartACL(t)
	if err := s.Client(t).ConfigSet(context.Background(), "requirepass", "right-secret").Err(); err != nil {
		t.Fatal(err)
	}
	tg, err := ping(t, Config{URL: "redis://" + s.Addr, Password: "wrong-secret"})
	msg := tg.Explain(err)
	checkLine(t, "wrong password", msg, "WRONGPASS", "REDISCLI_AUTH", "REDIS_PASSWORD", "--askpass", "REDIS_URL=redis://user:password@host", "not in --url")
	if strings.Contains(msg, "wrong-secret") {
		t.Fatalf("the password leaked: %q", msg)
	}
	_, err = ping(t, Config{URL: "redis://" + s.Addr})
	noauth := Explain(err)
	checkLine(t, "no password", noauth, "NOAUTH", "REDISCLI_AUTH", "REDIS_PASSWORD", "--askpass", "REDIS_URL=redis://user:password@host", "not in --url")
	// The password in the process arguments is what ps shows: no hint
	// may suggest a URL with a password anywhere but in REDIS_URL.
	for what, hint := range map[string]string{"wrong password": msg, "no password": noauth} {
		if i := strings.Index(hint, "redis://user:password@"); i < 0 || !strings.HasSuffix(hint[:i], "REDIS_URL=") || strings.Count(hint, "password@") != 1 {
			t.Errorf("%s: the hint offers a password URL outside REDIS_URL: %q", what, hint)
		}
	}

	tg, err = ping(t, Config{URL: "redis://" + s.Addr, Username: redistest.ReadOnlyUser, Password: redistest.ReadOnlyPassword})
	if err != nil {
		t.Fatal(err)
	}
	err = tg.Client.Unlink(context.Background(), "k").Err()
	checkLine(t, "NOPERM", tg.Explain(err), "NOPERM", `the ACL user "viewer" lacks permission for UNLINK`, "ACL SETUSER viewer +unlink")
	err = tg.Client.Set(context.Background(), "k", "v", 0).Err()
	checkLine(t, "NOPERM set", tg.Explain(fmt.Errorf("writing: %w", err)), "lacks permission for SET")
}

func TestExplainTLS(t *testing.T) {
	t.Parallel()
	s, files := redistest.StartTLS(t, "optional")
	// Right: the CA given, the name matches.
	if _, err := ping(t, Config{URL: "rediss://" + s.Addr, CACert: files.CA}); err != nil {
		t.Fatalf("TLS with the CA: %v", err)
	}
	// The name does not match the certificate.
	_, err := ping(t, Config{URL: "rediss://" + s.Addr, CACert: files.CA, ServerName: "cache.example.com"})
	checkLine(t, "name mismatch", Explain(err), "valid for localhost, 127.0.0.1, not cache.example.com", "--tls-server-name")
	// The CA is not given.
	_, err = ping(t, Config{URL: "rediss://" + s.Addr})
	checkLine(t, "unknown authority", Explain(err), "authority", "--tls-ca", "--insecure")
	// --insecure skips the check.
	if _, err := ping(t, Config{URL: "rediss://" + s.Addr, Insecure: true}); err != nil {
		t.Fatalf("--insecure: %v", err)
	}
	// Plain text to a TLS port.
	_, err = ping(t, Config{URL: "redis://" + s.Addr, Timeout: 500 * time.Millisecond})
	checkLine(t, "plain to TLS", Explain(err), "TLS")

	// TLS to a plain port.
	plain := redistest.Start(t)
	tg, err := ping(t, Config{URL: "rediss://" + plain.Addr, CACert: files.CA, Timeout: 300 * time.Millisecond})
	checkLine(t, "TLS to plain", tg.Explain(err), "plain text", "drop --tls")

	// A server that requires a client certificate.
	strict, strictFiles := redistest.StartTLS(t, "yes")
	_, err = ping(t, Config{URL: "rediss://" + strict.Addr, CACert: strictFiles.CA})
	checkLine(t, "client certificate", Explain(err), "client certificate", "--tls-cert")
	if _, err := ping(t, Config{URL: "rediss://" + strict.Addr, CACert: strictFiles.CA, Cert: strictFiles.ClientCert, Key: strictFiles.ClientKey}); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
}

func TestExplainNetwork(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t)
	addr := s.Addr
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	_, err := ping(t, Config{URL: "redis://" + addr})
	checkLine(t, "refused", Explain(err), "connection refused by "+addr, "is it running")

	hung := redistest.Start(t)
	if err := hung.Pause(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hung.Resume() }()
	_, err = ping(t, Config{URL: "redis://" + hung.Addr, Timeout: 300 * time.Millisecond})
	checkLine(t, "hung", Explain(err), "timed out", "--timeout")

	dns := &net.DNSError{Err: "no such host", Name: "cache.nowhere", IsNotFound: true}
	checkLine(t, "dns", Explain(&net.OpError{Op: "dial", Err: dns}), "unknown host cache.nowhere")
	checkLine(t, "canceled", Explain(context.Canceled), "interrupted")
	checkLine(t, "other", Explain(errors.New("first\nsecond \x1b[31m")), "first")
	if Explain(nil) != "" {
		t.Error("Explain(nil)")
	}
	// Server text is escaped.
	if got := Explain(errors.New("bad \x1b[2J")); strings.Contains(got, "\x1b") {
		t.Errorf("escape sequence passed: %q", got)
	}
}
