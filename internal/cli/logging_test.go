package cli

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cachescope/cachescope/internal/connect"
)

// Every line of --log-file passes through the connection's redaction:
// go-redis' own lines (even with a secret quoted by %q) and the
// application's records, in the message, in attributes of every kind and
// in attributes given to With.
func TestLogFileIsRedacted(t *testing.T) {
	const password, sentinelPassword = `pa ss"word-42`, "sentinel-secret-7"
	path := filepath.Join(t.TempDir(), "cachescope.log")
	var d Deps
	if err := d.openLog(path); err != nil {
		t.Fatal(err)
	}
	cfg := connect.Config{URL: "redis://app:url-secret-9@127.0.0.1:1", Password: password, SentinelPassword: sentinelPassword}
	d.setLogSecrets(cfg.Redact)

	redisLogger{l: d.logger, secrets: d.logSecrets}.Printf(t.Context(), "redis: AUTH %q failed: %v (sentinel %s)",
		password, errors.New("WRONGPASS "+password), sentinelPassword)
	d.logger.With("url", cfg.URL).WithGroup("conn").Warn("connecting with "+password,
		"error", errors.New("ERR invalid password "+password),
		"sentinel", sentinelPassword,
		"config", struct{ Password string }{password},
		slog.Group("auth", "password", password),
		"port", 6379)
	d.closeLog()

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	t.Logf("log:\n%s", log)
	if lines := strings.Split(strings.TrimSpace(log), "\n"); len(lines) != 2 {
		t.Fatalf("want 2 lines, got %d", len(lines))
	}
	for _, want := range []string{"go-redis: redis: AUTH", "WRONGPASS ***", "connecting with ***", "conn.error=", "conn.port=6379"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	for _, secret := range []string{"pa ss", `ss\"word`, "word-42", sentinelPassword, "url-secret-9"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}
