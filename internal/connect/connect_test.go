package connect

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cachescope/cachescope/internal/redistest"
	"github.com/cachescope/cachescope/internal/sanitize"
)

func TestOpenStandaloneFromURLAndFlags(t *testing.T) {
	ctx := context.Background()
	tg, err := Open(ctx, Config{URL: "redis://app:s3cret@127.0.0.1:1/3"})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Client.Close()
	o := tg.Client.(*redis.Client).Options()
	if o.Username != "app" || o.Password != "s3cret" || o.DB != 3 || !o.ContextTimeoutEnabled || o.ClientName != "cachescope" {
		t.Fatalf("options %+v", o)
	}
	if tg.Mode != ModeStandalone || tg.Display != "127.0.0.1:1 db3" || !tg.Loopback {
		t.Fatalf("target %+v", tg)
	}
	if strings.Contains(tg.Display, "s3cret") {
		t.Fatal("password in display")
	}

	tg2, err := Open(ctx, Config{Host: "cache.internal", Port: 6380, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer tg2.Client.Close()
	if tg2.Display != "cache.internal:6380" || tg2.Loopback {
		t.Fatalf("remote target %+v", tg2)
	}
	if ok, why := WriteMode(tg2, false, false); ok || !strings.Contains(why, "--write") {
		t.Fatalf("remote server should default to read-only: %v %q", ok, why)
	}
	if ok, _ := WriteMode(tg2, true, false); !ok {
		t.Fatal("--write ignored")
	}
	if ok, _ := WriteMode(tg, false, true); ok {
		t.Fatal("--read-only ignored on loopback")
	}
	if ok, _ := WriteMode(tg, false, false); !ok {
		t.Fatal("loopback should default to write mode")
	}
}

func TestOpenUsageErrorsAndRedaction(t *testing.T) {
	ctx := context.Background()
	for name, c := range map[string]Config{
		"url and host":       {URL: "redis://localhost", Host: "x"},
		"sentinel no master": {Sentinels: []string{"a:1"}},
		"bad url":            {URL: "http://user:topsecret@host"},
		"negative db":        {DB: -1},
		"bad port":           {Port: 70000},
		"cert without key":   {TLS: true, Cert: "c.pem"},
		"missing ca file":    {TLS: true, CACert: "/nonexistent/ca.pem"},
		"cluster+sentinel":   {Cluster: true, Sentinels: []string{"a:1"}, MasterName: "m"},
	} {
		_, err := Open(ctx, c)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("%s: err = %v, want ErrUsage", name, err)
			continue
		}
		if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("%s: password leaked: %v", name, err)
		}
	}
	c := Config{URL: "redis://u:hunter2@h:1", SentinelPassword: "sentpw"}
	if got := c.Redact("dial redis://u:hunter2@h:1 failed, sentpw"); strings.Contains(got, "hunter2") || strings.Contains(got, "sentpw") {
		t.Fatalf("Redact = %q", got)
	}
	// Text is often escaped for the terminal before it is redacted: a
	// password with a backslash or a control character must not slip
	// through in its escaped form.
	c = Config{Password: "p\\ss\x1bword"}
	for _, text := range []string{"WRONGPASS for " + c.Password, sanitize.Line("WRONGPASS for " + c.Password)} {
		if got := c.Redact(text); strings.Contains(got, "ss") {
			t.Errorf("Redact(%q) = %q", text, got)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"localhost:6379": true, "127.0.0.1:1": true, "127.9.9.9": true, "[::1]:6379": true,
		"10.0.0.1:6379": false, "redis.example.com:6379": false, "LOCALHOST": true,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v", addr, got)
		}
	}
}

func TestDetectsClusterMode(t *testing.T) {
	cl := redistest.StartCluster(t, redistest.ClusterConfig{})
	tg, err := Open(context.Background(), Config{URL: "redis://" + cl.Nodes[1].Addr})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Client.Close()
	if tg.Mode != ModeCluster {
		t.Fatalf("mode %q, want cluster", tg.Mode)
	}
	if _, ok := tg.Client.(*redis.ClusterClient); !ok {
		t.Fatalf("client %T", tg.Client)
	}
	// A standalone server is not mistaken for one.
	s := redistest.Start(t)
	tg2, err := Open(context.Background(), Config{URL: "redis://" + s.Addr})
	if err != nil {
		t.Fatal(err)
	}
	defer tg2.Client.Close()
	if tg2.Mode != ModeStandalone {
		t.Fatalf("mode %q", tg2.Mode)
	}
}
