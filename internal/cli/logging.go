package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// openLog sets up --log-file (or discards logs), and sends go-redis' own
// log lines there too: by default it prints them to stderr, which would
// scribble over the dashboard and clutter a script's output. Every record
// passes through the connection's redaction (see setLogSecrets).
func (d *Deps) openLog(path string) error {
	d.logSecrets = &logRedactor{}
	d.logger, d.closeLog = slog.New(slog.DiscardHandler), func() {}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return usagef("--log-file: %v", err)
		}
		handler := redactingHandler{next: slog.NewTextHandler(f, nil), secrets: d.logSecrets}
		d.logger, d.closeLog = slog.New(handler), func() { _ = f.Close() }
	}
	redis.SetLogger(redisLogger{l: d.logger, secrets: d.logSecrets})
	return nil
}

// setLogSecrets makes the log remove what redact removes (the
// connection's passwords). The log opens before the connection flags are
// resolved (--askpass prompts after), but before anything connects.
func (d *Deps) setLogSecrets(redact func(string) string) {
	if d.logSecrets != nil {
		d.logSecrets.redact.Store(&redact)
	}
}

// redisLogger routes go-redis' log lines to slog. It redacts the
// arguments before formatting too: a verb such as %q would escape a
// secret past recognition in the formatted line.
type redisLogger struct {
	l       *slog.Logger
	secrets *logRedactor
}

func (r redisLogger) Printf(_ context.Context, format string, v ...any) {
	args := make([]any, len(v))
	for i, a := range v {
		switch a := a.(type) {
		case string:
			args[i] = r.secrets.apply(a)
		case error:
			args[i] = r.secrets.apply(a.Error())
		default:
			args[i] = a
		}
	}
	r.l.Warn("go-redis: " + fmt.Sprintf(format, args...))
}

// logRedactor holds the redaction of the log, set once the secrets are
// known.
type logRedactor struct {
	redact atomic.Pointer[func(string) string]
}

func (r *logRedactor) apply(s string) string {
	if f := r.redact.Load(); f != nil {
		return (*f)(s)
	}
	return s
}

// redactingHandler removes the secrets from a record's message and
// attributes before next formats it (formatting may quote and escape a
// secret past recognition). Attributes given to With are redacted with
// the secrets known then.
type redactingHandler struct {
	next    slog.Handler
	secrets *logRedactor
}

func (h redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h redactingHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.secrets.apply(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return redactingHandler{next: h.next.WithAttrs(red), secrets: h.secrets}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{next: h.next.WithGroup(name), secrets: h.secrets}
}

// attr redacts one attribute: strings, groups, and any other value (an
// error, a struct) whose printed form holds a secret, which then logs as
// its redacted text.
func (h redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.secrets.apply(v.String()))
	case slog.KindGroup:
		group := v.Group()
		red := make([]slog.Attr, len(group))
		for i, g := range group {
			red[i] = h.attr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindAny:
		text := fmt.Sprintf("%+v", v.Any())
		if red := h.secrets.apply(text); red != text {
			return slog.String(a.Key, red)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
