package connect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/rediserr"
	"github.com/cachescope/cachescope/internal/sanitize"
)

// Explain turns an error from connecting to or talking with Redis into one
// line for a person: what went wrong, in the server's or the network's
// words where they help, and what to do about it (which flag or setting).
// It never returns a stack trace or a multi-line text; server text in it is
// escaped (sanitize.Line). It does not know the secrets: use
// Target.Explain, which also redacts them. nil gives "".
func Explain(err error) string { return explain(err, hints{}) }

// Explain is the package's Explain for this target's errors, with the
// ACL user named, hints that depend on the settings (TLS), and the
// secrets removed.
func (t *Target) Explain(err error) string {
	return t.Redact(explain(err, hints{user: t.user(), tls: t.tls}))
}

// hints are what Explain knows of the connection.
type hints struct {
	user string
	tls  bool
}

// user is the ACL user the target authenticates as ("" for default).
func (t *Target) user() string {
	switch c := t.Client.(type) {
	case *redis.Client:
		return c.Options().Username
	case *redis.ClusterClient:
		return c.Options().Username
	}
	return t.config.Username
}

func explain(err error, c hints) string {
	if err == nil {
		return ""
	}
	return sanitize.Line(firstLine(explainRaw(err, c)))
}

func explainRaw(err error, c hints) string {
	var done rediserr.Explained
	if errors.As(err, &done) {
		return done.Error()
	}
	if msg, ok := explainTLS(err); ok {
		return msg
	}
	if msg, ok := explainReply(err, c.user); ok {
		return msg
	}
	if msg, ok := explainNetwork(err, c.tls); ok {
		return msg
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, redis.ErrClosed):
		return "the connection was closed by cachescope (shutting down)"
	}
	return err.Error()
}

// explainTLS recognizes certificate and handshake failures.
func explainTLS(err error) (string, bool) {
	var host x509.HostnameError
	if errors.As(err, &host) {
		valid := "no name"
		if c := host.Certificate; c != nil {
			var names []string
			names = append(names, c.DNSNames...)
			for _, ip := range c.IPAddresses {
				names = append(names, ip.String())
			}
			if len(names) == 0 && c.Subject.CommonName != "" {
				names = append(names, c.Subject.CommonName)
			}
			if len(names) > 0 {
				valid = strings.Join(names, ", ")
			}
		}
		return "TLS: the server's certificate is valid for " + valid + ", not " + host.Host +
			": connect with a name the certificate lists, or name one with --tls-server-name", true
	}
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		issuer := ""
		if c := unknown.Cert; c != nil && c.Issuer.CommonName != "" {
			issuer = " (" + c.Issuer.CommonName + ")"
		}
		return "TLS: the server's certificate is signed by an authority this machine does not trust" + issuer +
			": give its CA certificate with --tls-ca FILE (--insecure skips the check: only for a test server)", true
	}
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		return "TLS: the server's certificate is not valid: " + invalid.Error() +
			" (--tls-ca FILE names the CA to trust; --insecure skips the check: only for a test server)", true
	}
	var header tls.RecordHeaderError
	if errors.As(err, &header) {
		return "TLS: the server did not answer with TLS: this port speaks plain text; drop --tls (use redis://, not rediss://)", true
	}
	var alert tls.AlertError
	msg := err.Error()
	if errors.As(err, &alert) || strings.Contains(msg, "remote error: tls:") {
		switch {
		case strings.Contains(msg, "certificate required"):
			return "TLS: the server requires a client certificate: give one with --tls-cert FILE --tls-key FILE", true
		case strings.Contains(msg, "bad certificate"), strings.Contains(msg, "unknown certificate authority"), strings.Contains(msg, "unknown ca"):
			return "TLS: the server rejected the client certificate (" + msg + "): it must be signed by a CA the server trusts (its tls-ca-cert-file)", true
		}
		return "TLS handshake failed: " + msg, true
	}
	var verify *tls.CertificateVerificationError
	if errors.As(err, &verify) {
		return "TLS: the server's certificate could not be verified: " + msg, true
	}
	return "", false
}

// explainReply recognizes Redis error replies that need the user to act.
func explainReply(err error, user string) (string, bool) {
	msg, ok := rediserr.Reply(err)
	if !ok {
		return "", false
	}
	if r, ok := rediserr.NoPermission(err); ok {
		s := "permission denied (NOPERM): " + r.Describe(user)
		if g := r.Grant(); g != "" {
			name := user
			if name == "" {
				name = "default"
			}
			s += "; an administrator can grant it with ACL SETUSER " + name + " " + g + ", or connect as a user that has it (--user, or the URL's user)"
		}
		return s, true
	}
	// A password in --url is in the process arguments, which any user of
	// the machine can read with ps: the hints point at the environment
	// and the prompt instead.
	const passwordHint = "give the password in REDISCLI_AUTH or REDIS_PASSWORD, or type it at --askpass " +
		"(a URL with a password belongs in REDIS_URL=redis://user:password@host, not in --url, where ps shows it)"
	switch code := rediserr.Code(err); code {
	case "WRONGPASS":
		return "authentication failed (WRONGPASS): wrong user name or password. " + passwordHint + "; the user comes from --user, REDIS_USER or the URL", true
	case "NOAUTH":
		return "the server requires a password (NOAUTH): " + passwordHint, true
	case "LOADING":
		return "the server is loading its data set into memory (LOADING); it answers once done", true
	case "MASTERDOWN":
		return "the replica has lost its master (MASTERDOWN): " + msg, true
	case "CLUSTERDOWN":
		return "the cluster is down (CLUSTERDOWN): some hash slots are not served: " + msg, true
	case "READONLY":
		return "this server is a read-only replica (READONLY): connect to its master to write", true
	case "BUSY":
		return "the server is busy running a script (BUSY): " + msg, true
	}
	if strings.HasPrefix(msg, "ERR AUTH") || strings.Contains(msg, "without any password configured") {
		return "the server has no password set, but one was given: " + msg + " (unset REDISCLI_AUTH / REDIS_PASSWORD or drop it from the URL)", true
	}
	return "the server answered: " + msg, true
}

// explainNetwork recognizes what the network says.
func explainNetwork(err error, withTLS bool) (string, bool) {
	var op *net.OpError
	addr := ""
	if errors.As(err, &op) && op.Addr != nil {
		addr = op.Addr.String()
	}
	server, at := "the server", ""
	if addr != "" {
		server, at = "the server at "+addr, " "+addr
	}
	var dns *net.DNSError
	var nerr net.Error
	switch {
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "unknown host " + dns.Name + ": check the host name in --url or --host", true
		}
		return "cannot resolve " + dns.Name + ": " + dns.Err, true
	case errors.Is(err, syscall.ECONNREFUSED):
		if addr == "" {
			return "connection refused: no server listens there (is it running, and is the port right?)", true
		}
		return "connection refused by " + addr + ": no server listens there (is it running, and is the port right?)", true
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "cannot reach " + server + ": no route to the host (network or firewall)", true
	case withTLS && (errors.Is(err, context.DeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout()):
		// A plain-text server takes a TLS greeting for a command still
		// being typed, and waits.
		return "timed out: " + server + " did not answer in time; with TLS on, that is usually a port that speaks plain text (drop --tls, use redis://), or else a hung server or a firewall; --timeout sets the limit", true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return "timed out: " + server + " did not answer in time (a hung or overloaded server, a firewall dropping packets, or a TLS server reached without --tls); --timeout sets the limit", true
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "the server closed the connection" + at + " (if it requires TLS, use rediss:// or --tls; it may also limit clients or have dropped this one)", true
	}
	return "", false
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s
}
